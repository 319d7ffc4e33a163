/**
 * Runs the reference functions in-process as Lambda would: a fresh module load per container
 * (so INIT and prefetch happen on import), API Gateway HTTP API (v2) events, a Lambda context
 * with a real remaining-time clock, and the local Connect server over loopback. Captures stdout
 * and stderr for leak scans.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { LocalConnect } from '../../../local/connect/server';
import type { LocalDynamo } from '../../../local/dynamo/local-dynamo';
import { REPLAY_TABLE_ENV, REPLAY_TABLE_KEY } from '../../../functions/webhooks/replay-contract';

/** The demo vaults of the staging stage, one per purpose (as infra/config.ts names them). */
export const STAGING_VAULTS = {
  payments: 'op-lambda-staging-payments',
  webhooks: 'op-lambda-staging-webhooks',
  database: 'op-lambda-staging-database',
} as const;
const PROD_VAULTS = ['op-lambda-prod-payments', 'op-lambda-prod-webhooks', 'op-lambda-prod-database'] as const;

/** The references infra/config.ts gives each function in the staging stage. */
export const STAGING_SECRETS = {
  health: { DATABASE_URL: `op://${STAGING_VAULTS.database}/database/connection/url` },
  webhooks: {
    WEBHOOK_STRIPE_CURRENT: `op://${STAGING_VAULTS.webhooks}/webhook-stripe/current`,
    WEBHOOK_STRIPE_PREVIOUS: `op://${STAGING_VAULTS.webhooks}/webhook-stripe/previous`,
    WEBHOOK_GITHUB_CURRENT: `op://${STAGING_VAULTS.webhooks}/webhook-github/current`,
    WEBHOOK_GITHUB_PREVIOUS: `op://${STAGING_VAULTS.webhooks}/webhook-github/previous`,
  },
  payments: { PAYMENTS_API_KEY: `op://${STAGING_VAULTS.payments}/payments-api/credential` },
} as const;

/** Connect item GETs (not vault or item-list requests). */
export const ITEM_GET = { method: 'GET', path: /^\/v1\/vaults\/[^/]+\/items\/[^/]+$/ } as const;
/** The vault list: what a version check asks first (and only, while nothing changed). */
export const VAULT_LIST = { method: 'GET', path: '/v1/vaults' } as const;

const savedEnv = { ...process.env };

/** Replaces the environment for the next handler load, as a deployment would configure it. */
export function setFunctionEnv(connect: LocalConnect, vars: Readonly<Record<string, string>>, token = connect.tokens['dev-read']!): void {
  process.env = {
    ...savedEnv,
    OP_CONNECT_HOST: connect.url,
    OP_CONNECT_TOKEN: token,
    AWS_LAMBDA_FUNCTION_NAME: 'op-lambda-test',
    POWERTOOLS_DEV: 'false',
    ...vars,
  };
}

/** A fresh, empty webhook replay table, and the environment that points the webhooks function at it. */
export async function replayTableEnv(dynamo: LocalDynamo): Promise<Record<string, string>> {
  const name = `replay-${randomUUID()}`;
  await dynamo.createTable({
    name,
    keySchema: [{ AttributeName: REPLAY_TABLE_KEY, KeyType: 'HASH' }],
    attributeDefinitions: [{ AttributeName: REPLAY_TABLE_KEY, AttributeType: 'S' }],
  });
  return { ...dynamo.environment, [REPLAY_TABLE_ENV]: name };
}

export function restoreEnv(): void {
  process.env = { ...savedEnv };
}

/** A cold start: the handler module loaded afresh, with its own middleware, cache and throttles. */
export async function coldStart<M>(load: () => Promise<M>): Promise<M> {
  let loaded: M | undefined;
  await jest.isolateModulesAsync(async () => {
    loaded = await load();
  });
  return loaded!;
}

/**
 * Waits until a freshly loaded handler's prefetch has cached every declared secret, so that no
 * fetch is still in flight when a test changes the vault or injects faults.
 */
