/**
 * Attempts under a deadline: each attempt gets min(attemptTimeoutMs, time left) and its own
 * AbortSignal; transient failures are retried after exponential backoff with full jitter, or
 * after Retry-After when Connect sends one; nothing ever sleeps or waits past the deadline.
 */
import { abortedError, deadlineError, timerDelay, type DeadlineBounds } from '../deadline';
import { ConnectError } from '../errors';
import { immediately, type Gate } from './concurrency';
import { toConnectError } from './connect-errors';

export interface RetryPolicy {
  maxAttempts: number;
  attemptTimeoutMs: number;
  backoffBaseMs: number;
  /** Jitter source in [0, 1). */
  random: () => number;
}

export type Attempted<T> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; error: ConnectError; attempts: number };

/** Backoff never grows past this, whatever the attempt count. */
const MAX_BACKOFF_MS = 5_000;

/** Runs `operation` until it succeeds, fails permanently, runs out of attempts or of time. */
export async function withRetry<T>(
  operation: (signal: AbortSignal) => Promise<T>,
  policy: RetryPolicy,
  bounds: DeadlineBounds,
  gate: Gate = immediately,
): Promise<Attempted<T>> {
  for (let attempts = 1; ; attempts++) {
    const outcome = await gate(() => attemptOnce(operation, policy, bounds));
    if (outcome.ok) return { ok: true, value: outcome.value, attempts };
    const { error } = outcome;
    if (!error.retryable || attempts >= policy.maxAttempts || bounds.signal?.aborted) return { ok: false, error, attempts };
    const wait = delayBeforeRetry(attempts, error, policy);
    // Sleeping past the deadline helps nobody: report the failure while there is time to act on it.
    if (bounds.clock() + wait >= bounds.deadline) return { ok: false, error, attempts };
    await sleep(wait, bounds.signal);
  }
}

/** Full jitter (random in [0, base * 2^(n-1)]), but never less than Connect's Retry-After. */
export function delayBeforeRetry(attempt: number, error: ConnectError, policy: RetryPolicy): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, policy.backoffBaseMs * 2 ** (attempt - 1));
  const jittered = Math.floor(policy.random() * ceiling);
  return Math.max(jittered, error.retryAfterMs ?? 0);
}

type AttemptOutcome<T> = { ok: true; value: T } | { ok: false; error: ConnectError };

async function attemptOnce<T>(
  operation: (signal: AbortSignal) => Promise<T>,
  policy: RetryPolicy,
  bounds: DeadlineBounds,
): Promise<AttemptOutcome<T>> {
  if (bounds.signal?.aborted) return { ok: false, error: abortedError() };
  const budget = Math.min(policy.attemptTimeoutMs, bounds.deadline - bounds.clock());
  if (budget <= 0) return { ok: false, error: deadlineError() };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('attempt timed out', 'TimeoutError')), timerDelay(budget));
  const forwardAbort = (): void => controller.abort(bounds.signal?.reason);
  bounds.signal?.addEventListener('abort', forwardAbort, { once: true });
  try {
    return { ok: true, value: await untilAborted(operation(controller.signal), controller.signal) };
  } catch (error) {
    if (bounds.signal?.aborted) return { ok: false, error: abortedError() };
    if (controller.signal.aborted) {
      return { ok: false, error: new ConnectError('TIMEOUT', `Connect did not answer within ${budget} ms`) };
    }
    return { ok: false, error: toConnectError(error) };
  } finally {
    clearTimeout(timer);
    bounds.signal?.removeEventListener('abort', forwardAbort);
  }
}

/** Settles no later than `signal` aborts, even if `work` ignores the signal. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
