/**
 * The per-container secret cache, keyed by reference (`SecretReference.key`): which references
 * need a fetch, which are served as they are, and what a fetch's outcome does to each entry.
 *
 * The rules live in files of their own: freshness (ttlMs, maxStaleMs) in ./freshness.ts, failure
 * backoff in ./failure-backoff.ts, single flight in ./single-flight.ts, an item's other declared
 * secrets in ./item-mates.ts. A permanent failure drops the value (revocation wins); a transient
 * one keeps it while it is usable. The cache knows nothing of HTTP: it asks a SecretSource.
 */
import { systemClock, type Clock } from '../deadline';
import { ConnectError } from '../errors';
import type { SecretReference } from '../reference';
import type { FetchReport, SecretSource, SourcedSecret, SourceOutcome } from '../source';
import { Entry } from './entry';
import { FailureBackoff, holdUntil, isHeldPermanently, type Failure } from './failure-backoff';
import { Freshness } from './freshness';
import { withItemMates } from './item-mates';
import { awaitFlights, isLive, startFlight, type Flight } from './single-flight';

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
  readonly source: SecretSource;
  /** Told of every item the source fetches. */
  readonly onFetch?: (report: FetchReport) => void;
  /** @default Infinity (the container's lifetime); see ./freshness.ts */
  readonly ttlMs?: number;
  /** @default Infinity */
  readonly maxStaleMs?: number;
  /** @default 1000; see ./failure-backoff.ts */
  readonly failureBackoffMs?: number;
  /** @default 60000 */
  readonly maxFailureBackoffMs?: number;
  /** @default Date.now */
  readonly clock?: Clock;
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

/** Readiness of one cached reference, for health checks; never a value. */
export interface SecretState {
  /** A value is cached and may be served. */
  readonly ready: boolean;
  readonly itemVersion?: number;
  readonly ageMs?: number;
}

type Decision = 'fresh' | 'stale' | 'held' | 'join' | 'fetch';

export class SecretCache {
  private readonly source: SecretSource;
  private readonly onFetch?: (report: FetchReport) => void;
  private readonly freshness: Freshness;
  private readonly backoff: FailureBackoff;
  private readonly clock: Clock;
  private readonly listener: CacheListener;
  private readonly entries = new Map<string, Entry>();
  private seq = 0;
  /** Changes whenever any entry changes; lets callers reuse a snapshot without looking at entries. */
  version = 0;

