/**
 * The per-container secret cache, keyed by reference (`SecretReference.key`).
 *
 * - Values live for the container's lifetime unless `ttlMs` is set; past `ttlMs` a value is still
 *   served while a refresh runs in the background of the invocation that noticed it (refresh-ahead;
 *   no timers, so nothing runs while the container is frozen).
 * - A refresh that fails transiently keeps the last good value for up to `maxStaleMs` past `ttlMs`
 *   (stale-if-error). A permanent failure drops it: revocation wins.
 * - Failures are remembered only for their backoff (`failureBackoffMs`, doubling up to
 *   `maxFailureBackoffMs`, or the server's Retry-After), so a bad reference costs one request per
 *   backoff instead of one per invocation, and a failed prefetch never outlives its backoff.
 * - A transient failure of a reference with no usable value is held too, but for a shorter backoff
 *   (doubling up to `TRANSIENT_BACKOFF_CAP_MS` at most): during an outage a container without its
 *   secrets answers at once instead of asking Connect on every invocation, and still finds a
 *   recovered Connect within seconds.
 * - Concurrent misses share one fetch (single flight); every wait is bounded by a deadline.
 * - A forced refresh fetches whole items: every candidate reference in the same 1Password item
 *   comes along in the same fetch, which costs no extra request and keeps an item's fields from
 *   different versions apart (a rotated username and password, say).
 *
 * The cache knows nothing of HTTP: it calls a `SecretFetcher`, which the middleware backs with the
 * Connect resolver and tests back with an in-process fake.
 */
import { nonNegativeMs, positiveMs } from './durations';
import { ConnectError } from './errors';
import type { SecretReference } from './reference';

/** One resolved secret, as a fetcher returns it. */
export interface FetchedSecret {
  readonly value: string;
  readonly itemVersion?: number;
  /** Where the value was found; lets a refresh take the item's other references along. */
  readonly vaultId?: string;
  readonly itemId?: string;
}

/** What a fetch produced, keyed by `SecretReference.key`: every reference lands in one of the maps. */
export interface FetchOutcome {
  readonly values: ReadonlyMap<string, FetchedSecret>;
  readonly errors: ReadonlyMap<string, ConnectError>;
}

/** Resolves references before `deadline` (epoch ms). Should not reject; a rejection fails every reference. */
export type SecretFetcher = (references: readonly SecretReference[], deadline: number) => Promise<FetchOutcome>;

export interface CacheRequest {
  readonly reference: SecretReference;
  /** Optional secrets wait out the backoff of any failure; required ones wait a transient failure's shorter backoff. */
  readonly optional?: boolean;
}

export type CacheResult =
  | {
      readonly ok: true;
      readonly value: string;
      readonly itemVersion?: number;
      readonly fetchedAt: number;
      /** Served without waiting for a fetch. */
      readonly fromCache: boolean;
    }
  | {
      readonly ok: false;
      readonly error: ConnectError;
      /** How long callers should wait before trying again (0: at once). */
      readonly retryAfterMs: number;
    };

/** What happened to a cached reference; for audit events and metrics. Never carries a value. */
export interface CacheListener {
  /** A refresh replaced an existing value. */
  refreshed?(reference: SecretReference, info: { previousItemVersion?: number; itemVersion?: number; changed: boolean }): void;
  /** A refresh failed transiently and the last good value is kept. */
  stale?(reference: SecretReference, info: { ageMs: number; error: ConnectError }): void;
  /** A fetch failed for this reference. */
  failed?(reference: SecretReference, info: { error: ConnectError; servingStale: boolean; retryAfterMs: number }): void;
}

export interface SecretCacheOptions {
  readonly fetch: SecretFetcher;
  /**
   * Age after which a value is refreshed in the background while still being served.
   * @default Infinity (the container's lifetime)
   */
  readonly ttlMs?: number;
  /**
   * How long past `ttlMs` a value may still be served while refreshes fail transiently.
   * @default Infinity
   */
  readonly maxStaleMs?: number;
  /**
   * How long a failure is remembered before the next request; doubles with each consecutive failure.
   * Connect's Retry-After wins when it is longer.
   * @default 1000
   */
  readonly failureBackoffMs?: number;
  /**
   * Cap of the doubling. A transient failure of a required secret with no usable value doubles up
   * to `min(maxFailureBackoffMs, 5000)` only (see `TRANSIENT_BACKOFF_CAP_MS`).
   * @default 60000
   */
  readonly maxFailureBackoffMs?: number;
  /** Epoch milliseconds. @default Date.now */
  readonly clock?: () => number;
  readonly listener?: CacheListener;
}

