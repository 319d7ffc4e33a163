/**
 * The secret store: the declared secrets of one function, served from the per-container cache and
 * fetched from a SecretSource (Connect unless told otherwise). A plain object: the Middy middleware
 * is a thin adapter over it, and a handler without Middy calls it directly:
 *
 *   const store = createSecretStore({ secrets: { STRIPE_KEY: 'op://payments/stripe/credential' } });
 *   export const handler = async (event) => pay((await store.get()).STRIPE_KEY);
 *
 * Created at module load (Lambda INIT), it validates the declarations and starts fetching without
 * blocking INIT. Every wait is bounded by `timeoutMs` and by the caller's own deadline. A required
 * secret that cannot be had is a SecretsUnavailableError.
 */
import { ConnectSource } from '../connect/connect-source';
import { systemClock, type Clock } from '../deadline';
import { SecretDeclarationError, SecretsUnavailableError } from '../errors';
import type { SecretReference } from '../reference';
import type { SecretSource, SourceOutcome } from '../source';
import { positiveMs } from '../durations';
import {
  collectDeclarations,
  type DeclaredSecret,
  type RefreshedSecrets,
  type SecretDeclarations,
  type SecretName,
  type SecretValues,
} from './declarations';
import type { SecretStoreListener } from './listener';
import { FailureBackoff } from './failure-backoff';
import { Revalidation, revalidateMsFrom } from './revalidation';
import { SecretCache, type CacheListener, type CacheRequest, type CacheResult, type SecretState } from './secret-cache';
import { NO_SNAPSHOT, warmSnapshot, type DeclaredValues, type WarmSnapshot } from './snapshot';
import { STORE_OPTIONS, type SecretStoreOptions } from './store-options';


/** Readiness of one declared secret, for health checks; never a value. */
export type SecretStatus = SecretState;

export interface ReadOptions {
  /** Epoch milliseconds (by the store's clock) after which the caller cannot wait; `timeoutMs` applies too. */
  readonly deadline?: number;
}

/** A read that waited for the cache: the values, and where they came from. */
export interface FetchedValues extends DeclaredValues {
  /** Per declared name: served without waiting for a fetch. */
  readonly fromCache: readonly boolean[];
  /** The store had not answered with every value before. */
  readonly coldStart: boolean;
}

export interface SecretStore<S extends SecretDeclarations = SecretDeclarations> {
  /** The declared names, in declaration order. */
  readonly names: readonly string[];
  /** Every declared value. Rejects with SecretsUnavailableError when a required one cannot be had. */
  get(options?: ReadOptions): Promise<SecretValues<S>>;
  /** One declared value; `undefined` for an optional one that cannot be had. */
  get<const N extends SecretName<S>>(name: N, options?: ReadOptions): Promise<RefreshedSecrets<S, N>[N]>;
  /**
   * Fetches one secret again now (after a downstream 401, say) and returns the new value. The
   * other declared secrets of its 1Password item come along in the same request, so they never
   * lag behind a rotation; concurrent calls share one fetch. Rejects with SecretsUnavailableError.
   */
  refresh(name: SecretName<S>, options?: ReadOptions): Promise<string>;
  /**
   * Fetches several secrets again now, in one resolve (one request per item, with the items' other
   * declared secrets), and returns their values by name. An optional secret that cannot be had is
   * `undefined`; a required one rejects the whole call with SecretsUnavailableError.
   */
  refresh<const N extends SecretName<S>>(names: readonly N[], options?: ReadOptions): Promise<RefreshedSecrets<S, N>>;
  /** Readiness per declared name, for health checks; never a value. */
  status(): Record<string, SecretStatus>;
  /** Forgets every value (tests; a forced reload). */
  clearCache(): void;
  /** For adapters: the last values read, while they still hold (no I/O, no allocation); else undefined. */
  warm(): WarmSnapshot | undefined;
  /** For adapters: every declared value, waiting for what is missing. Rejects as `get()` does. */
  fetch(options?: ReadOptions): Promise<FetchedValues>;
}

/** A declared name whose secret could not be had, and why. */
interface Unavailable {
  readonly name: string;
  readonly result: Extract<CacheResult, { ok: false }>;
}

/** The source of a store without declarations, which never asks for anything. */
const NOTHING_DECLARED: SecretSource = {
  resolve: (): Promise<SourceOutcome> => Promise.resolve({ values: new Map(), errors: new Map() }),
};


/** A store for the declared secrets; create it at module scope so that fetching starts during INIT. */
export function createSecretStore<const S extends SecretDeclarations = Record<never, never>>(options: SecretStoreOptions<S> = {}): SecretStore<S> {
  const unknown = Object.keys(options).filter((name) => !STORE_OPTIONS.has(name));
  if (unknown.length > 0) throw new TypeError(`createSecretStore: unknown option(s) ${unknown.map((name) => `"${name}"`).join(', ')}`);
  // One implementation serves every declaration; names are checked against it at run time.
  return new DeclaredSecretStore(options) as unknown as SecretStore<S>;
}

