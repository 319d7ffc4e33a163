/**
 * Time, as every timing decision of op-lambda sees it: one injectable clock (epoch milliseconds)
 * and one way to wait for work no longer than a deadline on that clock.
 */
import { ConnectError } from './errors';

/** Epoch milliseconds. Options named `clock` take one; `Date.now` by default. */
export type Clock = () => number;

export const systemClock: Clock = Date.now;

export interface DeadlineBounds {
  /** Epoch milliseconds by `clock` after which nothing is attempted and nothing waits. */
  readonly deadline: number;
  readonly clock: Clock;
  /** Ends the wait early, as the deadline would. */
  readonly signal?: AbortSignal;
}

/** setTimeout fires at once for delays past 2^31-1 ms (about 24 days): a far deadline must not. */
const MAX_TIMER_MS = 2_147_483_647;

/** A setTimeout delay for `ms`, clamped to what timers can express. */
export function timerDelay(ms: number): number {
  return Math.min(Math.max(0, ms), MAX_TIMER_MS);
}

/** Settles with `work`, or rejects with a TIMEOUT ConnectError when the deadline passes or `signal` aborts first. */
export function withinDeadline<T>(work: Promise<T>, bounds: DeadlineBounds): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (bounds.signal?.aborted) return reject(abortedError());
    const onAbort = (): void => finish(() => reject(abortedError()));
    const timer = setTimeout(() => finish(() => reject(deadlineError())), timerDelay(bounds.deadline - bounds.clock()));
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      bounds.signal?.removeEventListener('abort', onAbort);
      settle();
    };
    bounds.signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

export function deadlineError(): ConnectError {
  return new ConnectError('TIMEOUT', 'the deadline passed before Connect answered');
}

export function abortedError(): ConnectError {
  return new ConnectError('TIMEOUT', 'resolution was aborted before Connect answered');
}
