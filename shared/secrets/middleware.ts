/**
 * `opSecrets()`: the Middy middleware that gives a handler its 1Password secrets.
 *
 * Called at module load (Lambda INIT), it validates the declarations and starts fetching without
 * blocking INIT. Each invocation then finds its secrets on `context.secrets` (and in
 * `request.internal`): with nothing to do when every value is fresh, which is the warm path, or
 * after waiting for what is missing, never past a deadline taken from the invocation's remaining
 * time. A required secret that cannot be had becomes a SecretsUnavailableError: a 503 problem for
 * API Gateway events, a thrown error for every other event source.
 */
import type { MiddlewareObj, Request } from '@middy/core';
import type { Context } from 'aws-lambda';
import { SecretAudit, type AuditLogger, type AuditMetrics, type FetchReport } from '../audit/audit';
import { isApiGatewayEvent } from '../http/events';
import { secretsUnavailableResponse } from '../http/problem';
import { SecretCache, type CacheListener, type CacheRequest, type CacheResult, type FetchOutcome, type SecretState } from './cache';
import { ConnectResolver } from './connect';
import { collectDeclarations, type DeclaredSecret, type Environment, type SecretDeclarations } from './declarations';
import { nonNegativeMs, positiveMs } from './durations';
import { SecretDeclarationError, SecretsUnavailableError } from './errors';
import type { SecretReference } from './reference';
import { connectTokenSource, type ConnectTokenSource } from './token';
import { cacheHits, defineSecretsView, MASK_BITS, namesRead, WARM, type SecretsViewClass, type ViewOrigin, type ViewReport } from './view';

/** Resolves references over Connect (ConnectResolver), or anything shaped like it. */
export interface SecretResolver {
  resolve(
    references: readonly SecretReference[],
    options: { deadline: number; onFetch?: (event: FetchReport) => void },
  ): Promise<FetchOutcome>;
  clearIndex?(): void;
}

export interface OpSecretsOptions<S extends SecretDeclarations = SecretDeclarations> {
  /**
   * Secrets declared in code: `{ NAME: 'op://vault/item/field' }`, or
   * `{ NAME: { reference?, required? } }` where a missing reference is read from the environment
   * variable NAME.
   * @default {}
   */
  readonly secrets?: S;
  /**
   * Also declare every environment variable whose value starts with `op://` (the `op run`
   * convention). For a name declared both ways the environment's reference wins.
   * @default true
   */
  readonly fromEnv?: boolean;
  /**
   * Do not start fetching when `opSecrets()` is called (at INIT); fetch on the first invocation.
   * @default false
   */
  readonly disablePrefetch?: boolean;
  /**
   * Age after which a value is refreshed in the background of the invocation that notices it,
   * while still being served.
   * @default Infinity (values live as long as the container)
   */
  readonly ttlMs?: number;
  /**
   * How long past `ttlMs` the last good value is served while refreshes fail transiently.
   * @default Infinity
   */
  readonly maxStaleMs?: number;
  /**
   * How long a failure is remembered before 1Password is asked again; doubles with each
   * consecutive failure (protects rate limits). Connect's Retry-After wins when it is longer.
   * @default 1000
   */
  readonly failureBackoffMs?: number;
  /**
   * Cap of the doubling. A transient failure (Connect down, 5xx, 429, timeout) of a required secret
   * with no usable value doubles up to `min(maxFailureBackoffMs, 5000)` only, so recovery is quick.
   * @default 60000
   */
  readonly maxFailureBackoffMs?: number;
  /**
   * The longest an invocation (or a `refresh()`, or the prefetch) waits for secrets.
   * @default 5000
   */
  readonly timeoutMs?: number;
  /**
   * Time kept before the Lambda timeout to answer: an invocation waits for secrets until
   * `getRemainingTimeInMillis() - reserveMs` at the latest.
   * @default 500
   */
  readonly reserveMs?: number;
  /**
   * Also copy values into `process.env` (which child processes and crash dumps inherit).
   * @default false
   */
  readonly setToEnv?: boolean;
  /** Where env declarations and the Connect settings are read. @default process.env */
  readonly env?: Environment;
  /** @default ConnectResolver.fromEnv(env, Connect token from connectTokenSource({ env })) */
  readonly resolver?: SecretResolver;
  /**
   * The `service` of audit lines and metrics.
   * @default POWERTOOLS_SERVICE_NAME, else AWS_LAMBDA_FUNCTION_NAME, else 'op-lambda'
   */
  readonly serviceName?: string;
  /** For audit events: a Powertools Logger, say. @default a Powertools Logger */
  readonly logger?: AuditLogger;
  /** For metrics: a Powertools Metrics. @default Powertools Metrics, namespace OpLambda */
  readonly metrics?: AuditMetrics;
  /** Where `secret.access` lines go. @default process.stdout.write */
  readonly auditWrite?: (line: string) => void;
  /** Epoch milliseconds, for the cache. @default Date.now */
  readonly clock?: () => number;
}