/** The cache's view of a set of references, for a no-work fast path. */
export interface CacheSnapshot {
  /** Equals `SecretCache.version` while nothing changed. */
  readonly version: number;
  /** The snapshot answers for every request until this epoch ms (exclusive). */
  readonly validUntil: number;
  /** Usable value per reference key (undefined when there is none). */
  readonly values: ReadonlyMap<string, string | undefined>;
}

export interface SecretState {
  /** A value is cached and may be served. */
  readonly ready: boolean;
  readonly itemVersion?: number;
  readonly ageMs?: number;
}

/**
 * The longest a required secret's transient failure is held (unless Connect's Retry-After asks for
 * more): long enough to spare a struggling Connect, short enough that recovery takes seconds.
 */
export const TRANSIENT_BACKOFF_CAP_MS = 5000;

/** A flight still unsettled this long after its deadline was lost (e.g. frozen mid-request): start afresh. */
const ABANDONED_FLIGHT_GRACE_MS = 1000;

interface Flight {
  readonly seq: number;
  readonly deadline: number;
  settled: boolean;
  done: Promise<void>;
}

/** The 1Password item a reference was last resolved in. */
interface ItemLocation {
  readonly vaultId: string;
  readonly itemId: string;
}

interface Failure {
  readonly error: ConnectError;
  readonly consecutive: number;
  /** No background refresh, and no fetch for optional or permanent failures, before this. */
  readonly backoffUntil: number;
  /** No fetch for a required secret failing transiently before this (the short backoff or Retry-After). */
  readonly transientRetryAt: number;
  /** The server's Retry-After: what a forced refresh of a value still served waits for. */
  readonly serverRetryAt: number;
}

class Entry {
  value?: string;
  itemVersion?: number;
  fetchedAt = 0;
  /** Kept across failures: a reference rarely moves, and a wrong guess costs one request at most. */
  location?: ItemLocation;
  failure?: Failure;
  flight?: Flight;
  forced?: Flight;
  /** Sequence number of the newest fetch whose outcome was applied; older outcomes are ignored. */
  appliedSeq = 0;

  constructor(readonly reference: SecretReference) {}
}

type Decision = 'fresh' | 'stale' | 'held' | 'join' | 'fetch';

export class SecretCache {
  private readonly fetcher: SecretFetcher;
  private readonly ttlMs: number;
  private readonly maxStaleMs: number;
  private readonly failureBackoffMs: number;
  private readonly maxFailureBackoffMs: number;
  private readonly clock: () => number;
  private readonly listener: CacheListener;
  private readonly entries = new Map<string, Entry>();
  private seq = 0;
  /** Changes whenever any entry changes; lets callers reuse a snapshot without looking at entries. */
  version = 0;

  constructor(options: SecretCacheOptions) {
    this.fetcher = options.fetch;
    this.ttlMs = positiveMs('ttlMs', options.ttlMs ?? Infinity);
    this.maxStaleMs = nonNegativeMs('maxStaleMs', options.maxStaleMs ?? Infinity);
    this.failureBackoffMs = positiveMs('failureBackoffMs', options.failureBackoffMs ?? 1000);
    this.maxFailureBackoffMs = positiveMs('maxFailureBackoffMs', options.maxFailureBackoffMs ?? 60_000);
    if (this.maxFailureBackoffMs < this.failureBackoffMs) {
      throw new RangeError('maxFailureBackoffMs must not be less than failureBackoffMs');
    }
    this.clock = options.clock ?? Date.now;
    this.listener = options.listener ?? {};
  }

  /**
   * Values for `requests`: cached ones at once (starting background refreshes for soft-expired
   * ones), missing or expired ones fetched (one fetch for all of them, joined by concurrent
   * callers) and awaited until `deadline` at most.
   */
  async get(requests: readonly CacheRequest[], deadline: number): Promise<Map<string, CacheResult>> {
    const now = this.clock();
    const results = new Map<string, CacheResult>();
    const waiting: Entry[] = [];
    const toFetch: Entry[] = [];
    const toRefresh: Entry[] = [];
    for (const { reference, optional = false } of requests) {
      const entry = this.entry(reference);
      const decision = this.decide(entry, optional, now);
      if (decision === 'fresh' || decision === 'stale') {
        results.set(reference.key, this.hit(entry, true));
        if (decision === 'stale' && this.mayRefresh(entry, now)) toRefresh.push(entry);
      } else if (decision === 'held') {
        results.set(reference.key, this.miss(entry, now));
      } else {
        waiting.push(entry);
        if (decision === 'fetch') toFetch.push(entry);
      }
    }
    if (toRefresh.length > 0) this.startFlight(toRefresh, deadline);
    if (toFetch.length > 0) this.startFlight(toFetch, deadline);
    if (waiting.length > 0) {
      const flights = waiting.map((entry) => entry.flight!);
      await untilDeadline(Promise.all(flights.map((flight) => flight.done)), deadline, this.clock);
      const after = this.clock();
      waiting.forEach((entry, index) => results.set(entry.reference.key, this.settle(entry, flights[index]!, after)));
    }
    return results;
  }