/** One store's state: stores never share values, even for the same reference. */
class DeclaredSecretStore {
  readonly names: readonly string[];
  private readonly declared: readonly DeclaredSecret[];
  private readonly requests: readonly CacheRequest[];
  private readonly namesByKey = new Map<string, string[]>();
  private readonly cache: SecretCache;
  private readonly revalidation: Revalidation;
  private readonly source: SecretSource;
  private readonly listener: SecretStoreListener;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private snapshot: WarmSnapshot = NO_SNAPSHOT;
  private coldStart = true;

  constructor(options: SecretStoreOptions) {
    const env = options.env ?? process.env;
    this.declared = collectDeclarations(options.secrets, env, options.fromEnv ?? true);
    this.names = this.declared.map((secret) => secret.name);
    this.requests = this.distinctRequests();
    this.timeoutMs = positiveMs('timeoutMs', options.timeoutMs ?? 5000);
    this.clock = options.clock ?? systemClock;
    this.listener = options.listener ?? {};
    this.source = options.source ?? (this.declared.length > 0 ? ConnectSource.fromEnv(env, { clock: this.clock }) : NOTHING_DECLARED);
    const revalidateMs = positiveMs('revalidateMs', revalidateMsFrom(options.revalidateMs, env));
    this.cache = new SecretCache({
      source: this.source,
      onFetch: (report) => this.listener.fetched?.(report, this.coldStart),
      ttlMs: options.ttlMs,
      maxStaleMs: options.maxStaleMs,
      revalidateMs: typeof this.source.checkVersions === 'function' ? revalidateMs : Infinity,
      failureBackoffMs: options.failureBackoffMs,
      maxFailureBackoffMs: options.maxFailureBackoffMs,
      clock: this.clock,
      listener: this.cacheListener(),
    });
    this.revalidation = new Revalidation({
      intervalMs: revalidateMs,
      source: this.source,
      cache: this.cache,
      backoff: new FailureBackoff(options),
      clock: this.clock,
    });
    if (!options.disablePrefetch) this.cache.prefetch(this.requests, this.clock() + this.timeoutMs);
  }

  get(options?: ReadOptions): Promise<SecretValues>;
  get(name: string, options?: ReadOptions): Promise<string | undefined>;
  async get(target?: string | ReadOptions, options?: ReadOptions): Promise<SecretValues | string | undefined> {
    if (typeof target !== 'string') return (await this.fetch(target)).byName as SecretValues;
    const { [target]: value } = await this.read([this.declaration(target)], options);
    return value;
  }

  refresh(name: string, options?: ReadOptions): Promise<string>;
  refresh(names: readonly string[], options?: ReadOptions): Promise<Record<string, string | undefined>>;
  async refresh(target: string | readonly string[], options?: ReadOptions): Promise<string | Record<string, string | undefined>> {
    if (typeof target !== 'string') return this.refreshDeclared(target.map((name) => this.declaration(name)), false, options);
    const { [target]: value } = await this.refreshDeclared([this.declaration(target)], true, options);
    return value!;
  }

  status(): Record<string, SecretStatus> {
    return Object.fromEntries(this.declared.map(({ name, reference }) => [name, this.cache.state(reference.key)]));
  }

  clearCache(): void {
    this.cache.clear();
    this.source.forget?.();
    this.revalidation.reset();
    this.snapshot = NO_SNAPSHOT;
  }

  warm(): WarmSnapshot | undefined {
    const snapshot = this.snapshot;
    const validUntil = Math.min(snapshot.validUntil, this.revalidation.dueAt);
    const holds = snapshot.version === this.cache.version && (validUntil === Infinity || this.clock() < validUntil);
    return holds ? snapshot : undefined;
  }

  async fetch(options?: ReadOptions): Promise<FetchedValues> {
    const coldStart = this.coldStart;
    const deadline = this.deadline(options);
    await this.revalidation.whenDue(deadline);
    const results = await this.cache.get(this.requests, deadline);
    this.coldStart = false;
    this.snapshot = warmSnapshot(this.declared, this.cache.snapshot(this.requests));
    const values: (string | undefined)[] = [];
    const byName: Record<string, string | undefined> = {};
    const fromCache: boolean[] = [];
    const unavailable: Unavailable[] = [];
    for (const { name, reference, required } of this.declared) {
      const result = results.get(reference.key)!;
      const value = result.ok ? result.value : undefined;
      values.push(value);
      byName[name] = value;
      fromCache.push(result.ok && result.fromCache);
      if (!result.ok && required) unavailable.push({ name, result });
    }
    if (unavailable.length > 0) throw unavailableError(unavailable);
    return { version: this.cache.version, values, byName, fromCache, coldStart };
  }