type Optionality<T> = T extends { readonly required: false } ? undefined : never;

/** A declared name: those of the code declaration by type, env-declared ones as any string. */
export type SecretName<S extends SecretDeclarations = SecretDeclarations> = (keyof S & string) | (string & {});

/** What `refresh(names)` resolves to: a value per name, `undefined` for an optional one that failed. */
export type RefreshedSecrets<S extends SecretDeclarations, N extends string> = {
  readonly [K in N]: K extends keyof S ? string | Optionality<S[K]> : string | undefined;
};

/** `context.secrets`: declared names typed from the declaration, env-declared ones by index. */
export type SecretValues<S extends SecretDeclarations = SecretDeclarations> = {
  readonly [K in keyof S]: string | Optionality<S[K]>;
} & Readonly<Record<string, string | undefined>>;

export interface SecretsContext<S extends SecretDeclarations = SecretDeclarations> extends Context {
  secrets: SecretValues<S>;
}

/** Readiness of one declared secret, for health checks; never a value. */
export type SecretStatus = SecretState;

type SecretsRequest<S extends SecretDeclarations> = Request<unknown, unknown, Error, SecretsContext<S>>;

export interface OpSecretsMiddleware<S extends SecretDeclarations = SecretDeclarations>
  extends MiddlewareObj<unknown, unknown, Error, SecretsContext<S>> {
  readonly name: string;
  // Methods rather than function properties: an OpSecretsMiddleware<S> is then usable wherever
  // an OpSecretsMiddleware (of any declaration) is expected.
  before(request: SecretsRequest<S>): void | Promise<void>;
  after(request: SecretsRequest<S>): void;
  onError(request: SecretsRequest<S>): void;
  /**
   * Fetches one secret again now (after a downstream 401, say) and returns the new value. The
   * other declared secrets of its 1Password item come along in the same request, so they never
   * lag behind a rotation; concurrent calls share one fetch. Rejects with SecretsUnavailableError.
   */
  refresh(name: SecretName<S>): Promise<string>;
  /**
   * Fetches several secrets again now, in one resolve (one request per item, with the items' other
   * declared secrets), and returns their values by name. An optional secret that cannot be had is
   * `undefined`; a required one rejects the whole call with SecretsUnavailableError.
   */
  refresh<const N extends SecretName<S>>(names: readonly N[]): Promise<RefreshedSecrets<S, N>>;
  /** Readiness per declared name, for health checks; never a value. */
  status(): Record<string, SecretStatus>;
  /** Forgets every value (tests; a forced reload). */
  clearCache(): void;
}

interface FastPath {
  readonly version: number;
  readonly validUntil: number;
  readonly values: readonly (string | undefined)[];
  readonly internal: Readonly<Record<string, string | undefined>>;
}

/** A declared name whose secret could not be had, and why. */
interface Unavailable {
  readonly name: string;
  readonly result: Extract<CacheResult, { ok: false }>;
}