  /** Starts fetching what `get` would fetch, without waiting (for INIT). */
  prefetch(requests: readonly CacheRequest[], deadline: number): void {
    const now = this.clock();
    const toFetch = requests
      .map(({ reference, optional = false }) => ({ entry: this.entry(reference), optional }))
      .filter(({ entry, optional }) => this.decide(entry, optional, now) === 'fetch')
      .map(({ entry }) => entry);
    if (toFetch.length > 0) this.startFlight(toFetch, deadline);
  }

  /**
   * Fetches one reference, or several, now, whatever their age (after a downstream 401, say), in
   * one fetch that also takes along every one of `candidates` found in the same 1Password item as
   * one of them. A reference already in a forced fetch joins it (concurrent refreshes share one
   * fetch); one whose permanent failure is still in its backoff answers without a request. Several
   * references answer by `SecretReference.key`.
   */
  refresh(reference: SecretReference, deadline: number, candidates?: readonly SecretReference[]): Promise<CacheResult>;
  refresh(references: readonly SecretReference[], deadline: number, candidates?: readonly SecretReference[]): Promise<Map<string, CacheResult>>;
  async refresh(
    target: SecretReference | readonly SecretReference[],
    deadline: number,
    candidates: readonly SecretReference[] = [],
  ): Promise<CacheResult | Map<string, CacheResult>> {
    if (!isReferenceList(target)) return (await this.refreshAll([target], deadline, candidates)).get(target.key)!;
    return this.refreshAll(target, deadline, candidates);
  }

  /** Usable values for `requests` and how long that answer holds (see CacheSnapshot). */
  snapshot(requests: readonly CacheRequest[]): CacheSnapshot {
    const now = this.clock();
    const values = new Map<string, string | undefined>();
    let validUntil = Infinity;
    for (const { reference, optional = false } of requests) {
      const entry = this.entries.get(reference.key);
      const usable = entry !== undefined && this.isUsable(entry, now);
      values.set(reference.key, usable ? entry.value : undefined);
      validUntil = Math.min(validUntil, usable ? entry.fetchedAt + this.ttlMs : this.missingUntil(entry, optional, now));
    }
    return { version: this.version, validUntil, values };
  }

  /** Readiness and age of one reference; never its value. */
  state(key: string): SecretState {
    const entry = this.entries.get(key);
    const now = this.clock();
    if (!entry || !this.isUsable(entry, now)) return { ready: false };
    return { ready: true, itemVersion: entry.itemVersion, ageMs: now - entry.fetchedAt };
  }

  /** Forgets every value and failure. Fetches in flight land nowhere. */
  clear(): void {
    this.entries.clear();
    this.version++;
  }

  private entry(reference: SecretReference): Entry {
    let entry = this.entries.get(reference.key);
    if (!entry) {
      entry = new Entry(reference);
      this.entries.set(reference.key, entry);
    }
    return entry;
  }

  private decide(entry: Entry, optional: boolean, now: number): Decision {
    if (entry.value !== undefined) {
      const ageMs = now - entry.fetchedAt;
      if (ageMs < this.ttlMs) return 'fresh';
      if (ageMs < this.ttlMs + this.maxStaleMs) return 'stale';
    }
    if (entry.flight && this.isLive(entry.flight, now)) return 'join';
    if (entry.failure && now < holdUntil(entry.failure, optional)) return 'held';
    return 'fetch';
  }

  /** One forced fetch for the references not yet in one, with their item mates; then every answer. */
  private async refreshAll(
    references: readonly SecretReference[],
    deadline: number,
    candidates: readonly SecretReference[],
  ): Promise<Map<string, CacheResult>> {
    const now = this.clock();
    const results = new Map<string, CacheResult>();
    const flights = new Map<Entry, Flight>();
    const starting: Entry[] = [];
    for (const entry of references.map((reference) => this.entry(reference))) {
      if (this.isHeld(entry, now)) results.set(entry.reference.key, this.miss(entry, now));
      else if (entry.forced && this.isLive(entry.forced, now)) flights.set(entry, entry.forced);
      else if (!starting.includes(entry)) starting.push(entry);
    }
    if (starting.length > 0) {
      const flight = this.startFlight(this.withItemMates(starting, candidates, now), deadline, true);
      for (const entry of starting) flights.set(entry, flight);
    }
    if (flights.size === 0) return results;
    await untilDeadline(Promise.all([...new Set(flights.values())].map((flight) => flight.done)), deadline, this.clock);
    const after = this.clock();
    for (const [entry, flight] of flights) results.set(entry.reference.key, this.refreshed(entry, flight, after));
    return results;
  }

