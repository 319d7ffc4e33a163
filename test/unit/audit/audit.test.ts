import { SecretAudit, isoTimestamp } from '../../../shared/audit/audit';
import { principalOf, routeOf } from '../../../shared/audit/principal';
import { ConnectError } from '../../../shared/secrets/errors';
import { httpApiEvent, restApiEvent } from '../../helpers/middleware-fakes';

/** Every line written to stdout or stderr (Powertools sends WARN there) while `run` runs, parsed. */
function stdoutLines(run: () => void): Record<string, unknown>[] {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
  try {
    run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  const lines = chunks.join('').split('\n').filter(Boolean);
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

const emf = (line: Record<string, unknown>): { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] } =>
  (line['_aws'] as { CloudWatchMetrics: [{ Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }] }).CloudWatchMetrics[0];

const withEnv = (env: Record<string, string>, run: () => void): void => {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    run();
  } finally {
    process.env = saved;
  }
};

describe('SecretAudit through Powertools', () => {
  // Powertools prints to the global console in dev mode and always disables metrics there.
  const env = { POWERTOOLS_DEV: 'false', POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_LOG_LEVEL: 'INFO' };

  it('writes secret.fetch as one JSON line, and SecretFetch / SecretFetchLatency as EMF', () => {
    withEnv(env, () => {
      const audit = new SecretAudit({ serviceName: 'payments' });
      const lines = stdoutLines(() =>
        audit.fetched(
          { references: ['op://payments/stripe/credential'], vaultId: 'v'.repeat(26), itemId: 'i'.repeat(26), itemVersion: 3, latencyMs: 42, attempts: 2, outcome: 'success' },
          true,
        ),
      );
      expect(lines).toHaveLength(2);
      const [event, metrics] = lines as [Record<string, unknown>, Record<string, unknown>];
      expect(event).toMatchObject({
        level: 'INFO',
        message: 'secret.fetch',
        event: 'secret.fetch',
        service: 'payments',
        references: ['op://payments/stripe/credential'],
        vaultId: 'v'.repeat(26),
        itemId: 'i'.repeat(26),
        itemVersion: 3,
        latencyMs: 42,
        attempts: 2,
        outcome: 'success',
        coldStart: true,
      });
      expect(emf(metrics)).toEqual({
        Namespace: 'OpLambda',
        Dimensions: [['service']],
        Metrics: expect.arrayContaining([
          { Name: 'SecretFetch', Unit: 'Count' },
          { Name: 'SecretFetchLatency', Unit: 'Milliseconds' },
        ]),
      });
      expect(metrics).toMatchObject({ service: 'payments', SecretFetch: 1, SecretFetchLatency: 42 });
    });
  });

  it('writes secret.failure with code, status and retryable, and SecretFailure', () => {
    withEnv(env, () => {
      const audit = new SecretAudit({ serviceName: 'payments' });
      const error = new ConnectError('FORBIDDEN', 'vault out of scope', { status: 403, reference: 'op://prod/stripe/credential' });
      const lines = stdoutLines(() => audit.failed(['STRIPE_KEY'], 'op://prod/stripe/credential', { error, servingStale: false, retryAfterMs: 1000 }));
      expect(lines[0]).toMatchObject({
        level: 'WARN',
        event: 'secret.failure',
        names: ['STRIPE_KEY'],
        reference: 'op://prod/stripe/credential',
        code: 'FORBIDDEN',
        status: 403,
        retryable: false,
        servingStale: false,
        retryAfterMs: 1000,
      });
      expect(emf(lines[1]!).Metrics).toEqual([{ Name: 'SecretFailure', Unit: 'Count' }]);
    });
  });

  it('writes secret.stale with SecretStaleServed, and secret.refresh', () => {
    withEnv(env, () => {
      const audit = new SecretAudit({ serviceName: 'payments' });
      const lines = stdoutLines(() => {
        audit.stale(['STRIPE_KEY'], 'op://prod/stripe/credential', { ageMs: 90_000, error: new ConnectError('TIMEOUT', 'deadline passed') });
        audit.refreshed(['STRIPE_KEY'], 'op://prod/stripe/credential', { previousItemVersion: 3, itemVersion: 4, changed: true });
      });
      expect(lines.map((line) => line['event'] ?? 'metrics')).toEqual(['secret.stale', 'metrics', 'secret.refresh']);
      expect(lines[0]).toMatchObject({ ageMs: 90_000, code: 'TIMEOUT', retryable: true });
      expect(emf(lines[1]!).Metrics).toEqual([{ Name: 'SecretStaleServed', Unit: 'Count' }]);
      expect(lines[2]).toMatchObject({ level: 'INFO', previousItemVersion: 3, itemVersion: 4, changed: true });
    });
  });

  it('names its service after POWERTOOLS_SERVICE_NAME, else the function', () => {
    withEnv({ POWERTOOLS_SERVICE_NAME: 'checkout' }, () => expect(new SecretAudit().serviceName).toBe('checkout'));
    withEnv({ POWERTOOLS_SERVICE_NAME: '', AWS_LAMBDA_FUNCTION_NAME: 'payments-fn' }, () => expect(new SecretAudit().serviceName).toBe('payments-fn'));
  });
});