const MIDDLEWARE_NAME = 'op-secrets';
const OPTION_NAMES: ReadonlySet<string> = new Set<keyof OpSecretsOptions>([
  'secrets',
  'fromEnv',
  'disablePrefetch',
  'ttlMs',
  'maxStaleMs',
  'failureBackoffMs',
  'maxFailureBackoffMs',
  'timeoutMs',
  'reserveMs',
  'setToEnv',
  'env',
  'resolver',
  'serviceName',
  'logger',
  'metrics',
  'auditWrite',
  'clock',
]);
const NOT_YET: FastPath = { version: -1, validUntil: -Infinity, values: [], internal: {} };

/** The Middy middleware; call it at module scope so that fetching starts during INIT. */
export function opSecrets<const S extends SecretDeclarations = Record<never, never>>(options: OpSecretsOptions<S> = {}): OpSecretsMiddleware<S> {
  const runtime = new SecretsRuntime(options);
  return {
    name: MIDDLEWARE_NAME,
    before: (request) => runtime.before(request),
    after: (request) => runtime.after(request),
    onError: (request) => runtime.onError(request),
    // One implementation serves both overloads; the runtime checks every name against the declaration.
    refresh: ((target: string | readonly string[]) =>
      typeof target === 'string' ? runtime.refresh(target) : runtime.refreshAll(target)) as OpSecretsMiddleware<S>['refresh'],
    status: () => runtime.status(),
    clearCache: () => runtime.clearCache(),
  };
}

/** One middleware instance's state: instances never share values, even for the same reference. */
class SecretsRuntime {
  private readonly declared: readonly DeclaredSecret[];
  private readonly names: readonly string[];
  private readonly requests: readonly CacheRequest[];
  private readonly namesByKey = new Map<string, string[]>();
  private readonly cache: SecretCache;
  private readonly audit: SecretAudit;
  private readonly resolver?: SecretResolver;
  private readonly token?: ConnectTokenSource;
  private readonly View: SecretsViewClass;
  private readonly namesJson = new Map<number, string>();
  private readonly timeoutMs: number;
  private readonly reserveMs: number;
  private readonly setToEnv: boolean;
  private readonly clock: () => number;
  private fast: FastPath = NOT_YET;
  private envVersion = -1;
  private coldStart = true;
  private lastContext?: Partial<Context>;

  constructor(options: OpSecretsOptions<SecretDeclarations>) {
    // Like Middy's own option validation: a misspelt option fails INIT instead of being ignored.
    const unknown = Object.keys(options).filter((name) => !OPTION_NAMES.has(name));
    if (unknown.length > 0) throw new TypeError(`opSecrets: unknown option(s) ${unknown.map((name) => `"${name}"`).join(', ')}`);
    const env = options.env ?? process.env;
    this.declared = collectDeclarations(options.secrets, env, options.fromEnv ?? true);
    this.names = this.declared.map((secret) => secret.name);
    this.requests = this.distinctRequests();
    this.View = defineSecretsView(this.names);
    this.timeoutMs = positiveMs('timeoutMs', options.timeoutMs ?? 5000);
    this.reserveMs = nonNegativeMs('reserveMs', options.reserveMs ?? 500);
    this.setToEnv = options.setToEnv ?? false;
    this.clock = options.clock ?? Date.now;
    this.audit = new SecretAudit({ serviceName: options.serviceName, logger: options.logger, metrics: options.metrics, write: options.auditWrite });
    if (this.declared.length > 0 && !options.resolver) this.token = connectTokenSource({ env });
    this.resolver = options.resolver ?? (this.token ? ConnectResolver.fromEnv(env, () => this.token!.get()) : undefined);
    this.cache = new SecretCache({
      fetch: (references, deadline) => this.fetch(references, deadline),
      ttlMs: options.ttlMs,
      maxStaleMs: options.maxStaleMs,
      failureBackoffMs: options.failureBackoffMs,
      maxFailureBackoffMs: options.maxFailureBackoffMs,
      clock: this.clock,
      listener: this.cacheListener(),
    });
    if (!options.disablePrefetch) this.cache.prefetch(this.requests, this.clock() + this.timeoutMs);
  }