  private declaration(name: string): DeclaredSecret {
    const index = this.names.indexOf(name);
    if (index === -1) throw new SecretDeclarationError(name, 'is not declared');
    return this.declared[index]!;
  }

  /** Values of some declared secrets, waiting for what is missing; required ones that fail reject. */
  private async read(secrets: readonly DeclaredSecret[], options: ReadOptions | undefined): Promise<Record<string, string | undefined>> {
    const deadline = this.deadline(options);
    await this.revalidation.whenDue(deadline);
    const results = await this.cached(secrets, deadline);
    return valuesOf(secrets, results, false);
  }

  private cached(secrets: readonly DeclaredSecret[], deadline: number): Promise<Map<string, CacheResult>> {
    const keys = new Set(secrets.map(({ reference }) => reference.key));
    return this.cache.get(this.requests.filter(({ reference }) => keys.has(reference.key)), deadline);
  }

  /**
   * One forced fetch for `secrets` and the declared secrets sharing their items. Rejects with
   * SecretsUnavailableError for the required ones that fail (every one when `allRequired`).
   */
  private async refreshDeclared(
    secrets: readonly DeclaredSecret[],
    allRequired: boolean,
    options: ReadOptions | undefined,
  ): Promise<Record<string, string | undefined>> {
    if (secrets.length === 0) return {};
    const deadline = this.deadline(options);
    if (this.revalidation.enabled && secrets.every(({ reference }) => this.cache.isHeld(reference))) {
      return valuesOf(secrets, await this.checkedFirst(secrets, deadline), allRequired);
    }
    const candidates = this.requests.map(({ reference }) => reference);
    const results = await this.cache.refresh(secrets.map(({ reference }) => reference), deadline, candidates);
    return valuesOf(secrets, results, allRequired);
  }

  /**
   * A refresh of held values asks first whether anything changed (one request) and fetches only
   * the items that did; when the check cannot be made, every one of `secrets` is unavailable.
   */
  private async checkedFirst(secrets: readonly DeclaredSecret[], deadline: number): Promise<Map<string, CacheResult>> {
    const check = await this.revalidation.force(deadline);
    if (!check.ok) {
      const failed: CacheResult = { ok: false, error: check.error, retryAfterMs: check.retryAfterMs };
      return new Map(secrets.map(({ reference }) => [reference.key, failed]));
    }
    const results = await this.cached(secrets, deadline);
    for (const [key, result] of check.refetched) if (results.has(key)) results.set(key, result);
    return results;
  }

  private deadline(options: ReadOptions | undefined): number {
    return Math.min(this.clock() + this.timeoutMs, options?.deadline ?? Infinity);
  }

  /** Reports by reference become reports by declared name. */
  private cacheListener(): CacheListener {
    const names = (reference: SecretReference): string[] => this.namesByKey.get(reference.key) ?? [];
    return {
      refreshed: (reference, info) => this.listener.refreshed?.(names(reference), reference.raw, info),
      stale: (reference, info) => this.listener.stale?.(names(reference), reference.raw, info),
      failed: (reference, info) => this.listener.failed?.(names(reference), reference.raw, info),
    };
  }

  /** One request per distinct reference; optional only if every name using it is optional. */
  private distinctRequests(): CacheRequest[] {
    const byKey = new Map<string, { reference: SecretReference; optional: boolean }>();
    for (const { name, reference, required } of this.declared) {
      const known = byKey.get(reference.key);
      byKey.set(reference.key, { reference, optional: (known?.optional ?? true) && !required });
      this.namesByKey.set(reference.key, [...(this.namesByKey.get(reference.key) ?? []), name]);
    }
    return [...byKey.values()];
  }
}

/** Values by name; rejects with SecretsUnavailableError for the required ones missing (every one when `allRequired`). */
function valuesOf(secrets: readonly DeclaredSecret[], results: ReadonlyMap<string, CacheResult>, allRequired: boolean): Record<string, string | undefined> {
  const values: Record<string, string | undefined> = {};
  const unavailable: Unavailable[] = [];
  for (const { name, reference, required } of secrets) {
    const result = results.get(reference.key)!;
    values[name] = result.ok ? result.value : undefined;
    if (!result.ok && (required || allRequired)) unavailable.push({ name, result });
  }
  if (unavailable.length > 0) throw unavailableError(unavailable);
  return values;
}

function unavailableError(unavailable: readonly Unavailable[]): SecretsUnavailableError {
  const waitMs = Math.max(...unavailable.map(({ result }) => result.retryAfterMs));
  return new SecretsUnavailableError(
    unavailable.map(({ name }) => name),
    Math.max(1, Math.ceil(waitMs / 1000)),
    unavailable.map(({ result }) => result.error),
  );
}