  /** A permanent failure still in its backoff: not even a forced refresh asks again. */
  private isHeld(entry: Entry, now: number): boolean {
    return entry.failure !== undefined && !entry.failure.error.retryable && now < entry.failure.backoffUntil;
  }

  /** `entries` and every candidate in the same item as one of them, unless already being forced or held. */
  private withItemMates(entries: readonly Entry[], candidates: readonly SecretReference[], now: number): Entry[] {
    const chosen = new Set(entries);
    for (const candidate of candidates) {
      const mate = this.entry(candidate);
      if (chosen.has(mate) || this.isHeld(mate, now) || (mate.forced && this.isLive(mate.forced, now))) continue;
      if (entries.some((entry) => sameItem(entry, mate))) chosen.add(mate);
    }
    return [...chosen];
  }

  /** What a forced refresh answers: the new value, else why there is none. */
  private refreshed(entry: Entry, flight: Flight, now: number): CacheResult {
    // Unsettled at the deadline: the cached value is the one being replaced, not an answer.
    if (!flight.settled) return deadlinePassed(entry);
    if (entry.failure) return this.miss(entry, now);
    return this.settle(entry, flight, now);
  }

  private mayRefresh(entry: Entry, now: number): boolean {
    const flying = entry.flight !== undefined && this.isLive(entry.flight, now);
    return !flying && (!entry.failure || now >= entry.failure.backoffUntil);
  }

  private isLive(flight: Flight, now: number): boolean {
    return !flight.settled && now <= flight.deadline + ABANDONED_FLIGHT_GRACE_MS;
  }

  private isUsable(entry: Entry, now: number): entry is Entry & { value: string } {
    return entry.value !== undefined && now - entry.fetchedAt < this.ttlMs + this.maxStaleMs;
  }

  private missingUntil(entry: Entry | undefined, optional: boolean, now: number): number {
    if (!optional || !entry?.failure || (entry.flight && this.isLive(entry.flight, now))) return -Infinity;
    return entry.failure.backoffUntil;
  }

  private startFlight(entries: readonly Entry[], deadline: number, forced = false): Flight {
    const seq = ++this.seq;
    const references = entries.map((entry) => entry.reference);
    const flight: Flight = { seq, deadline, settled: false, done: Promise.resolve() };
    flight.done = this.fetchSafely(references, deadline).then((outcome) => {
      flight.settled = true;
      this.apply(entries, outcome, seq);
    });
    for (const entry of entries) {
      entry.flight = flight;
      if (forced) entry.forced = flight;
    }
    return flight;
  }

  private async fetchSafely(references: readonly SecretReference[], deadline: number): Promise<FetchOutcome> {
    try {
      return await this.fetcher(references, deadline);
    } catch (error) {
      const failure = error instanceof ConnectError ? error : new ConnectError('NETWORK', 'the resolver failed', { cause: error });
      return { values: new Map(), errors: new Map(references.map((reference) => [reference.key, failure.forReference(reference.raw)])) };
    }
  }

  private apply(entries: readonly Entry[], outcome: FetchOutcome, seq: number): void {
    const now = this.clock();
    for (const entry of entries) {
      if (seq < entry.appliedSeq || this.entries.get(entry.reference.key) !== entry) continue;
      entry.appliedSeq = seq;
      const key = entry.reference.key;
      const fetched = outcome.values.get(key);
      if (fetched) this.store(entry, fetched, now);
      else this.recordFailure(entry, outcome.errors.get(key) ?? noResult(entry.reference), now);
    }
    this.version++;
  }

  private store(entry: Entry, fetched: FetchedSecret, now: number): void {
    const previous = entry.value === undefined ? undefined : { value: entry.value, itemVersion: entry.itemVersion };
    entry.value = fetched.value;
    entry.itemVersion = fetched.itemVersion;
    if (fetched.vaultId && fetched.itemId) entry.location = { vaultId: fetched.vaultId, itemId: fetched.itemId };
    entry.fetchedAt = now;
    entry.failure = undefined;
    if (previous) {
      this.notify(() =>
        this.listener.refreshed?.(entry.reference, {
          previousItemVersion: previous.itemVersion,
          itemVersion: fetched.itemVersion,
          changed: previous.value !== fetched.value,
        }),
      );
    }
  }