describe('secret.access', () => {
  it('is one line with the audit fields and SecretCacheHit as EMF', () => {
    const written: string[] = [];
    const audit = new SecretAudit({ serviceName: 'payments', write: (line) => written.push(line) });
    audit.access({ namesJson: '["STRIPE_KEY"]', cacheHits: 1, event: httpApiEvent({ sub: 'u-1' }), awsRequestId: 'req-1', coldStart: false });
    audit.access({ namesJson: '["A","B"]', cacheHits: 0, event: { Records: [] }, coldStart: true });
    expect(written).toHaveLength(2);
    expect(written.every((line) => line.endsWith('\n') && line.indexOf('\n') === line.length - 1)).toBe(true);
    const [http, other] = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(http).toEqual({
      level: 'INFO',
      message: 'secret.access',
      event: 'secret.access',
      service: 'payments',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      names: ['STRIPE_KEY'],
      principal: { type: 'jwt', sub: 'u-1', sourceIp: '203.0.113.7' },
      route: 'POST /payments',
      awsRequestId: 'req-1',
      coldStart: false,
      _aws: {
        Timestamp: expect.any(Number),
        CloudWatchMetrics: [{ Namespace: 'OpLambda', Dimensions: [['service']], Metrics: [{ Name: 'SecretCacheHit', Unit: 'Count' }] }],
      },
      SecretCacheHit: 1,
    });
    expect(other).toMatchObject({ names: ['A', 'B'], principal: null, route: null, awsRequestId: null, coldStart: true, SecretCacheHit: 0 });
  });

  it('escapes whatever the event carries', () => {
    const written: string[] = [];
    const audit = new SecretAudit({ serviceName: 'svc"x', write: (line) => written.push(line) });
    audit.access({ namesJson: '["A"]', cacheHits: 1, event: restApiEvent({ userArn: 'arn:"quoted"\n{}' }), awsRequestId: 'id"\n', coldStart: false });
    const line = JSON.parse(written[0]!) as { service: string; principal: { arn: string }; awsRequestId: string };
    expect(line.service).toBe('svc"x');
    expect(line.principal.arn).toBe('arn:"quoted"\n{}');
    expect(line.awsRequestId).toBe('id"\n');
  });
});

describe('secret.access, invocation after invocation', () => {
  it('records each invocation\'s own principal and route, byte for byte as JSON.stringify writes them', () => {
    const events: unknown[] = [
      httpApiEvent({ sub: 'u-1' }),
      httpApiEvent({ sub: 'u-1' }), // the same caller again, in a new event object
      httpApiEvent({ sub: 'u-2' }),
      httpApiEvent({ sub: 'u-2', client_id: 'app' }), // one field more
      httpApiEvent({ sub: 'u-2' }), // one field fewer again
      httpApiEvent(),
      { Records: [] },
      restApiEvent({ userArn: 'arn:aws:iam::123456789012:user/ops' }),
      restApiEvent({ caller: 'AIDAEXAMPLE' }),
      restApiEvent(),
      httpApiEvent({ sub: 'u-1' }),
    ];
    const written: string[] = [];
    const audit = new SecretAudit({ serviceName: 'payments', write: (line) => written.push(line) });
    for (const event of events) audit.access({ namesJson: '["A"]', cacheHits: 1, event, awsRequestId: 'req', coldStart: false });
    const expected = events.map(
      (event) => `,"principal":${JSON.stringify(principalOf(event) ?? null)},"route":${JSON.stringify(routeOf(event) ?? null)},`,
    );
    expect(written.map((line) => line.slice(line.indexOf(',"principal":'), line.indexOf('"awsRequestId"')))).toEqual(expected);
  });
});

describe('isoTimestamp', () => {
  it('matches Date#toISOString', () => {
    for (const epochMs of [0, 1, 999, 1000, 1_704_067_199_999, 1_704_067_200_000, 1_704_067_200_005, 1_704_067_200_050, Date.now()]) {
      expect(isoTimestamp(epochMs)).toBe(new Date(epochMs).toISOString());
    }
  });
});
