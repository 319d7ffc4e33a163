/**
 * The leak test: canary secrets in the local Connect server, every scenario run through opSecrets
 * with the real Powertools Logger and Metrics, and everything captured — stdout, stderr, responses,
 * thrown errors (fully inspected, causes included), what @middy/http-error-handler would log,
 * status() — then scanned for any value, any token and the Authorization header. Each scenario
 * scans what it produced itself, after checking that it produced the output worth scanning.
 */
import { inspect } from 'node:util';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import { startConnectServer, type LocalConnect } from '../../local/connect/server';
import { startSecretsManagerStandIn } from '../../local/secrets-manager/server';
import { opSecrets, type SecretsContext } from '../../shared/secrets/middleware';
import { collectSecretValues, expectNoLeaks } from '../helpers/leak-scan';
import { httpApiEvent, lambdaContext, restApiEvent } from '../helpers/middleware-fakes';
import { CANARY, CANARY_SEED, functionEnv, ITEM_GET, PROD_VAULT_ID, secretsHandler, type SecretsHandler } from './middleware-setup';

const AUTHORIZATION_CANARY = 'canary-authorization-bearer-3c2b1a0f9e8d';
const SM_TOKEN_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:op-connect-token-LeAkTe';

interface Captured {
  stdout: string[];
  stderr: string[];
  responses: string[];
  errors: string[];
  handlerLogs: string[];
  status: string[];
}

const nothingCaptured = (): Captured => ({ stdout: [], stderr: [], responses: [], errors: [], handlerLogs: [], status: [] });
/** What the running test produced; each test starts with nothing. */
let captured = nothingCaptured();
let connect: LocalConnect;
/** Every middleware here gives up on Connect within this, so nothing runs on once it has passed. */
const TIMEOUT_MS = 1500;
const restores: (() => void)[] = [];
const AWS_CREDENTIALS = { accessKeyId: 'AKIDOPLAMBDALEAK', secretAccessKey: 'canary-aws-secret-key-8b7a6f5e4d' };
/** The SigV4 Authorization headers Secrets Manager received: scanned for like any secret. */
const signatures: string[] = [];

/** Events whose headers carry an Authorization header with a canary credential. */
function authorizedV2(): Record<string, unknown> {
  const event = httpApiEvent({ sub: 'user-7' });
  return { ...event, headers: { ...(event['headers'] as object), authorization: `Bearer ${AUTHORIZATION_CANARY}` } };
}

function authorizedV1(): Record<string, unknown> {
  return { ...restApiEvent({ userArn: 'arn:aws:iam::123456789012:user/ops' }), headers: { Authorization: `Bearer ${AUTHORIZATION_CANARY}` } };
}

async function run(handler: SecretsHandler, event: unknown = authorizedV2(), timeoutMs = 5000): Promise<void> {
  try {
    captured.responses.push(JSON.stringify(await handler(event, lambdaContext(timeoutMs) as SecretsContext)));
  } catch (error) {
    captured.errors.push(inspect(error, { depth: 12 }), String(error), (error as Error).stack ?? '');
  }
}

/** Waits (generously bounded) for background work over real HTTP. */
async function until(check: () => boolean): Promise<void> {
  const giveUpAt = Date.now() + 10_000;
  while (!check() && Date.now() < giveUpAt) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 400));
}

/** Lets hung and retried requests reach their deadline, so that what they report is captured too. */
async function drain(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + 300));
}

const SECRETS = () => [
  ...collectSecretValues(CANARY_SEED),
  CANARY.rotated,
  AUTHORIZATION_CANARY,
  'canary-token-unknown-7e6d5c4b3a',
  'canary-token-revoked-4f3e2d1c0b',
  AWS_CREDENTIALS.secretAccessKey,
  ...signatures,
];

/**
 * The scan of this test's output: first that the scenario produced the lines worth scanning
 * (`markers` in stdout or stderr), then that no value, token or Authorization header is in any of
 * it, and that responses name neither a vault nor the Connect host.
 */
function expectNothingLeaked(markers: readonly string[]): void {
  const output = [...captured.stdout, ...captured.stderr].join('');
  expect(markers.filter((marker) => !output.includes(marker))).toEqual([]);
  expectNoLeaks({ ...captured }, SECRETS());
  expectNoLeaks({ responses: captured.responses }, ['canary-prod', PROD_VAULT_ID, new URL(connect.url).host, 'Bearer']);
}

