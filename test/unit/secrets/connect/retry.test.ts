import { ConnectError } from '../../../../shared/secrets/errors';
import { delayBeforeRetry, withRetry, type RetryPolicy } from '../../../../shared/secrets/connect/retry';

const policy = (overrides: Partial<RetryPolicy> = {}): RetryPolicy => ({
  maxAttempts: 4,
  attemptTimeoutMs: 1_000,
  backoffBaseMs: 1,
  random: () => 0.5,
  ...overrides,
});

/** An operation that fails with `failures` in order, then answers "ok". */
function scripted(failures: unknown[]): { operation: (signal: AbortSignal) => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    operation: () => {
      const failure = failures[calls++];
      return failure === undefined ? Promise.resolve('ok') : Promise.reject(failure);
    },
    calls: () => calls,
  };
}

describe('withRetry', () => {
  it('returns the first success with the number of attempts it took', async () => {
    const { operation } = scripted([new ConnectError('SERVER', 'boom', { status: 500 }), { status: 503, message: 'busy' }]);
    await expect(withRetry(operation, policy(), { clock: Date.now, deadline: Date.now() + 5_000 })).resolves.toEqual({ ok: true, value: 'ok', attempts: 3 });
  });

  it('does not retry permanent failures', async () => {
    const { operation, calls } = scripted([{ status: 404, message: 'item not found' }]);
    const result = await withRetry(operation, policy(), { clock: Date.now, deadline: Date.now() + 5_000 });
    expect(result).toMatchObject({ ok: false, attempts: 1, error: { code: 'NOT_FOUND' } });
    expect(calls()).toBe(1);
  });

  it('stops after maxAttempts', async () => {
    const { operation, calls } = scripted(Array.from({ length: 10 }, () => ({ status: 500, message: 'down' })));
    const result = await withRetry(operation, policy({ maxAttempts: 3 }), { clock: Date.now, deadline: Date.now() + 5_000 });
    expect(result).toMatchObject({ ok: false, attempts: 3, error: { code: 'SERVER' } });
    expect(calls()).toBe(3);
  });

  it('fails at once when Retry-After reaches past the deadline', async () => {
    const { operation, calls } = scripted([new ConnectError('RATE_LIMITED', 'slow down', { status: 429, retryAfterMs: 60_000 })]);
    const deadline = Date.now() + 2_000;
    const result = await withRetry(operation, policy(), { clock: Date.now, deadline });
    expect(result).toMatchObject({ ok: false, attempts: 1, error: { code: 'RATE_LIMITED', retryAfterMs: 60_000 } });
    expect(calls()).toBe(1);
    expect(Date.now()).toBeLessThan(deadline);
  });

  it('cuts off an attempt that ignores its signal at attemptTimeoutMs, then retries', async () => {
    let calls = 0;
    const operation = (): Promise<string> => (calls++ === 0 ? new Promise<string>(() => undefined) : Promise.resolve('late but fine'));
    const result = await withRetry(operation, policy({ attemptTimeoutMs: 50 }), { clock: Date.now, deadline: Date.now() + 5_000 });
    expect(result).toEqual({ ok: true, value: 'late but fine', attempts: 2 });
  });

  it('aborts the signal it hands to a timed-out attempt', async () => {
    let seen: AbortSignal | undefined;
    const operation = (signal: AbortSignal): Promise<string> => {
      seen = signal;
      return new Promise<string>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    };
    const result = await withRetry(operation, policy({ attemptTimeoutMs: 30, maxAttempts: 1 }), { clock: Date.now, deadline: Date.now() + 5_000 });
    expect(result).toMatchObject({ ok: false, error: { code: 'TIMEOUT' } });
    expect(seen?.aborted).toBe(true);
  });

  it('never starts an attempt after the deadline or once aborted', async () => {
    const { operation, calls } = scripted([]);
    await expect(withRetry(operation, policy(), { clock: Date.now, deadline: Date.now() - 1 })).resolves.toMatchObject({ ok: false, error: { code: 'TIMEOUT' } });
    await expect(withRetry(operation, policy(), { clock: Date.now, deadline: Date.now() + 5_000, signal: AbortSignal.abort() })).resolves.toMatchObject({
      ok: false,
      error: { code: 'TIMEOUT', detail: expect.stringContaining('aborted') as unknown },
    });
    expect(calls()).toBe(0);
  });

  it('passes each attempt through the gate (the concurrency cap)', async () => {
    let gated = 0;
    const { operation } = scripted([{ status: 500, message: 'down' }]);
    await withRetry(operation, policy(), { clock: Date.now, deadline: Date.now() + 5_000 }, (task) => {
      gated++;
      return task();
    });
    expect(gated).toBe(2);
  });
});

describe('delayBeforeRetry', () => {
  const error = new ConnectError('SERVER', 'down');
  it('is full jitter over an exponentially growing ceiling, capped', () => {
    expect(delayBeforeRetry(1, error, policy({ backoffBaseMs: 100, random: () => 0 }))).toBe(0);
    expect(delayBeforeRetry(1, error, policy({ backoffBaseMs: 100, random: () => 0.999 }))).toBe(99);
    expect(delayBeforeRetry(3, error, policy({ backoffBaseMs: 100, random: () => 0.5 }))).toBe(200);
    expect(delayBeforeRetry(30, error, policy({ backoffBaseMs: 100, random: () => 0.999 }))).toBeLessThan(5_000);
  });

  it('never undercuts Retry-After', () => {
    const limited = new ConnectError('RATE_LIMITED', 'wait', { retryAfterMs: 3_000 });
    expect(delayBeforeRetry(1, limited, policy({ random: () => 0 }))).toBe(3_000);
  });
});

describe('far deadlines', () => {
  it('a deadline beyond the timer range does not end an attempt at once', async () => {
    const operation = (): Promise<string> => new Promise((resolve) => setTimeout(() => resolve('ok'), 30));
    await expect(withRetry(operation, policy({ attemptTimeoutMs: 3_000_000_000, maxAttempts: 1 }), { clock: Date.now, deadline: Date.now() + 3_000_000_000 })).resolves.toMatchObject({
      ok: true,
    });
  });
});
