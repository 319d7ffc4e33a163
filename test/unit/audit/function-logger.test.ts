import { functionLogger } from '../../../shared/audit/function-logger';

/** The `service` of one line the logger writes. */
function serviceOf(env: Record<string, string | undefined>): unknown {
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    functionLogger('payments', env).info('payment forwarded');
  } finally {
    write.mockRestore();
  }
  expect(lines).toHaveLength(1);
  return (JSON.parse(lines[0]!) as { service?: unknown }).service;
}

describe('functionLogger', () => {
  it("logs under the audit trail's service: POWERTOOLS_SERVICE_NAME, else the function's name, else the fallback", () => {
    expect(serviceOf({ POWERTOOLS_SERVICE_NAME: 'checkout', AWS_LAMBDA_FUNCTION_NAME: 'prod-payments' })).toBe('checkout');
    expect(serviceOf({ AWS_LAMBDA_FUNCTION_NAME: 'prod-payments' })).toBe('prod-payments');
    expect(serviceOf({ POWERTOOLS_SERVICE_NAME: '', AWS_LAMBDA_FUNCTION_NAME: '' })).toBe('payments');
    expect(serviceOf({})).toBe('payments');
  });
});
