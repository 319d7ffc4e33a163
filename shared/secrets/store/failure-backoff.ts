/**
 * How long a failed reference is left alone before 1Password is asked again.
 *
 * Failures are remembered only for their backoff (`failureBackoffMs`, doubling up to
 * `maxFailureBackoffMs`, or the server's Retry-After), so a bad reference costs one request per
 * backoff instead of one per invocation, and a failed prefetch never outlives its backoff. A
 * transient failure of a required secret with no usable value is held for a shorter backoff
 * (doubling up to TRANSIENT_BACKOFF_CAP_MS at most): during an outage a container without its
 * secrets answers at once instead of asking Connect on every invocation, and still finds a
 * recovered Connect within seconds.
 */
import { positiveMs } from '../durations';
import type { ConnectError } from '../errors';

/**
 * The longest a required secret's transient failure is held (unless Connect's Retry-After asks for
 * more): long enough to spare a struggling Connect, short enough that recovery takes seconds.
 */
export const TRANSIENT_BACKOFF_CAP_MS = 5000;

/** The last failure of a reference and the holds it imposes. */
export interface Failure {
  readonly error: ConnectError;
  readonly consecutive: number;
  /** No background refresh, and no fetch for optional or permanent failures, before this. */
  readonly backoffUntil: number;
  /** No fetch for a required secret failing transiently before this (the short backoff or Retry-After). */
  readonly transientRetryAt: number;
  /** The server's Retry-After: what a forced refresh of a value still served waits for. */
  readonly serverRetryAt: number;
}

export class FailureBackoff {
  private readonly failureBackoffMs: number;
  private readonly maxFailureBackoffMs: number;

  constructor(options: { failureBackoffMs?: number; maxFailureBackoffMs?: number }) {
    this.failureBackoffMs = positiveMs('failureBackoffMs', options.failureBackoffMs ?? 1000);
    this.maxFailureBackoffMs = positiveMs('maxFailureBackoffMs', options.maxFailureBackoffMs ?? 60_000);
    if (this.maxFailureBackoffMs < this.failureBackoffMs) {
      throw new RangeError('maxFailureBackoffMs must not be less than failureBackoffMs');
    }
  }

  /** The failure that follows `previous` (the consecutive count doubles the backoff). */
  next(previous: Failure | undefined, error: ConnectError, now: number): Failure {
    const consecutive = (previous?.consecutive ?? 0) + 1;
    const backoffMs = this.failureBackoffMs * 2 ** (consecutive - 1);
    const serverWaitMs = error.retryAfterMs ?? 0;
    const transientCapMs = Math.min(this.maxFailureBackoffMs, TRANSIENT_BACKOFF_CAP_MS);
    return {
      error,
      consecutive,
      backoffUntil: now + Math.max(Math.min(backoffMs, this.maxFailureBackoffMs), serverWaitMs),
      transientRetryAt: now + Math.max(Math.min(backoffMs, transientCapMs), serverWaitMs),
      serverRetryAt: now + serverWaitMs,
    };
  }
}

/** Until when `failure` keeps a fetch from being made: optional and permanent failures wait out the full backoff. */
export function holdUntil(failure: Failure, optional: boolean): number {
  return optional || !failure.error.retryable ? failure.backoffUntil : failure.transientRetryAt;
}

/** A permanent failure still in its backoff: not even a forced refresh asks again. */
export function isHeldPermanently(failure: Failure | undefined, now: number): boolean {
  return failure !== undefined && !failure.error.retryable && now < failure.backoffUntil;
}
