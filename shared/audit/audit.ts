/**
 * The audit trail of secret use: one JSON line per event on stdout (CloudWatch Logs) and
 * CloudWatch metrics in Embedded Metric Format.
 *
 * Events: `secret.fetch` (one per item fetched from Connect), `secret.refresh`, `secret.stale`,
 * `secret.failure`, and `secret.access` (one per invocation that read secrets: which names, by
 * whom). The first four are rare and go through Powertools Logger and Metrics. `secret.access` is
 * on every warm invocation, where a Powertools log call costs several times the whole middleware,
 * so it is a pre-assembled line with the same keys as Powertools' that carries its metric
 * (SecretCacheHit) as embedded EMF.
 *
 * Events carry names, references, ids, versions and codes. No value, token or header is ever
 * passed in, so none can come out.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ConnectError } from '../secrets/errors';
import type { FetchReport } from '../secrets/source';
import type { SecretStoreListener } from '../secrets/store/listener';
import { emfCountDirective, METRICS_NAMESPACE, SecretMetric } from './metrics';
import { apiGatewayVersion } from '../http/events';
import { principalIn, routeIn, samePrincipal, type Principal } from './principal';

export type AuditEventName = 'secret.fetch' | 'secret.refresh' | 'secret.stale' | 'secret.failure' | 'secret.access';

type Attributes = Record<string, unknown>;

/** The part of a Powertools Logger the audit uses. */
export interface AuditLogger {
  info(message: string, attributes: Attributes): void;
  warn(message: string, attributes: Attributes): void;
}

/** The part of a Powertools Metrics the audit uses. */
export interface AuditMetrics {
  addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): unknown;
  publishStoredMetrics(): unknown;
}

export interface SecretAuditOptions {
  /**
   * The `service` field and metric dimension.
   * @default POWERTOOLS_SERVICE_NAME, else AWS_LAMBDA_FUNCTION_NAME, else 'op-lambda'
   */
  readonly serviceName?: string;
  /** @default new Logger({ serviceName }) */
  readonly logger?: AuditLogger;
  /** @default new Metrics({ namespace: 'OpLambda', serviceName }) */
  readonly metrics?: AuditMetrics;
  /** Where `secret.access` lines go. @default process.stdout.write */
  readonly write?: (line: string) => void;
}

/** One invocation's use of secrets. */
export interface AccessReport {
  /** The names read, as a JSON array (callers cache it per set of names). */
  readonly namesJson: string;
  /** How many of them came from the cache. */
  readonly cacheHits: number;
  /** The Lambda event: principal and route come from its request context. */
  readonly event: unknown;
  readonly awsRequestId?: string;
  readonly coldStart: boolean;
}

const CACHE_HIT_DIRECTIVE = emfCountDirective(SecretMetric.CacheHit);

/** The store's listener that writes the audit trail; `access` is the middleware's, per invocation. */
export class SecretAudit implements SecretStoreListener {
  readonly serviceName: string;
  private readonly logger: AuditLogger;
  private readonly metrics: AuditMetrics;
  private readonly write: (line: string) => void;
  private readonly accessPrefix: string;
  private lastRoute: string | undefined;
  private lastRouteJson = 'null';
  private lastPrincipal: Principal | undefined;
  private lastPrincipalJson = 'null';

