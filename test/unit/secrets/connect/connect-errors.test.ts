import { ConnectError } from '../../../../shared/secrets/errors';
import { codeForStatus, parseRetryAfter, toConnectError } from '../../../../shared/secrets/connect/connect-errors';

const TOKEN = 'opl-unit-token-q7w3e9r1t5y2u8';
const VALUE = 'SEEDVALUE-unit-secret-6h2j4k';

/** Everything an error exposes when logged or serialised, its causes included. */
function exposed(error: ConnectError): string {
  const parts: string[] = [];
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    parts.push(current.message, String(current), JSON.stringify(current), current.stack ?? '');
  }
  return parts.join('\n');
}

describe('toConnectError: the {status, message} shape', () => {
  it.each([
    [400, 'BAD_REQUEST', false],
    [401, 'UNAUTHORIZED', false],
    [403, 'FORBIDDEN', false],
    [404, 'NOT_FOUND', false],
    [408, 'TIMEOUT', true],
    [409, 'BAD_REQUEST', false],
    [429, 'RATE_LIMITED', true],
    [500, 'SERVER', true],
    [503, 'SERVER', true],
  ] as const)('status %d is %s (retryable: %s)', (status, code, retryable) => {
    const error = toConnectError({ status, message: 'vault abc is not in scope' });
    expect(error).toBeInstanceOf(ConnectError);
    expect(error).toMatchObject({ code, status, retryable });
    expect((error.cause as Error).message).toBe('Connect said: vault abc is not in scope');
  });

  it('reads the SDK\'s "Found multiple ..." 400 as AMBIGUOUS', () => {
    expect(toConnectError({ status: 400, message: 'Found multiple vaults with given title' })).toMatchObject({ code: 'AMBIGUOUS', status: 400 });
  });

  it('keeps Connect\'s message printable and short', () => {
    const error = toConnectError({ status: 500, message: `line\nbreak ${'x'.repeat(500)}` });
    const cause = (error.cause as Error).message;
    expect(cause).not.toContain('\n');
    expect(cause.length).toBeLessThan(230);
  });
});

describe('toConnectError: a bare string', () => {
  it('is a retryable INVALID_RESPONSE that does not repeat the string', () => {
    const error = toConnectError(`<html>${VALUE}</html>`);
    expect(error).toMatchObject({ code: 'INVALID_RESPONSE', retryable: true, status: undefined });
    expect(exposed(error)).not.toContain(VALUE);
  });
});

describe('toConnectError: an AxiosError', () => {
  function axiosError(extra: Record<string, unknown>): Record<string, unknown> {
    return {
      isAxiosError: true,
      name: 'AxiosError',
      message: 'Request failed',
      config: { url: 'https://connect.example.com/v1/vaults', headers: { authorization: `Bearer ${TOKEN}` } },
      request: { _header: `GET /v1/vaults HTTP/1.1\r\nauthorization: Bearer ${TOKEN}\r\n` },
      toJSON: () => ({ config: { headers: { authorization: `Bearer ${TOKEN}` } } }),
      ...extra,
    };
  }

  it('with a response: code from the status, Retry-After read, nothing of the config kept', () => {
    const error = toConnectError(
      axiosError({ code: 'ERR_BAD_RESPONSE', response: { status: 503, data: { value: VALUE }, headers: { 'retry-after': '7' } } }),
      'op://v/i/f',
    );
    expect(error).toMatchObject({ code: 'SERVER', status: 503, retryAfterMs: 7_000, retryable: true, reference: 'op://v/i/f' });
    expect(error.message).toContain('(op://v/i/f)');
    const text = exposed(error);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(VALUE);
    expect(text).not.toMatch(/authorization|connect\.example\.com/i);
    expect(Object.keys(error.cause as object)).toEqual([]);
  });

  it.each([
    ['ECONNABORTED', 'TIMEOUT'],
    ['ETIMEDOUT', 'TIMEOUT'],
    ['ERR_CANCELED', 'TIMEOUT'],
    ['ECONNREFUSED', 'NETWORK'],
    ['ECONNRESET', 'NETWORK'],
    ['ENOTFOUND', 'NETWORK'],
    [undefined, 'NETWORK'],
  ])('without a response, code %s is %s', (code, expected) => {
    const error = toConnectError(axiosError(code === undefined ? {} : { code }));
    expect(error).toMatchObject({ code: expected, retryable: true, status: undefined });
    expect(exposed(error)).not.toContain(TOKEN);
  });
});

describe('toConnectError: an Error', () => {
  it.each([
    [new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'TIMEOUT'],
    [new DOMException('This operation was aborted', 'AbortError'), 'TIMEOUT'],
    [new SyntaxError('Unexpected token < in JSON at position 0'), 'INVALID_RESPONSE'],
    [new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) }), 'NETWORK'],
    [new TypeError('terminated', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }), 'NETWORK'],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'NETWORK'],
    [Object.assign(new Error('read timeout'), { code: 'ETIMEDOUT' }), 'TIMEOUT'],
    [new Error('something else entirely'), 'NETWORK'],
  ])('%s is %s', (raw, code) => {
    const error = toConnectError(raw);
    expect(error).toMatchObject({ code, retryable: true });
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.cause).not.toBe(raw);
  });

  it('names the system error code of a nested cause', () => {
    const raw = new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
    expect(toConnectError(raw).message).toContain('ECONNRESET');
  });

  it('recognises errors from another realm by shape', () => {
    expect(toConnectError({ name: 'TimeoutError', message: 'timed out' })).toMatchObject({ code: 'TIMEOUT' });
    expect(toConnectError({ name: 'TypeError', message: 'fetch failed', cause: { code: 'ECONNREFUSED' } })).toMatchObject({ code: 'NETWORK' });
  });
});

describe('toConnectError: everything else', () => {
  it('passes a ConnectError through, attributing it to the reference when given', () => {
    const original = new ConnectError('FORBIDDEN', 'no', { status: 403 });
    expect(toConnectError(original)).toBe(original);
    const attributed = toConnectError(original, 'op://v/i/f');
    expect(attributed).toMatchObject({ code: 'FORBIDDEN', status: 403, reference: 'op://v/i/f', message: 'no (op://v/i/f)' });
    expect(toConnectError(attributed, 'op://v/i/f')).toBe(attributed);
  });

  it.each([null, undefined, 42, true, { unexpected: 'shape' }])('%p becomes a retryable NETWORK error', (raw) => {
    expect(toConnectError(raw)).toMatchObject({ code: 'NETWORK', retryable: true });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');
  it.each([
    ['5', 5_000],
    [' 5 ', 5_000],
    ['0', 0],
    ['999999', 3_600_000],
    ['Sat, 01 Mar 2025 12:00:30 GMT', 30_000],
    ['Sat, 01 Mar 2025 11:00:00 GMT', 0],
    ['-1', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['', undefined],
    [null, undefined],
    [undefined, undefined],
  ])('%p is %p ms', (header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });
});

describe('codeForStatus', () => {
  it('maps redirects and other unexpected statuses to INVALID_RESPONSE', () => {
    expect(codeForStatus(302)).toBe('INVALID_RESPONSE');
    expect(codeForStatus(418)).toBe('BAD_REQUEST');
    expect(codeForStatus(599)).toBe('SERVER');
  });
});