export async function prefetched(secrets: { status(): Record<string, { ready: boolean }> }, timeoutMs = 5000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!Object.values(secrets.status()).every((state) => state.ready)) {
    if (Date.now() > giveUpAt) throw new Error('the prefetch did not complete');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface EventOptions {
  method?: string;
  path: string;
  routeKey?: string;
  pathParameters?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body base64-encoded, as API Gateway does for binary media. */
  base64?: boolean;
}

/** An HTTP API payload v2 event, as API Gateway builds it (header names lower-cased). */
export function httpEvent(options: EventOptions): APIGatewayProxyEventV2 {
  const method = options.method ?? 'POST';
  const now = Date.now();
  const body = options.body === undefined ? undefined : options.base64 ? Buffer.from(options.body).toString('base64') : options.body.toString();
  const headers = Object.fromEntries(Object.entries({ 'user-agent': 'op-lambda-tests', ...options.headers }).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    version: '2.0',
    routeKey: options.routeKey ?? `${method} ${options.path}`,
    rawPath: options.path,
    rawQueryString: '',
    headers,
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'localapi01',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: { method, path: options.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'op-lambda-tests' },
      requestId: randomUUID(),
      routeKey: options.routeKey ?? `${method} ${options.path}`,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: options.base64 ?? false,
  };
}

/** A Lambda context whose remaining time counts down from `timeoutMs`. */
export function lambdaContext(timeoutMs = 10_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'op-lambda-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:op-lambda-test',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/op-lambda-test',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface HttpAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A Middy handler; its context type includes what middlewares add (`secrets`), which Lambda's
 * context lacks until the middleware runs.
 */
type AnyHandler = (event: APIGatewayProxyEventV2, context: never) => Promise<unknown>;

/** Invokes a handler and keeps every answer for the leak scan. */
export class Invoker {
  readonly answers: HttpAnswer[] = [];

  constructor(private readonly handler: AnyHandler) {}

  async invoke(event: APIGatewayProxyEventV2, context: Context = lambdaContext()): Promise<HttpAnswer> {
    const result = (await this.handler(event, context as never)) as APIGatewayProxyStructuredResultV2;
    const answer: HttpAnswer = {
      statusCode: result.statusCode ?? 200,
      headers: Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)])),
      body: result.body ?? '',
    };
    this.answers.push(answer);
    return answer;
  }
}

export function json(answer: HttpAnswer): unknown {
  return JSON.parse(answer.body);
}

/** Everything written to stdout and stderr (and the console) while captured. */
export class OutputCapture {
  private readonly chunks: string[] = [];

  start(): this {
    for (const stream of [process.stdout, process.stderr]) {
      jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        this.chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return true;
      });
    }
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        this.chunks.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
      });
    }
    return this;
  }

  get text(): string {
    return this.chunks.join('');
  }

  /** JSON log lines (Powertools and audit lines). */
  lines(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

/** Every value in the local vault worth hiding: secret fields, OTP seeds, and the Connect tokens. */
export function seededSecrets(connect: LocalConnect): string[] {
  const items = { payments: ['payments-api'], webhooks: ['webhook-stripe', 'webhook-github'], database: ['database'] };
  const vaults = [...Object.entries(STAGING_VAULTS), ...PROD_VAULTS.map((vault) => [vault.split('-').at(-1)!, vault] as const)];
  const values = vaults.flatMap(([purpose, vault]) =>
    items[purpose as keyof typeof items].flatMap((item) =>
      (connect.getItem(vault, item).fields ?? []).filter((field) => field.type === 'CONCEALED' && (field.value ?? '').length >= 8).map((field) => field.value!),
    ),
  );
  return [...values, ...Object.values(connect.tokens)];
}

/** The secrets among `secrets` that occur in `captured`. */
export function leaked(captured: string, secrets: readonly string[]): string[] {
  return secrets.filter((secret) => captured.includes(secret));
}

export function fieldValue(connect: LocalConnect, vault: string, item: string, label: string): string {
  const field = (connect.getItem(vault, item).fields ?? []).find((candidate) => candidate.label === label);
  if (field?.value === undefined) throw new Error(`no field ${label} in ${item}`);
  return field.value;
}
