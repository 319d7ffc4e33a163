/**
 * At most one forced secret refresh per key per interval.
 *
 * A downstream rejection (a webhook signature that matches no cached secret, a provider's 401) is
 * the signal that a secret may have been rotated since the cold start, so it is worth one fresh
 * read from 1Password. The same signal is also what an attacker or a broken client can send at
 * will: without a throttle, a flood of bad requests becomes a flood of Connect reads, and service
 * accounts have hourly read limits. State lives per container, like the secret cache itself.
 */

export interface RefreshThrottleOptions {
  /** Minimum time between two refreshes of one key. */
  minIntervalMs: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

export class RefreshThrottle {
  private readonly lastRefreshAt = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: RefreshThrottleOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Whether `key` may be refreshed now; when it may, the refresh is counted from this moment. */
  tryAcquire(key: string): boolean {
    const now = this.now();
    const last = this.lastRefreshAt.get(key);
    if (last !== undefined && now - last < this.options.minIntervalMs) return false;
    this.lastRefreshAt.set(key, now);
    return true;
  }
}
