/**
 * At most one forced secret refresh per key per interval.
 *
 * A downstream rejection (a webhook signature that matches no cached secret, a provider's 401) is
 * the signal that a secret may have been rotated since the cold start, so it is worth one fresh
 * read from 1Password. The same signal is also what an attacker or a broken client can send at
 * will: without a throttle, a flood of bad requests becomes a flood of Connect reads, and service
 * accounts have hourly read limits. State lives per container, like the secret cache itself.
 *
 * Only a refresh that got an answer counts for the whole interval: a successful one, or one that
 * failed for good (revoked, deleted). A refresh that failed transiently (Connect down, slow, rate
 * limiting) holds its key only for the failure's own wait, so that a rotation met by an outage is
 * picked up as soon as Connect is back rather than one interval later. While that short hold
 * lasts, callers are told the secret is unavailable (503 with Retry-After), not that the request
 * is wrong: the request may well be valid.
 */
import { systemClock, type Clock } from '../deadline';
import { SecretsUnavailableError } from '../errors';

export interface RefreshThrottleOptions {
  /** Minimum time between two refreshes of one key, after a refresh that succeeded or failed for good. */
  minIntervalMs: number;
  /**
   * How long a transient failure holds its key, unless the failure asks for longer (a Connect
   * Retry-After, say).
   * @default 1000
   */
  failureHoldMs?: number;
  /** Epoch milliseconds. @default Date.now */
  clock?: Clock;
}

interface Hold {
  /** No refresh of the key before this. */
  readonly until: number;
  /** Set while a transient failure, rather than a refresh that got an answer, holds the key. */
  readonly failure?: SecretsUnavailableError;
}

const DEFAULT_FAILURE_HOLD_MS = 1000;

export class RefreshThrottle {
  private readonly holds = new Map<string, Hold>();
  private readonly clock: Clock;
  private readonly failureHoldMs: number;

  constructor(private readonly options: RefreshThrottleOptions) {
    this.clock = options.clock ?? systemClock;
    this.failureHoldMs = options.failureHoldMs ?? DEFAULT_FAILURE_HOLD_MS;
  }

  /** Whether `key` may be refreshed now; when it may, the refresh is counted from this moment. */
  tryAcquire(key: string): boolean {
    const now = this.clock();
    const hold = this.holds.get(key);
    if (hold !== undefined && now < hold.until) return false;
    this.holds.set(key, { until: now + this.options.minIntervalMs });
    return true;
  }

  /**
   * Runs `refresh` for `key` when the throttle allows, and resolves its value; resolves undefined
   * when a refresh of `key` succeeded, or failed for good, less than `minIntervalMs` ago.
   *
   * Rejects with `refresh`'s own error when it fails. When that failure is transient (a
   * SecretsUnavailableError whose causes may all succeed when tried again, or a retryable
   * ConnectError), the key is held only for the failure's Retry-After (at least `failureHoldMs`,
   * at most `minIntervalMs`), and calls within that hold reject at once, without trying, with a
   * SecretsUnavailableError saying how long is left.
   */
  async refresh<T>(key: string, refresh: () => Promise<T>): Promise<T | undefined> {
    const held = this.transientHold(key);
    if (held !== undefined) throw held;
    if (!this.tryAcquire(key)) return undefined;
    try {
      return await refresh();
    } catch (error) {
      this.recordFailure(key, error);
      throw error;
    }
  }

  /** While a transient failure holds `key`: the error to answer with, its wait counted from now. */
  private transientHold(key: string): SecretsUnavailableError | undefined {
    const hold = this.holds.get(key);
    const remainingMs = hold === undefined ? 0 : hold.until - this.clock();
    if (hold?.failure === undefined || remainingMs <= 0) return undefined;
    return new SecretsUnavailableError(hold.failure.names, Math.ceil(remainingMs / 1000), hold.failure.causes);
  }

  /** A permanent failure keeps the whole interval from now; a transient one holds only for its wait. */
  private recordFailure(key: string, error: unknown): void {
    const now = this.clock();
    const waitMs = transientWaitMs(error);
    if (waitMs === undefined) {
      this.holds.set(key, { until: now + this.options.minIntervalMs });
      return;
    }
    // Never longer than a success would hold it; NaN (a hand-made error's wait) counts as none.
    const holdMs = Math.min(this.options.minIntervalMs, Math.max(this.failureHoldMs, Number.isNaN(waitMs) ? 0 : waitMs));
    this.holds.set(key, { until: now + holdMs, failure: asUnavailable(error, holdMs) });
  }
}

/** How long a transient failure asks callers to wait (0: no particular wait), or undefined when it is permanent. */
function transientWaitMs(error: unknown): number | undefined {
  if (error instanceof SecretsUnavailableError) {
    return error.causes.every((cause) => isRetryable(cause)) ? error.retryAfterSeconds * 1000 : undefined;
  }
  if (!isRetryable(error)) return undefined;
  const { retryAfterMs } = error as { retryAfterMs?: unknown };
  return typeof retryAfterMs === 'number' && retryAfterMs > 0 ? retryAfterMs : 0;
}

function asUnavailable(error: unknown, holdMs: number): SecretsUnavailableError {
  if (error instanceof SecretsUnavailableError) return error;
  return new SecretsUnavailableError([], Math.ceil(holdMs / 1000), error instanceof Error ? [error] : []);
}

function isRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === true;
}
