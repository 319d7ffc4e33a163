/**
 * In-process stand-ins for the store's and the middleware's collaborators: a secret source
 * answering from a map (no HTTP), a Lambda context with a real remaining-time clock, API Gateway events, and recorders
 * for audit lines and metrics.
 */
import type { Context } from 'aws-lambda';
import type { AuditLogger, AuditMetrics } from '../../shared/audit/audit';
import { ConnectError } from '../../shared/secrets/errors';
import { parseReference, type SecretReference } from '../../shared/secrets/reference';
import type { ResolveOptions, SecretSource, SourceOutcome } from '../../shared/secrets/source';

/** A SecretSource answering from a map, counting what it is asked. */
export class FakeSource implements SecretSource {
  readonly values = new Map<string, { value: string; itemVersion: number }>();
  readonly failures = new Map<string, ConnectError>();
  /** Reference keys asked for, one array per resolve call. */
  readonly calls: string[][] = [];
  /** When set, resolve waits for it. */
  gate?: Promise<void>;
  forgotten = 0;

  set(reference: string, value: string): this {
    const key = parseReference(reference).key;
    const itemVersion = (this.values.get(key)?.itemVersion ?? 0) + 1;
    this.values.set(key, { value, itemVersion });
    this.failures.delete(key);
    return this;
  }

  fail(reference: string, error: ConnectError): this {
    this.failures.set(parseReference(reference).key, error);
    return this;
  }

  get requestCount(): number {
    return this.calls.length;
  }

  async resolve(references: readonly SecretReference[], options: ResolveOptions): Promise<SourceOutcome> {
    this.calls.push(references.map((reference) => reference.key));
    if (this.gate) await this.gate;
    const values = new Map<string, { value: string; itemVersion: number }>();
    const errors = new Map<string, ConnectError>();
    for (const reference of references) {
      const failure = this.failures.get(reference.key);
      const found = this.values.get(reference.key);
      const error = failure ?? (found ? undefined : new ConnectError('NOT_FOUND', 'item not found', { status: 404 }));
      if (error) errors.set(reference.key, error.forReference(reference.raw));
      else values.set(reference.key, { ...found! });
      options.onFetch?.({
        references: [reference.key],
        vaultId: 'vaultid0000000000000000000',
        itemId: 'itemid00000000000000000000',
        itemVersion: found?.itemVersion,
        latencyMs: 3,
        attempts: 1,
        outcome: error ? 'failure' : 'success',
        error,
      });
    }
    return { values, errors };
  }

  forget(): void {
    this.forgotten++;
  }
}

/** A Lambda context whose remaining time runs down in real time from `timeoutMs`. */
export function lambdaContext(timeoutMs = 10_000, awsRequestId = 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef'): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'payments',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:payments',
    memoryLimitInMB: '256',
    awsRequestId,
    logGroupName: '/aws/lambda/payments',
    logStreamName: '2024/01/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** An HTTP API (payload v2) event, optionally with a JWT authorizer. */
export function httpApiEvent(claims?: Record<string, string>): Record<string, unknown> {
  return {
    version: '2.0',
    routeKey: 'POST /payments',
    rawPath: '/payments',
    rawQueryString: '',
    headers: { authorization: 'Bearer header.payload.signature', 'user-agent': 'curl/8.5.0' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      http: { method: 'POST', path: '/payments', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'curl/8.5.0' },
      requestId: 'req-v2',
      routeKey: 'POST /payments',
      stage: '$default',
      time: '01/Jan/2024:00:00:00 +0000',
      timeEpoch: 1704067200000,
      ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}),
    },
    body: '{}',
    isBase64Encoded: false,
  };
}

/** A REST API (payload v1) event, optionally signed with IAM. */
export function restApiEvent(identity: Record<string, string | null> = {}): Record<string, unknown> {
  return {
    resource: '/payments/{id}',
    path: '/payments/42',
    httpMethod: 'GET',
    headers: { Authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/eu-west-1/execute-api/aws4_request' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'def456',
      resourceId: 'res1',
      resourcePath: '/payments/{id}',
      httpMethod: 'GET',
      requestId: 'req-v1',
      stage: 'prod',
      identity: { sourceIp: '198.51.100.9', userAgent: 'aws-sdk-js/3', ...identity },
    },
    body: null,
    isBase64Encoded: false,
  };
}

/** Records audit lines (access), log calls and metrics, for assertions and leak scans. */
export class AuditRecorder {
  readonly lines: string[] = [];
  readonly logs: { level: string; message: string; attributes: Record<string, unknown> }[] = [];
  readonly metrics: { name: string; unit: string; value: number }[] = [];
  published = 0;

  readonly write = (line: string): void => {
    this.lines.push(line);
  };

  readonly logger: AuditLogger = {
    info: (message, attributes) => this.logs.push({ level: 'info', message, attributes }),
    warn: (message, attributes) => this.logs.push({ level: 'warn', message, attributes }),
  };

  readonly metricsSink: AuditMetrics = {
    addMetric: (name, unit, value) => this.metrics.push({ name, unit, value }),
    publishStoredMetrics: () => this.published++,
  };

  /** The access lines, parsed. */
  get accesses(): Record<string, unknown>[] {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  events(name: string): Record<string, unknown>[] {
    return this.logs.filter((log) => log.message === name).map((log) => log.attributes);
  }

  /** Every options field the middleware needs to report here. */
  get options(): { logger: AuditLogger; metrics: AuditMetrics; auditWrite: (line: string) => void; serviceName: string } {
    return { logger: this.logger, metrics: this.metricsSink, auditWrite: this.write, serviceName: 'payments' };
  }

  /** Everything recorded, as one string. */
  dump(): string {
    return JSON.stringify({ lines: this.lines, logs: this.logs, metrics: this.metrics });
  }
}