  private recordFailure(entry: Entry, error: ConnectError, now: number): void {
    const consecutive = (entry.failure?.consecutive ?? 0) + 1;
    const backoffMs = this.failureBackoffMs * 2 ** (consecutive - 1);
    const serverWaitMs = error.retryAfterMs ?? 0;
    const transientCapMs = Math.min(this.maxFailureBackoffMs, TRANSIENT_BACKOFF_CAP_MS);
    entry.failure = {
      error,
      consecutive,
      backoffUntil: now + Math.max(Math.min(backoffMs, this.maxFailureBackoffMs), serverWaitMs),
      transientRetryAt: now + Math.max(Math.min(backoffMs, transientCapMs), serverWaitMs),
      serverRetryAt: now + serverWaitMs,
    };
    const servingStale = error.retryable && this.isUsable(entry, now);
    if (!servingStale) {
      entry.value = undefined;
      entry.itemVersion = undefined;
    }
    const retryAfterMs = this.retryAt(entry, entry.failure, now) - now;
    this.notify(() => this.listener.failed?.(entry.reference, { error, servingStale, retryAfterMs }));
    if (servingStale) this.notify(() => this.listener.stale?.(entry.reference, { ageMs: now - entry.fetchedAt, error }));
  }

  private settle(entry: Entry, flight: Flight, now: number): CacheResult {
    if (this.isUsable(entry, now)) return this.hit(entry, false);
    if (!flight.settled) return deadlinePassed(entry);
    return this.miss(entry, now);
  }

  private hit(entry: Entry, fromCache: boolean): CacheResult {
    return { ok: true, value: entry.value!, itemVersion: entry.itemVersion, fetchedAt: entry.fetchedAt, fromCache };
  }

  private miss(entry: Entry, now: number): CacheResult {
    if (!entry.failure) return { ok: false, error: noResult(entry.reference), retryAfterMs: 0 };
    return { ok: false, error: entry.failure.error, retryAfterMs: Math.max(0, this.retryAt(entry, entry.failure, now) - now) };
  }

  /**
   * When asking again makes sense: a value still served (stale-if-error) is only refreshed, which
   * waits for nothing but the server's Retry-After; otherwise, when the hold of `failure` ends.
   */
  private retryAt(entry: Entry, failure: Failure, now: number): number {
    const servingStale = failure.error.retryable && this.isUsable(entry, now);
    return servingStale ? failure.serverRetryAt : holdUntil(failure, false);
  }

  /** Listeners report; they must never break the cache. */
  private notify(report: () => void): void {
    try {
      report();
    } catch {
      // A failing audit sink is not a reason to fail a secret.
    }
  }
}

/**
 * Whether two references lead to the same item, as far as the cache knows: by the ids they were
 * last resolved to when both were, else by their vault and item segments (names match
 * case-insensitively; a segment may also be the id the other was resolved to).
 */
function sameItem(a: Entry, b: Entry): boolean {
  if (a.location && b.location) return a.location.vaultId === b.location.vaultId && a.location.itemId === b.location.itemId;
  const matches = (x: string, y: string, yId: string | undefined): boolean => x.toLowerCase() === y.toLowerCase() || x === yId;
  const sameSegment = (part: 'vault' | 'item', id: 'vaultId' | 'itemId'): boolean =>
    matches(a.reference[part], b.reference[part], b.location?.[id]) || matches(b.reference[part], a.reference[part], a.location?.[id]);
  return sameSegment('vault', 'vaultId') && sameSegment('item', 'itemId');
}

function isReferenceList(target: SecretReference | readonly SecretReference[]): target is readonly SecretReference[] {
  return Array.isArray(target);
}

function holdUntil(failure: Failure, optional: boolean): number {
  return optional || !failure.error.retryable ? failure.backoffUntil : failure.transientRetryAt;
}

function deadlinePassed(entry: Entry): CacheResult {
  const error = new ConnectError('TIMEOUT', 'the secret was not resolved before the deadline', { reference: entry.reference.raw });
  return { ok: false, error, retryAfterMs: 0 };
}

function noResult(reference: SecretReference): ConnectError {
  return new ConnectError('INVALID_RESPONSE', 'the resolver returned no result', { reference: reference.raw });
}

/** Waits for `work`, or until `deadline` (epoch ms by `clock`), whichever comes first. */
async function untilDeadline(work: Promise<unknown>, deadline: number, clock: () => number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - clock()));
  });
  try {
    await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
