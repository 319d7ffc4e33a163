/**
 * Revalidation by version: at most once per `revalidateMs` per store, at the start of an
 * invocation, the source says which held items changed (Connect: one vault list, an item list
 * only for a vault whose content version moved); only those are fetched again, each item's values
 * together. While the source answers, no invocation uses a value whose item changed more than
 * `revalidateMs` ago (plus one round trip). No timers: a check runs inside the invocation that
 * finds it due, bounded by that invocation's deadline, so nothing is left in flight at freeze.
 *
 * A check that fails transiently keeps the values in service (up to `maxStaleMs` past their last
 * confirmation, see ./freshness.ts), reports them stale, and is tried again after the failure
 * backoff; one that fails for good (the token refused) drops them, as a failed fetch would. A forced check (a signature miss, a downstream 401: `refresh()`) makes one attempt
 * and respects a transient failure's hold, so an outage plus a flood of misses costs at most one
 * request per hold.
 */
import { withinDeadline, type Clock } from '../deadline';
import type { Environment } from '../environment';
import { ConnectError } from '../errors';
import type { HeldItem, SecretSource } from '../source';
import type { FailureBackoff, Failure } from './failure-backoff';
import type { CacheResult, SecretCache } from './secret-cache';

/**
 * The interval when neither the option nor OP_REVALIDATE_MS sets one: a rotated or revoked secret
 * is in use for at most a minute, at 60 requests per warm container-hour (README, "Revalidation").
 */
export const DEFAULT_REVALIDATE_MS = 60_000;
/** The environment variable that sets `revalidateMs` for a deployment (the code's option wins). */
export const REVALIDATE_ENV = 'OP_REVALIDATE_MS';

/** What a check came to. */
export type CheckResult =
  | {
      readonly ok: true;
      /** The references fetched again because their item changed, and what each fetch answered. */
      readonly refetched: ReadonlyMap<string, CacheResult>;
    }
  | { readonly ok: false; readonly error: ConnectError; readonly retryAfterMs: number };

export interface RevalidationOptions {
  readonly intervalMs: number;
  readonly source: SecretSource;
  readonly cache: SecretCache;
  readonly backoff: FailureBackoff;
  readonly clock: Clock;
}

export class Revalidation {
  /** False when the source cannot tell what changed: values then live by `ttlMs` alone. */
  readonly enabled: boolean;
  private readonly options: RevalidationOptions;
  private nextCheckAt: number;
  /** Vault content versions as of the last check that left nothing of them to re-read. */
  private readonly knownVaults = new Map<string, number>();
  private failure: Failure | undefined;
  private inFlight: Promise<CheckResult> | undefined;

  constructor(options: RevalidationOptions) {
    this.options = options;
    this.enabled = typeof options.source.checkVersions === 'function' && Number.isFinite(options.intervalMs);
    this.nextCheckAt = options.clock() + options.intervalMs;
  }

  /** Until when (epoch ms, exclusive) no check is due: the warm path holds until then. */
  get dueAt(): number {
    return this.enabled ? this.nextCheckAt : Infinity;
  }

  /** At the start of an invocation: checks when one is due, waiting no later than `deadline`. */
  async whenDue(deadline: number): Promise<void> {
    if (this.options.clock() < this.dueAt && this.inFlight === undefined) return;
    await this.check(deadline, false);
  }

  /**
   * A check now, out of turn (a miss): one attempt, and none while a transient failure's hold
   * lasts (answered at once with that failure).
   */
  force(deadline: number): Promise<CheckResult> {
    const now = this.options.clock();
    if (this.failure && now < this.failure.transientRetryAt) {
      return Promise.resolve({ ok: false, error: this.failure.error, retryAfterMs: this.failure.transientRetryAt - now });
    }
    return this.check(deadline, true);
  }

  /** Forgets what checks learnt (the store's `clearCache()`). */
  reset(): void {
    this.knownVaults.clear();
    this.failure = undefined;
    this.nextCheckAt = this.options.clock() + this.options.intervalMs;
  }

  /** Joins the check in flight, or starts one; never waits past `deadline`. */
  private async check(deadline: number, forced: boolean): Promise<CheckResult> {
    if (this.inFlight === undefined) {
      const running = this.run(deadline, forced);
      this.inFlight = running;
      void running.finally(() => {
        if (this.inFlight === running) this.inFlight = undefined;
      });
    }
    try {
      return await withinDeadline(this.inFlight, { deadline, clock: this.options.clock });
    } catch {
      return { ok: false, error: new ConnectError('TIMEOUT', 'the version check did not finish before the deadline'), retryAfterMs: 0 };
    }
  }

  private async run(deadline: number, forced: boolean): Promise<CheckResult> {
    const { source, cache, clock, intervalMs } = this.options;
    const startedAt = clock();
    this.nextCheckAt = startedAt + intervalMs;
    const held = cache.heldItems();
    if (held.length === 0) return { ok: true, refetched: new Map() };
    let outcome;
    try {
      outcome = await source.checkVersions!(held, { deadline, knownVaults: new Map(this.knownVaults), singleAttempt: forced });
    } catch (error) {
      return this.failed(error instanceof ConnectError ? error : new ConnectError('NETWORK', 'the version check failed', { cause: error }));
    }
    this.failure = undefined;
    const changed = new Set(outcome.changed.map(itemKey));
    cache.confirm(held.filter((item) => !changed.has(itemKey(item))), startedAt);
    const refetched = outcome.changed.length === 0 ? new Map<string, CacheResult>() : await cache.refreshItems(outcome.changed, deadline, forced ? 'refresh' : 'revalidation');
    this.learnVaults(outcome.vaults, refetched);
    return { ok: true, refetched };
  }

  /** A vault's version is learnt only once nothing of it is left to re-read (a refetch that failed transiently is). */
  private learnVaults(vaults: ReadonlyMap<string, number>, refetched: ReadonlyMap<string, CacheResult>): void {
    const pending = new Set<string>();
    for (const [key, result] of refetched) {
      const vaultId = this.options.cache.vaultOf(key);
      if (!result.ok && result.error.retryable && vaultId !== undefined) pending.add(vaultId);
    }
    for (const [vaultId, version] of vaults) {
      if (!pending.has(vaultId)) this.knownVaults.set(vaultId, version);
    }
  }

  private failed(error: ConnectError): CheckResult {
    const now = this.options.clock();
    this.failure = this.options.backoff.next(this.failure, error, now);
    // An interval check waits out the growing backoff; a forced one only the transient hold.
    this.nextCheckAt = this.failure.backoffUntil;
    this.options.cache.checkFailed(error);
    return { ok: false, error, retryAfterMs: Math.max(0, this.failure.transientRetryAt - now) };
  }
}

/** `revalidateMs` as given, else from OP_REVALIDATE_MS, else DEFAULT_REVALIDATE_MS. */
export function revalidateMsFrom(option: number | undefined, env: Environment): number {
  if (option !== undefined) return option;
  const fromEnv = env[REVALIDATE_ENV]?.trim();
  if (fromEnv === undefined || fromEnv === '') return DEFAULT_REVALIDATE_MS;
  const value = Number(fromEnv);
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${REVALIDATE_ENV} must be a positive whole number of milliseconds`);
  return value;
}

function itemKey(item: HeldItem): string {
  return `${item.vaultId}/${item.itemId}/${item.version}`;
}