  /** The warm path does no I/O and allocates one view; everything else is the slow path. */
  before(request: SecretsRequest<SecretDeclarations>): void | Promise<void> {
    this.lastContext = request.context;
    const fast = this.fast;
    if (fast.version === this.cache.version && (fast.validUntil === Infinity || this.clock() < fast.validUntil)) {
      this.attach(request, fast.values, fast.internal, WARM);
      if (this.setToEnv && this.envVersion !== fast.version) this.copyToEnv(fast.values, fast.version);
      return;
    }
    return this.beforeSlow(request);
  }

  after(request: SecretsRequest<SecretDeclarations>): void {
    this.reportAccess(request);
  }

  onError(request: SecretsRequest<SecretDeclarations>): void {
    this.reportAccess(request);
    const error = request.error;
    if (!isSecretsUnavailable(error) || !isApiGatewayEvent(request.event)) return;
    const problem = secretsUnavailableResponse(error.retryAfterSeconds);
    const existing = request.response as { headers?: Record<string, string> } | null | undefined;
    // Another onError (e.g. @middy/http-error-handler) may have answered first: keep its other headers.
    const headers = withoutHeaders(existing?.headers, ['content-type', 'retry-after', 'cache-control']);
    request.response = { ...problem, headers: { ...headers, ...problem.headers } };
  }

  async refresh(name: string): Promise<string> {
    const { [name]: value } = await this.refreshDeclared([this.declaration(name)], true);
    return value!;
  }

  async refreshAll(names: readonly string[]): Promise<Record<string, string | undefined>> {
    return this.refreshDeclared(names.map((name) => this.declaration(name)), false);
  }

  status(): Record<string, SecretStatus> {
    return Object.fromEntries(this.declared.map(({ name, reference }) => [name, this.cache.state(reference.key)]));
  }

  clearCache(): void {
    this.cache.clear();
    this.resolver?.clearIndex?.();
    this.fast = NOT_YET;
  }

  private declaration(name: string): DeclaredSecret {
    const index = this.names.indexOf(name);
    if (index === -1) throw new SecretDeclarationError(name, 'is not declared in this middleware');
    return this.declared[index]!;
  }