  constructor(options: SecretCacheOptions) {
    this.source = options.source;
    this.onFetch = options.onFetch;
    this.freshness = new Freshness(options);
    this.backoff = new FailureBackoff(options);
    this.clock = options.clock ?? systemClock;
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
    if (toRefresh.length > 0) this.fly(toRefresh, deadline);
    if (toFetch.length > 0) this.fly(toFetch, deadline);
    if (waiting.length > 0) {
      const flights = waiting.map((entry) => entry.flight!);
      await awaitFlights(flights, deadline, this.clock);
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
    if (toFetch.length > 0) this.fly(toFetch, deadline);
  }

  /**
   * Fetches `references` now, whatever their age (after a downstream 401, say), in one fetch that
   * also takes along every one of `candidates` found in the same 1Password item as one of them. A
   * reference already in a forced fetch joins it (concurrent refreshes share one fetch); one whose
   * permanent failure is still in its backoff answers without a request. Several references
   * answer by `SecretReference.key`.
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
      if (isHeldPermanently(entry.failure, now)) results.set(entry.reference.key, this.miss(entry, now));
      else if (isLive(entry.forced, now)) flights.set(entry, entry.forced);
      else if (!starting.includes(entry)) starting.push(entry);
    }
    if (starting.length > 0) {
      const mayJoin = (mate: Entry): boolean => !isHeldPermanently(mate.failure, now) && !isLive(mate.forced, now);
      const mates = withItemMates(starting, candidates.map((candidate) => this.entry(candidate)), mayJoin);
      const flight = this.fly(mates, deadline, true);
      for (const entry of starting) flights.set(entry, flight);
    }
    if (flights.size === 0) return results;
    await awaitFlights(flights.values(), deadline, this.clock);
    const after = this.clock();
    for (const [entry, flight] of flights) results.set(entry.reference.key, this.refreshed(entry, flight, after));
    return results;
  }

  /** Usable values for `requests` and how long that answer holds (see CacheSnapshot). */
  snapshot(requests: readonly CacheRequest[]): CacheSnapshot {
    const now = this.clock();
    const values = new Map<string, string | undefined>();
    let validUntil = Infinity;
    for (const { reference, optional = false } of requests) {
      const entry = this.entries.get(reference.key);
      const usable = entry !== undefined && this.freshness.isUsable(entry, now);
      values.set(reference.key, usable ? entry.value : undefined);
      validUntil = Math.min(validUntil, usable ? this.freshness.freshUntil(entry) : this.missingUntil(entry, optional, now));
    }
    return { version: this.version, validUntil, values };
  }

  /** Readiness and age of one reference; never its value. */
  state(key: string): SecretState {
    const entry = this.entries.get(key);
    const now = this.clock();
    if (!entry || !this.freshness.isUsable(entry, now)) return { ready: false };
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
    const age = this.freshness.age(entry, now);
    if (age !== 'expired') return age;
    if (isLive(entry.flight, now)) return 'join';
    if (entry.failure && now < holdUntil(entry.failure, optional)) return 'held';
    return 'fetch';
  }

  /** What a forced refresh answers: the new value, else why there is none. */
  private refreshed(entry: Entry, flight: Flight, now: number): CacheResult {
    // Unsettled at the deadline: the cached value is the one being replaced, not an answer.
    if (!flight.settled) return deadlinePassed(entry);
    if (entry.failure) return this.miss(entry, now);
    return this.settle(entry, flight, now);
  }

  private mayRefresh(entry: Entry, now: number): boolean {
    return !isLive(entry.flight, now) && (!entry.failure || now >= entry.failure.backoffUntil);
  }

  /** Until when a missing value stays missing without a fetch: only an optional one, in its backoff. */
  private missingUntil(entry: Entry | undefined, optional: boolean, now: number): number {
    if (!optional || !entry?.failure || isLive(entry.flight, now)) return -Infinity;
    return entry.failure.backoffUntil;
  }

  /** One fetch for `entries`, which they (and later callers) join. */
  private fly(entries: readonly Entry[], deadline: number, forced = false): Flight {
    const seq = ++this.seq;
    const references = entries.map((entry) => entry.reference);
    const flight = startFlight(seq, deadline, () => this.resolveSafely(references, deadline), (outcome) => this.apply(entries, outcome, seq));
    for (const entry of entries) {
      entry.flight = flight;
      if (forced) entry.forced = flight;
    }
    return flight;
  }

  private async resolveSafely(references: readonly SecretReference[], deadline: number): Promise<SourceOutcome> {
    try {
      return await this.source.resolve(references, { deadline, onFetch: this.onFetch });
    } catch (error) {
      const failure = error instanceof ConnectError ? error : new ConnectError('NETWORK', 'the secret source failed', { cause: error });
      return { values: new Map(), errors: new Map(references.map((reference) => [reference.key, failure.forReference(reference.raw)])) };
    }
  }

  private apply(entries: readonly Entry[], outcome: SourceOutcome, seq: number): void {
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

  private store(entry: Entry, fetched: SourcedSecret, now: number): void {
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
    entry.failure = this.backoff.next(entry.failure, error, now);
    const servingStale = error.retryable && this.freshness.isUsable(entry, now);
    if (!servingStale) {
      entry.value = undefined;
      entry.itemVersion = undefined;
    }
    const retryAfterMs = this.retryAt(entry, entry.failure, now) - now;
    this.notify(() => this.listener.failed?.(entry.reference, { error, servingStale, retryAfterMs }));
    if (servingStale) this.notify(() => this.listener.stale?.(entry.reference, { ageMs: now - entry.fetchedAt, error }));
  }

  private settle(entry: Entry, flight: Flight, now: number): CacheResult {
    if (this.freshness.isUsable(entry, now)) return this.hit(entry, false);
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
    const servingStale = failure.error.retryable && this.freshness.isUsable(entry, now);
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

function isReferenceList(target: SecretReference | readonly SecretReference[]): target is readonly SecretReference[] {
  return Array.isArray(target);
}

function deadlinePassed(entry: Entry): CacheResult {
  const error = new ConnectError('TIMEOUT', 'the secret was not resolved before the deadline', { reference: entry.reference.raw });
  return { ok: false, error, retryAfterMs: 0 };
}

function noResult(reference: SecretReference): ConnectError {
  return new ConnectError('INVALID_RESPONSE', 'the secret source returned no result', { reference: reference.raw });
}