function expectUnavailable(): void {
  expect(captured.responses.some((response) => response.includes('"statusCode":503'))).toBe(true);
  expect(captured.errors.some((error) => error.includes('SecretsUnavailableError'))).toBe(true);
}

beforeAll(async () => {
  connect = await startConnectServer({ port: 0, seed: CANARY_SEED });
  const capture = (stream: 'stdout' | 'stderr') => (chunk: string | Uint8Array): boolean => {
    captured[stream].push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(capture('stdout'));
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(capture('stderr'));
  restores.push(() => stdout.mockRestore(), () => stderr.mockRestore());
  // The real Powertools Logger and Metrics write through their own Console onto these streams.
  for (const [name, value] of Object.entries({ POWERTOOLS_DEV: 'false', POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_LOG_LEVEL: 'DEBUG' })) {
    const saved = process.env[name];
    process.env[name] = value;
    restores.push(() => (saved === undefined ? Reflect.deleteProperty(process.env, name) : (process.env[name] = saved)));
  }
});

afterAll(async () => {
  for (const restore of restores.reverse()) restore();
  await connect.close();
});

beforeEach(() => {
  captured = nothingCaptured();
  connect.clearFaults();
  connect.setLatency(0);
});

const READ_ALL = ['STRIPE_WEBHOOK_SECRET', 'STRIPE_WEBHOOK_PREVIOUS', 'GITHUB_WEBHOOK_SECRET', 'DATABASE_URL'];

describe('no secret value, token or Authorization header reaches any output', () => {
  it('in success, warm, refresh-ahead and rotation', async () => {
    let offsetMs = 0;
    const { secrets, handler } = secretsHandler({ timeoutMs: TIMEOUT_MS, env: functionEnv(connect.url), ttlMs: 60_000, clock: () => Date.now() + offsetMs }, READ_ALL);
    for (let index = 0; index < 5; index++) await run(handler, index % 2 === 0 ? authorizedV2() : authorizedV1());
    connect.setField('canary-prod', 'webhook-stripe', 'current', CANARY.rotated);
    offsetMs = 61_000;
    await run(handler);
    await settle();
    await run(handler);
    captured.status.push(JSON.stringify(secrets.status()), inspect(secrets, { depth: 6 }));
    connect.setField('canary-prod', 'webhook-stripe', 'current', CANARY.stripeCurrent);
    await secrets.refresh('STRIPE_WEBHOOK_SECRET');
    await run(handler);
    expectNothingLeaked(['"secret.fetch"', '"secret.access"', '"secret.refresh"', 'SecretFetchLatency', 'SecretCacheHit']);
  });

  it('in stale-if-error and expiry', async () => {
    let offsetMs = 0;
    const { handler } = secretsHandler({ timeoutMs: TIMEOUT_MS, env: functionEnv(connect.url), ttlMs: 60_000, maxStaleMs: 30_000, clock: () => Date.now() + offsetMs }, READ_ALL);
    await run(handler);
    connect.addFault({ path: ITEM_GET, spec: { kind: 'reset-mid-body' } });
    offsetMs = 61_000;
    await run(handler);
    await until(() => captured.stderr.some((line) => line.includes('"secret.stale"')));
    await run(handler);
    offsetMs = 95_000;
    await run(handler);
    expectNothingLeaked(['"secret.stale"', '"secret.failure"', 'SecretStaleServed']);
  });

  it.each([
    ['reset', { kind: 'reset' }],
    ['reset mid-body (a partial item, values included, on the wire)', { kind: 'reset-mid-body' }],
    ['malformed JSON', { kind: 'malformed' }],
    ['500 with a JSON body', { kind: 'status', status: 500, body: 'json' }],
    ['502 with a text body', { kind: 'status', status: 502, body: 'text' }],
    ['429 with Retry-After', { kind: 'status', status: 429, body: 'json', retryAfter: '2' }],
  ] as const)('in outages: %s', async (_label, spec) => {
    connect.addFault({ spec });
    const { secrets, handler } = secretsHandler({ timeoutMs: TIMEOUT_MS, env: functionEnv(connect.url) }, READ_ALL);
    await run(handler, authorizedV2(), 2500);
    await run(handler, { Records: [{ body: 'queued' }] }, 2500);
    await secrets.refresh('DATABASE_URL').catch((error: unknown) => captured.errors.push(inspect(error, { depth: 12 })));
    captured.status.push(JSON.stringify(secrets.status()));
    await drain();
    expectUnavailable();
    expectNothingLeaked(['"secret.failure"']);
  });

  it('in hangs', async () => {
    connect.addFault({ method: 'GET', spec: { kind: 'hang' } });
    const { handler } = secretsHandler({ timeoutMs: TIMEOUT_MS, env: functionEnv(connect.url), reserveMs: 200 }, READ_ALL);
    await run(handler, authorizedV1(), 900);
    await run(handler, { source: 'aws.events' }, 900);
    await drain();
    expectUnavailable();
    expectNothingLeaked(['"secret.failure"']);
  });

  it('in permanent failures: 401, 403, 404, missing field', async () => {
    const envs = [
      functionEnv(connect.url, { OP_CONNECT_TOKEN: 'canary-token-unknown-7e6d5c4b3a' }),
      functionEnv(connect.url, { OP_CONNECT_TOKEN: CANARY.stagingToken, STRIPE_WEBHOOK_SECRET: `op://${PROD_VAULT_ID}/webhook-stripe/current` }),
      functionEnv(connect.url, { GITHUB_WEBHOOK_SECRET: 'op://canary-prod/webhook-gitlab/current' }),
      functionEnv(connect.url, { DATABASE_URL: 'op://canary-prod/database/connection/password' }),
    ];
    for (const env of envs) {
      const { handler } = secretsHandler({ timeoutMs: TIMEOUT_MS, env }, READ_ALL);
      await run(handler);
      await run(handler, { Records: [] });
    }
    expectUnavailable();
    expectNothingLeaked(['"secret.failure"']);
  });

  it('through @middy/http-error-handler, in both orders, with its logger on', async () => {
    connect.addFault({ spec: { kind: 'status', status: 503, body: 'json' } });
    for (const order of ['first', 'last']) {
      const secrets = opSecrets({ timeoutMs: TIMEOUT_MS, env: functionEnv(connect.url) });
      const errors = httpErrorHandler({ logger: (error) => captured.handlerLogs.push(inspect(error, { depth: 12 })) });
      const handler = middy()
        .use(order === 'first' ? [errors, secrets] : [secrets, errors])
        .handler(async () => ({ statusCode: 200 }));
      captured.responses.push(JSON.stringify(await handler(authorizedV2(), lambdaContext(2500) as Parameters<typeof handler>[1])));
    }
    expect(captured.handlerLogs.length).toBeGreaterThan(0);
    expect(captured.responses.every((response) => response.includes('"statusCode":503'))).toBe(true);
    expectNothingLeaked([]);
  });

  it('with the Connect token from Secrets Manager', async () => {
    const secretsManager = await startSecretsManagerStandIn({ credentials: AWS_CREDENTIALS });
    secretsManager.setSecret(SM_TOKEN_ARN, JSON.stringify({ token: 'canary-token-revoked-4f3e2d1c0b' }));
    try {
      const env = {
        ...functionEnv(connect.url),
        OP_CONNECT_TOKEN: '',
        OP_CONNECT_TOKEN_SECRET_ARN: SM_TOKEN_ARN,
        AWS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
        AWS_ACCESS_KEY_ID: AWS_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: AWS_CREDENTIALS.secretAccessKey,
      };
      const { handler } = secretsHandler({ timeoutMs: TIMEOUT_MS, env, failureBackoffMs: 20 }, READ_ALL);
      await run(handler);
      secretsManager.setSecret(SM_TOKEN_ARN, JSON.stringify({ token: CANARY.readToken }));
      await new Promise((resolve) => setTimeout(resolve, 30));
      await run(handler);
      const received = secretsManager.calls.map((call) => call.authorization);
      expect(received).toHaveLength(2);
      signatures.push(...received);
    } finally {
      await secretsManager.close();
    }
    expect(captured.responses.map((response) => (JSON.parse(response) as { statusCode: number }).statusCode)).toEqual([503, 200]);
    expectNothingLeaked(['"UNAUTHORIZED"', '"secret.access"']);
  });
});
