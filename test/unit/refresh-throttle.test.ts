import { RefreshThrottle } from '../../shared/secrets/refresh-throttle';

describe('RefreshThrottle', () => {
  it('allows one refresh per key per interval', () => {
    let now = 1_000;
    const throttle = new RefreshThrottle({ minIntervalMs: 30_000, now: () => now });
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
    const throttle = new RefreshThrottle({ minIntervalMs: 10, now: () => now });
    throttle.tryAcquire('k');
    now = 9;
    expect(throttle.tryAcquire('k')).toBe(false);
    now = 10;
    expect(throttle.tryAcquire('k')).toBe(true);
  });
});