  constructor(options: SecretAuditOptions = {}) {
    this.serviceName = options.serviceName ?? defaultServiceName();
    this.logger = options.logger ?? new Logger({ serviceName: this.serviceName });
    this.metrics = options.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: this.serviceName });
    this.write = options.write ?? ((line) => process.stdout.write(line));
    this.accessPrefix = `{"level":"INFO","message":"secret.access","service":${JSON.stringify(this.serviceName)},"event":"secret.access","timestamp":"`;
  }

  /** `secret.fetch`, with SecretFetch and SecretFetchLatency. */
  fetched(report: FetchReport, coldStart: boolean): void {
    const { references, vaultId, itemId, itemVersion, latencyMs, attempts, outcome, error } = report;
    const fields = { references, vaultId, itemId, itemVersion, latencyMs, attempts, outcome, coldStart, ...errorFields(error) };
    this.log(outcome === 'success' ? 'info' : 'warn', 'secret.fetch', fields);
    this.metrics.addMetric(SecretMetric.Fetch, MetricUnit.Count, 1);
    this.metrics.addMetric(SecretMetric.FetchLatency, MetricUnit.Milliseconds, latencyMs);
    this.metrics.publishStoredMetrics();
  }

  /** `secret.refresh`: a cached secret was fetched again. */
  refreshed(names: readonly string[], reference: string, info: { previousItemVersion?: number; itemVersion?: number; changed: boolean }): void {
    this.log('info', 'secret.refresh', { names, reference, ...info });
  }

  /** `secret.stale`, with SecretStaleServed: a refresh failed and the last good value stays. */
  stale(names: readonly string[], reference: string, info: { ageMs: number; error: ConnectError }): void {
    this.log('warn', 'secret.stale', { names, reference, ageMs: info.ageMs, ...errorFields(info.error) });
    this.count(SecretMetric.StaleServed);
  }

  /** `secret.failure`, with SecretFailure. */
  failed(names: readonly string[], reference: string, info: { error: ConnectError; servingStale: boolean; retryAfterMs: number }): void {
    this.log('warn', 'secret.failure', { names, reference, servingStale: info.servingStale, retryAfterMs: info.retryAfterMs, ...errorFields(info.error) });
    this.count(SecretMetric.Failure);
  }

  /** `secret.access` with SecretCacheHit: one pre-assembled line. */
  access(report: AccessReport): void {
    const now = Date.now();
    const { event } = report;
    // The event's shape is checked once, for both principal and route.
    const version = apiGatewayVersion(event);
    const line =
      this.accessPrefix +
      isoTimestamp(now) +
      '","names":' +
      report.namesJson +
      ',"principal":' +
      (version ? this.principalJson(principalIn(version, event)) : 'null') +
      ',"route":' +
      (version ? this.routeJson(routeIn(version, event)) : 'null') +
      ',"awsRequestId":' +
      idJson(report.awsRequestId) +
      ',"coldStart":' +
      report.coldStart +
      ',"_aws":{"Timestamp":' +
      now +
      ',"CloudWatchMetrics":' +
      CACHE_HIT_DIRECTIVE +
      '},"SecretCacheHit":' +
      report.cacheHits +
      '}\n';
    this.write(line);
  }

  /**
   * Invocations in a row tend to come from one caller: the last principal's JSON is remembered, and
   * comparing a few short strings costs a fraction of serialising them again.
   */
  private principalJson(principal: Principal): string {
    if (!samePrincipal(principal, this.lastPrincipal)) {
      this.lastPrincipal = principal;
      this.lastPrincipalJson = JSON.stringify(principal);
    }
    return this.lastPrincipalJson;
  }

  /** A function serves few routes: their JSON is remembered, one at a time. */
  private routeJson(route: string | undefined): string {
    if (route !== this.lastRoute) {
      this.lastRoute = route;
      this.lastRouteJson = jsonOrNull(route);
    }
    return this.lastRouteJson;
  }

  private log(level: 'info' | 'warn', event: AuditEventName, fields: Attributes): void {
    this.logger[level](event, { event, ...fields });
  }

  private count(metric: string): void {
    this.metrics.addMetric(metric, MetricUnit.Count, 1);
    this.metrics.publishStoredMetrics();
  }
}

let timestampSecond = Number.NaN;
let timestampPrefix = '';

/** `Date#toISOString()` at a fraction of its cost: the date part is formatted once per second. */
export function isoTimestamp(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second !== timestampSecond) {
    timestampSecond = second;
    timestampPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const ms = epochMs - second * 1000;
  return `${timestampPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

function errorFields(error: ConnectError | undefined): Attributes {
  if (!error) return {};
  return { code: error.code, status: error.status, retryable: error.retryable, detail: error.detail };
}

const PLAIN_ID = /^[\w-]*$/;

/** Request ids are UUIDs: nothing to escape, usually. */
function idJson(id: string | undefined): string {
  return id !== undefined && PLAIN_ID.test(id) ? `"${id}"` : jsonOrNull(id);
}

function jsonOrNull(value: string | undefined): string {
  return value === undefined ? 'null' : JSON.stringify(value);
}

function defaultServiceName(): string {
  return process.env['POWERTOOLS_SERVICE_NAME'] || process.env['AWS_LAMBDA_FUNCTION_NAME'] || 'op-lambda';
}