  /**
   * One forced fetch for `secrets` and the declared secrets sharing their items. Rejects with
   * SecretsUnavailableError for the required ones that fail (every one when `allRequired`).
   */
  private async refreshDeclared(secrets: readonly DeclaredSecret[], allRequired: boolean): Promise<Record<string, string | undefined>> {
    if (secrets.length === 0) return {};
    const now = this.clock();
    const deadline = Math.min(now + this.timeoutMs, this.invocationLimit(now));
    const candidates = this.requests.map(({ reference }) => reference);
    const results = await this.cache.refresh(secrets.map(({ reference }) => reference), deadline, candidates);
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

  private async beforeSlow(request: SecretsRequest<SecretDeclarations>): Promise<void> {
    const coldStart = this.coldStart;
    const now = this.clock();
    const deadline = Math.min(now + this.timeoutMs, this.invocationLimit(now));
    const results = await this.cache.get(this.requests, deadline);
    this.coldStart = false;
    this.fast = this.buildFastPath();
    const values: (string | undefined)[] = [];
    const internal: Record<string, string | undefined> = {};
    const unavailable: Unavailable[] = [];
    let fromCache = 0;
    this.declared.forEach(({ name, reference, required }, index) => {
      const result = results.get(reference.key)!;
      values.push(result.ok ? result.value : undefined);
      internal[name] = values[index];
      if (result.ok && result.fromCache && index < MASK_BITS) fromCache |= 1 << index;
      if (!result.ok && required) unavailable.push({ name, result });
    });
    if (unavailable.length > 0) throw unavailableError(unavailable);
    this.attach(request, values, internal, { fromCacheMask: fromCache, coldStart });
    if (this.setToEnv) this.copyToEnv(values, this.cache.version);
  }

  private attach(
    request: SecretsRequest<SecretDeclarations>,
    values: readonly (string | undefined)[],
    internal: Readonly<Record<string, string | undefined>>,
    origin: ViewOrigin,
  ): void {
    request.context.secrets = new this.View(values, origin) as SecretValues;
    request.internal = withInternal(request.internal, internal);
  }

  /** One `secret.access` line per invocation that read secrets. */
  private reportAccess(request: SecretsRequest<SecretDeclarations>): void {
    const report = this.View.takeReport(request.context.secrets);
    if (!report) return;
    try {
      this.audit.access({
        namesJson: this.namesJsonFor(report),
        cacheHits: cacheHits(report),
        event: request.event,
        awsRequestId: request.context.awsRequestId,
        coldStart: report.coldStart,
      });
    } catch {
      // An audit sink failing must not fail the response.
    }
  }

  /** The JSON array of names read; cached per set of names (the common sets repeat). */
  private namesJsonFor(report: ViewReport): string {
    const cacheable = report.readBeyondMask === undefined;
    let json = cacheable ? this.namesJson.get(report.readMask) : undefined;
    if (json === undefined) {
      json = JSON.stringify(namesRead(report, this.names));
      if (cacheable) this.namesJson.set(report.readMask, json);
    }
    return json;
  }

  /** Until when the current answer holds without looking at the cache. */
  private buildFastPath(): FastPath {
    const snapshot = this.cache.snapshot(this.requests);
    const values = this.declared.map(({ reference }) => snapshot.values.get(reference.key));
    const requiredMissing = this.declared.some(({ required }, index) => required && values[index] === undefined);
    const internal = Object.fromEntries(this.names.map((name, index) => [name, values[index]]));
    return { version: snapshot.version, validUntil: requiredMissing ? -Infinity : snapshot.validUntil, values, internal };
  }

  /** The latest moment this invocation may still wait for secrets. */
  private invocationLimit(now: number): number {
    const remaining = this.lastContext?.getRemainingTimeInMillis?.();
    return typeof remaining === 'number' && Number.isFinite(remaining) ? now + remaining - this.reserveMs : Infinity;
  }

  private fetch(references: readonly SecretReference[], deadline: number): Promise<FetchOutcome> {
    if (!this.resolver) return Promise.resolve({ values: new Map(), errors: new Map() });
    return this.resolver.resolve(references, { deadline, onFetch: (report) => this.audit.fetched(report, this.coldStart) });
  }

  private cacheListener(): CacheListener {
    const names = (reference: SecretReference): string[] => this.namesByKey.get(reference.key) ?? [];
    return {
      refreshed: (reference, info) => this.audit.refreshed(names(reference), reference.raw, info),
      stale: (reference, info) => this.audit.stale(names(reference), reference.raw, info),
      failed: (reference, info) => {
        // A 401 may mean the token was rotated: read it again before the next attempt.
        if (info.error.code === 'UNAUTHORIZED') this.token?.invalidate();
        this.audit.failed(names(reference), reference.raw, info);
      },
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

  private copyToEnv(values: readonly (string | undefined)[], version: number): void {
    this.names.forEach((name, index) => {
      const value = values[index];
      if (value === undefined) Reflect.deleteProperty(process.env, name);
      else process.env[name] = value;
    });
    this.envVersion = version;
  }
}

function isSecretsUnavailable(error: unknown): error is SecretsUnavailableError {
  return error instanceof SecretsUnavailableError || (error as { code?: unknown } | null)?.code === 'SECRETS_UNAVAILABLE';
}

/**
 * `request.internal` with our values added (ours win). A fresh object cloned from a template costs
 * a fraction of assigning ten names into Middy's dictionary-mode object.
 */
function withInternal(existing: Record<string, unknown>, mine: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...mine };
  for (const key in existing) {
    if (!Object.hasOwn(mine, key)) merged[key] = existing[key];
  }
  return merged;
}

function unavailableError(unavailable: readonly Unavailable[]): SecretsUnavailableError {
  const waitMs = Math.max(...unavailable.map(({ result }) => result.retryAfterMs));
  return new SecretsUnavailableError(
    unavailable.map(({ name }) => name),
    retryAfterSeconds(waitMs),
    unavailable.map(({ result }) => result.error),
  );
}

function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

function withoutHeaders(headers: Record<string, string> | undefined, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([key]) => !names.includes(key.toLowerCase())));
}
