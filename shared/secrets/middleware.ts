/**
 * `opSecrets()`: the Middy middleware that gives a handler its 1Password secrets, an adapter over
 * the secret store (./store/secret-store.ts), which does the work.
 *
 * Each invocation finds its secrets on `context.secrets` (and in `request.internal`): with no I/O
 * when every value is fresh (the warm path), or after waiting for what is missing, never past a
 * deadline taken from the invocation's remaining time. A required secret that cannot be had is a
 * SecretsUnavailableError: a 503 problem for API Gateway events, rethrown for other event sources.
 */
import type { MiddlewareObj, Request } from '@middy/core';
import type { Context } from 'aws-lambda';
import { AccessLog } from '../audit/access-log';
import { SecretAudit, type AuditLogger, type AuditMetrics } from '../audit/audit';
import { isApiGatewayEvent } from '../http/events';
import { secretsUnavailableResponse, type ProblemResponse } from '../http/problem';
import { systemClock } from './deadline';
import { nonNegativeMs } from './durations';
import { SecretsUnavailableError } from './errors';
import { defineSecretsView, fetchedOrigin, WARM, type SecretsViewClass, type ViewOrigin } from './secrets-view';
import type { RefreshedSecrets, SecretDeclarations, SecretName, SecretValues } from './store/declarations';
import type { DeclaredValues } from './store/snapshot';
import { createSecretStore, type SecretStatus } from './store/secret-store';
import { STORE_OPTIONS, type SecretStoreOptions } from './store/store-options';

export interface OpSecretsOptions<S extends SecretDeclarations = SecretDeclarations> extends Omit<SecretStoreOptions<S>, 'listener'> {
  /**
   * Time kept before the Lambda timeout to answer: an invocation waits for secrets until
   * `getRemainingTimeInMillis() - reserveMs` at the latest.
   * @default 500
   */
  readonly reserveMs?: number;
  /** Also copy values into `process.env` (which child processes and crash dumps inherit). @default false */
  readonly setToEnv?: boolean;
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
}

export interface SecretsContext<S extends SecretDeclarations = SecretDeclarations> extends Context {
  secrets: SecretValues<S>;
}

type SecretsRequest<S extends SecretDeclarations = SecretDeclarations> = Request<unknown, unknown, Error, SecretsContext<S>>;

export interface OpSecretsMiddleware<S extends SecretDeclarations = SecretDeclarations>
  extends MiddlewareObj<unknown, unknown, Error, SecretsContext<S>> {
  readonly name: string;
  // Methods rather than function properties: an OpSecretsMiddleware<S> is then usable wherever
  // an OpSecretsMiddleware (of any declaration) is expected.
  before(request: SecretsRequest<S>): void | Promise<void>;
  after(request: SecretsRequest<S>): void;
  onError(request: SecretsRequest<S>): void;
  /** The store's `refresh(name)`, bounded by the current invocation's deadline. */
  refresh(name: SecretName<S>): Promise<string>;
  /** The store's `refresh(names)`, bounded by the current invocation's deadline. */
  refresh<const N extends SecretName<S>>(names: readonly N[]): Promise<RefreshedSecrets<S, N>>;
  /** Readiness per declared name, for health checks; never a value. */
  status(): Record<string, SecretStatus>;
  /** Forgets every value (tests; a forced reload). */
  clearCache(): void;
}

const ADAPTER_OPTIONS: ReadonlySet<string> = new Set<keyof OpSecretsOptions>(['reserveMs', 'setToEnv', 'serviceName', 'logger', 'metrics', 'auditWrite']);

