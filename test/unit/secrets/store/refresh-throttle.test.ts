import { ConnectError, SecretsUnavailableError } from '../../../../shared/secrets/errors';
import { RefreshThrottle } from '../../../../shared/secrets/store/refresh-throttle';

const outage = (retryAfterSeconds = 1) => new SecretsUnavailableError(['STRIPE_KEY'], retryAfterSeconds, [new ConnectError('NETWORK', 'connection reset')]);
const revoked = () => new SecretsUnavailableError(['STRIPE_KEY'], 1, [new ConnectError('FORBIDDEN', 'vault out of scope', { status: 403 })]);

/** A throttle on a hand-driven clock, and a refresh that counts its calls and answers as told. */
function setup(options: { minIntervalMs?: number; failureHoldMs?: number } = {}) {
  const clock = { now: 0 };
  const throttle = new RefreshThrottle({ minIntervalMs: options.minIntervalMs ?? 30_000, failureHoldMs: options.failureHoldMs, clock: () => clock.now });
  let calls = 0;
  let next: () => Promise<string> = async () => 'fresh';
  const refresh = (key = 'stripe') =>
    throttle.refresh(key, () => {
      calls++;
      return next();
    });
  return {
    clock,
    throttle,
    refresh,
    calls: () => calls,
    answer: (result: () => Promise<string>) => {
      next = result;
    },
  };
}

describe('RefreshThrottle', () => {
  it('allows one refresh per key per interval', () => {
    let now = 1_000;
    const throttle = new RefreshThrottle({ minIntervalMs: 30_000, clock: () => now });
    expect(throttle.tryAcquire('stripe')).toBe(true);
    expect(throttle.tryAcquire('stripe')).toBe(false);
    expect(throttle.tryAcquire('github')).toBe(true);
    now += 29_999;
    expect(throttle.tryAcquire('stripe')).toBe(false);
    now += 1;
    expect(throttle.tryAcquire('stripe')).toBe(true);
    expect(throttle.tryAcquire('stripe')).toBe(false);
  });

  it('does not extend the wait when refused', () => {
    let now = 0;
    const throttle = new RefreshThrottle({ minIntervalMs: 10, clock: () => now });
    throttle.tryAcquire('k');
    now = 9;
    expect(throttle.tryAcquire('k')).toBe(false);
    now = 10;
    expect(throttle.tryAcquire('k')).toBe(true);
  });
});

describe('RefreshThrottle.refresh', () => {
  it('a refresh that succeeded holds its key for the whole interval: a flood costs one read', async () => {
    const { clock, refresh, calls } = setup();
    expect(await refresh()).toBe('fresh');
    for (let i = 0; i < 10; i++) expect(await refresh()).toBeUndefined();
    clock.now = 29_999;
    expect(await refresh()).toBeUndefined();
    expect(await refresh('github')).toBe('fresh');
    clock.now = 30_000;
    expect(await refresh()).toBe('fresh');
    expect(calls()).toBe(3);
  });

  it('a transient failure holds its key only for its own wait, and says so to the callers in between', async () => {
    const { clock, refresh, calls, answer, throttle } = setup();
    const failure = outage();
    answer(() => Promise.reject(failure));
    await expect(refresh()).rejects.toBe(failure);

    clock.now = 400;
    const held = await refresh().catch((error: unknown) => error);
    expect(held).toBeInstanceOf(SecretsUnavailableError);
    expect(held).toMatchObject({ names: ['STRIPE_KEY'], retryAfterSeconds: 1, causes: failure.causes });
    expect(throttle.tryAcquire('stripe')).toBe(false);
    expect(calls()).toBe(1);

    // Connect is back: the next refresh goes through at once, not 30 s after the failure.
    answer(async () => 'rotated');
    clock.now = 1_000;
    expect(await refresh()).toBe('rotated');
    expect(calls()).toBe(2);
    // ...and, having succeeded, throttles for the whole interval again.
    clock.now = 2_000;
    expect(await refresh()).toBeUndefined();
  });

  it("holds as long as the failure's Retry-After asks, counting the wait down, never longer than the interval", async () => {
    const { clock, refresh, calls, answer } = setup({ minIntervalMs: 5_000 });
    answer(() => Promise.reject(outage(3)));
    await expect(refresh()).rejects.toBeInstanceOf(SecretsUnavailableError);
    clock.now = 1_500;
    await expect(refresh()).rejects.toMatchObject({ retryAfterSeconds: 2 });
    clock.now = 2_999;
    await expect(refresh()).rejects.toMatchObject({ retryAfterSeconds: 1 });
    expect(calls()).toBe(1);

    answer(() => Promise.reject(outage(3_600)));
    clock.now = 3_000;
    await expect(refresh()).rejects.toMatchObject({ retryAfterSeconds: 3_600 });
    clock.now = 7_999;
    await expect(refresh()).rejects.toMatchObject({ retryAfterSeconds: 1 });
    clock.now = 8_000;
    answer(async () => 'fresh');
    expect(await refresh()).toBe('fresh');
    expect(calls()).toBe(3);
  });

  it('the short hold is at least failureHoldMs', async () => {
    const { clock, refresh, calls, answer } = setup({ failureHoldMs: 2_500 });
    answer(() => Promise.reject(outage(1)));
    await expect(refresh()).rejects.toBeInstanceOf(SecretsUnavailableError);
    clock.now = 2_499;
    await expect(refresh()).rejects.toMatchObject({ retryAfterSeconds: 1 });
    clock.now = 2_500;
    answer(async () => 'fresh');
    expect(await refresh()).toBe('fresh');
    expect(calls()).toBe(2);
  });

  it('a permanent failure holds its key for the whole interval', async () => {
    const { clock, refresh, calls, answer } = setup();
    const failure = revoked();
    answer(() => Promise.reject(failure));
    await expect(refresh()).rejects.toBe(failure);
    clock.now = 29_999;
    expect(await refresh()).toBeUndefined();
    clock.now = 30_000;
    await expect(refresh()).rejects.toBe(failure);
    expect(calls()).toBe(2);
  });

  it('a failure mixing transient and permanent causes counts as permanent', async () => {
    const { clock, refresh, answer } = setup();
    const mixed = new SecretsUnavailableError(['A', 'B'], 1, [...outage().causes, ...revoked().causes]);
    answer(() => Promise.reject(mixed));
    await expect(refresh()).rejects.toBe(mixed);
    clock.now = 5_000;
    expect(await refresh()).toBeUndefined();
  });

  it('classifies ConnectErrors by retryable, and anything else as permanent', async () => {
    const { clock, refresh, answer } = setup({ minIntervalMs: 10_000 });
    const rateLimited = new ConnectError('RATE_LIMITED', 'too many requests', { status: 429, retryAfterMs: 2_000 });
    answer(() => Promise.reject(rateLimited));
    await expect(refresh()).rejects.toBe(rateLimited);
    clock.now = 1_000;
    await expect(refresh()).rejects.toMatchObject({ name: 'SecretsUnavailableError', names: [], retryAfterSeconds: 1, causes: [rateLimited] });

    const bug = new TypeError('not a function');
    answer(() => Promise.reject(bug));
    clock.now = 2_000;
    await expect(refresh()).rejects.toBe(bug);
    clock.now = 11_999;
    expect(await refresh()).toBeUndefined();
  });
});