/** The Middy middleware; call it at module scope so that fetching starts during INIT. */
export function opSecrets<const S extends SecretDeclarations = Record<never, never>>(options: OpSecretsOptions<S> = {}): OpSecretsMiddleware<S> {
  // As Middy validates its own options: a misspelt option fails INIT instead of being ignored.
  const unknown = Object.keys(options).filter((name) => name === 'listener' || (!ADAPTER_OPTIONS.has(name) && !STORE_OPTIONS.has(name)));
  if (unknown.length > 0) throw new TypeError(`opSecrets: unknown option(s) ${unknown.map((name) => `"${name}"`).join(', ')}`);
  const { reserveMs = 500, setToEnv = false, serviceName, logger, metrics, auditWrite, ...storeOptions } = options;
  nonNegativeMs('reserveMs', reserveMs);
  const audit = new SecretAudit({ serviceName, logger, metrics, write: auditWrite });
  const store = createSecretStore({ ...storeOptions, listener: audit });
  const clock = options.clock ?? systemClock;
  const View: SecretsViewClass = defineSecretsView(store.names);
  const accessLog = new AccessLog(audit, store.names);
  let lastContext: Partial<Context> | undefined;
  let envVersion = -1;

  /** The latest moment the current invocation may still wait for secrets. */
  const invocationDeadline = (): number | undefined => {
    const remaining = lastContext?.getRemainingTimeInMillis?.();
    return typeof remaining === 'number' && Number.isFinite(remaining) ? clock() + remaining - reserveMs : undefined;
  };

  const attach = (request: SecretsRequest, read: DeclaredValues, origin: ViewOrigin): void => {
    request.context.secrets = new View(read.values, origin) as SecretValues;
    request.internal = withInternal(request.internal, read.byName);
    if (setToEnv && (origin !== WARM || envVersion !== read.version)) envVersion = copyToEnv(store.names, read);
  };

  const reportAccess = (request: SecretsRequest): void => {
    const report = View.takeReport(request.context.secrets);
    if (report) accessLog.record(report, request.event, request.context.awsRequestId);
  };

  return {
    name: 'op-secrets',
    before: (request) => {
      lastContext = request.context;
      const warm = store.warm();
      if (warm) return attach(request, warm, WARM);
      return store.fetch({ deadline: invocationDeadline() }).then((read) => attach(request, read, fetchedOrigin(read.fromCache, read.coldStart)));
    },
    after: reportAccess,
    onError: (request) => {
      reportAccess(request);
      const { error, event, response } = request;
      if (isSecretsUnavailable(error) && isApiGatewayEvent(event)) request.response = problemResponseOver(error, response);
    },
    // One implementation serves both overloads; the store checks every name against the declaration.
    refresh: ((target: string) => store.refresh(target, { deadline: invocationDeadline() })) as OpSecretsMiddleware<S>['refresh'],
    status: () => store.status(),
    clearCache: () => store.clearCache(),
  };
}

function isSecretsUnavailable(error: unknown): error is SecretsUnavailableError {
  return error instanceof SecretsUnavailableError || (error as { code?: unknown } | null)?.code === 'SECRETS_UNAVAILABLE';
}

/** The 503 problem; another onError (e.g. @middy/http-error-handler) may have answered first: its other headers stay. */
function problemResponseOver(error: SecretsUnavailableError, existing: unknown): ProblemResponse {
  const problem = secretsUnavailableResponse(error.retryAfterSeconds);
  const headers = Object.entries((existing as { headers?: Record<string, string> } | null | undefined)?.headers ?? {}).filter(
    ([key]) => !REPLACED_HEADERS.has(key.toLowerCase()),
  );
  return { ...problem, headers: { ...Object.fromEntries(headers), ...problem.headers } };
}

const REPLACED_HEADERS: ReadonlySet<string> = new Set(['content-type', 'retry-after', 'cache-control']);

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

/** Copies `read` into process.env (a missing value deletes its variable); returns the version copied. */
function copyToEnv(names: readonly string[], read: DeclaredValues): number {
  names.forEach((name, index) => {
    const value = read.values[index];
    if (value === undefined) Reflect.deleteProperty(process.env, name);
    else process.env[name] = value;
  });
  return read.version;
}
