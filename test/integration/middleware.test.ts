/**
 * opSecrets with the real @middy/core, the real ConnectSource and the local Connect server over
 * loopback HTTP: request counts, refresh, stale-if-error, outages, hangs and permanent failures.
 */
import { startConnectServer, type LocalConnect } from '../../local/connect/server';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../../local/secrets-manager/server';
import { AuditRecorder, httpApiEvent, lambdaContext, restApiEvent } from '../helpers/middleware-fakes';
import {
  CANARY,
  CANARY_SEED,
  digest,
  functionEnv,
  ITEM_GET,
  PROD_VAULT_ID,
  secretsHandler,
  type HttpResult,
  type SecretsHandler,
} from './middleware-setup';
import type { SecretsContext } from '../../shared/secrets/middleware';

let connect: LocalConnect;
let audit: AuditRecorder;

beforeAll(async () => {
  connect = await startConnectServer({ port: 0, seed: CANARY_SEED });
});

afterAll(async () => {
  await connect.close();
});

beforeEach(() => {
  connect.clearFaults();
  connect.setLatency(0);
  connect.resetRequests();
  audit = new AuditRecorder();
});

async function call(handler: SecretsHandler, event: unknown = httpApiEvent(), timeoutMs = 10_000): Promise<HttpResult> {
  return (await handler(event, lambdaContext(timeoutMs) as SecretsContext)) as HttpResult;
}

function bodyOf(result: HttpResult): Record<string, string | null> {
  return JSON.parse(result.body) as Record<string, string | null>;
}

/** Waits the Retry-After a 503 advertised, as a well-behaved client does. */
async function waitRetryAfter(result: HttpResult): Promise<void> {
  const seconds = Number(result.headers['Retry-After']);
  expect(seconds).toBeGreaterThanOrEqual(1);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

/** Polls until `check` holds (background work over real HTTP), failing after a generous bound. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  const giveUpAt = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('cold start and warm invocations', () => {
  it('fetches each distinct item exactly once at cold start, then serves 1,000 invocations with no request', async () => {
    const { handler } = secretsHandler({ env: functionEnv(connect.url), ...audit.options }, ['STRIPE_WEBHOOK_SECRET', 'DATABASE_URL']);
    const first = await call(handler);
    expect(first.statusCode).toBe(200);
    expect(bodyOf(first)).toEqual({ STRIPE_WEBHOOK_SECRET: digest(CANARY.stripeCurrent), DATABASE_URL: digest(CANARY.database) });
    // Four secrets in three items: three item GETs, plus the vault list and the vault's item list.
    expect(connect.countRequests({ method: 'GET', path: ITEM_GET })).toBe(3);
    expect(connect.countRequests()).toBe(5);
    const fetches = audit.events('secret.fetch');
    expect(fetches).toHaveLength(3);
    expect(fetches[0]).toMatchObject({ vaultId: PROD_VAULT_ID, itemVersion: 1, outcome: 'success', attempts: 1, coldStart: true, latencyMs: expect.any(Number) });

    connect.resetRequests();
    for (let index = 0; index < 1000; index++) expect((await call(handler)).statusCode).toBe(200);
    expect(connect.countRequests()).toBe(0);
    expect(audit.accesses).toHaveLength(1001);
  });

  it('fetches references by ID with one GET per item and nothing else', async () => {
    const env = { OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN: CANARY.readToken };
    const item = connect.getItem('canary-prod', 'payments-api');
    const { handler } = secretsHandler({ env, secrets: { PAYMENTS_KEY: `op://${PROD_VAULT_ID}/${item.id}/credential` }, ...audit.options }, ['PAYMENTS_KEY']);
    expect(bodyOf(await call(handler))).toEqual({ PAYMENTS_KEY: digest(CANARY.payments) });
    expect(connect.countRequests()).toBe(1);
  });
});

describe('rotation', () => {
  /** Rotates the stripe item (the old current becomes previous) for the length of `run`. */
  async function whileStripeRotated(run: () => Promise<void>): Promise<void> {
    connect.setField('canary-prod', 'webhook-stripe', 'previous', CANARY.stripeCurrent);
    connect.setField('canary-prod', 'webhook-stripe', 'current', CANARY.rotated);
    try {
      await run();
    } finally {
      connect.setField('canary-prod', 'webhook-stripe', 'current', CANARY.stripeCurrent);
      connect.setField('canary-prod', 'webhook-stripe', 'previous', CANARY.stripePrevious);
    }
  }

  const stripeItem = (): string => {
    const item = connect.getItem('canary-prod', 'webhook-stripe');
    return `/v1/vaults/${item.vault.id}/items/${item.id}`;
  };
  const STRIPE_NAMES = ['STRIPE_WEBHOOK_SECRET', 'STRIPE_WEBHOOK_PREVIOUS'];

  it('refresh(name) after a rotation returns the new value, and refreshes the rest of its item in the same request', async () => {
    const { secrets, handler } = secretsHandler({ env: functionEnv(connect.url), ...audit.options }, STRIPE_NAMES);
    await call(handler);
    await whileStripeRotated(async () => {
      connect.resetRequests();
      await expect(secrets.refresh('STRIPE_WEBHOOK_SECRET')).resolves.toBe(CANARY.rotated);
      expect(connect.countRequests({ method: 'GET', path: stripeItem() })).toBe(1);
      expect(connect.countRequests()).toBe(1);
      expect(bodyOf(await call(handler))).toEqual({ STRIPE_WEBHOOK_SECRET: digest(CANARY.rotated), STRIPE_WEBHOOK_PREVIOUS: digest(CANARY.stripeCurrent) });
      expect(connect.countRequests()).toBe(1);
      expect(secrets.status()).toMatchObject({ STRIPE_WEBHOOK_SECRET: { itemVersion: 3 }, STRIPE_WEBHOOK_PREVIOUS: { itemVersion: 3 }, DATABASE_URL: { itemVersion: 1 } });
      expect(audit.events('secret.refresh')).toEqual([
        expect.objectContaining({ names: ['STRIPE_WEBHOOK_SECRET'], previousItemVersion: 1, itemVersion: 3, changed: true }),
        expect.objectContaining({ names: ['STRIPE_WEBHOOK_PREVIOUS'], previousItemVersion: 1, itemVersion: 3, changed: true }),
      ]);
    });
  });

  it('refresh(names) resolves several names at once, one request per item, optional failures as undefined', async () => {
    const { secrets, handler } = secretsHandler(
      { env: functionEnv(connect.url, { MISSING_OPTIONAL: 'op://canary-prod/webhook-stripe/no-such-field' }), secrets: { MISSING_OPTIONAL: { required: false } }, ...audit.options },
      STRIPE_NAMES,
    );
    await call(handler);
    await whileStripeRotated(async () => {
      connect.resetRequests();
      const refreshed = await secrets.refresh(['STRIPE_WEBHOOK_PREVIOUS', 'GITHUB_WEBHOOK_SECRET', 'MISSING_OPTIONAL']);
      expect(refreshed).toEqual({ STRIPE_WEBHOOK_PREVIOUS: CANARY.stripeCurrent, GITHUB_WEBHOOK_SECRET: CANARY.github, MISSING_OPTIONAL: undefined });
      // webhook-stripe (with its current) and webhook-github: two items, two requests.
      expect(connect.countRequests({ method: 'GET', path: ITEM_GET })).toBe(2);
      expect(connect.countRequests()).toBe(2);
      expect(bodyOf(await call(handler))).toMatchObject({ STRIPE_WEBHOOK_SECRET: digest(CANARY.rotated) });
      await expect(secrets.refresh(['STRIPE_WEBHOOK_SECRET', 'NOT_DECLARED'])).rejects.toMatchObject({ name: 'SecretDeclarationError' });
    });
  });

  it('concurrent refreshes of two secrets of one item share one request', async () => {
    const { secrets, handler } = secretsHandler({ env: functionEnv(connect.url), ...audit.options }, STRIPE_NAMES);
    await call(handler);
    await whileStripeRotated(async () => {
      connect.setLatency(50);
      connect.resetRequests();
      const refreshed = await Promise.all([secrets.refresh('STRIPE_WEBHOOK_SECRET'), secrets.refresh('STRIPE_WEBHOOK_PREVIOUS')]);
      expect(refreshed).toEqual([CANARY.rotated, CANARY.stripeCurrent]);
      expect(connect.countRequests()).toBe(1);
    });
  });

  it('a refresh before anything was resolved takes along the secrets named with the same vault and item', async () => {
    const env = functionEnv(connect.url, { STRIPE_WEBHOOK_PREVIOUS: 'op://CANARY-PROD/Webhook-Stripe/previous' });
    const { secrets, handler } = secretsHandler({ env, disablePrefetch: true, ...audit.options }, STRIPE_NAMES);
    await expect(secrets.refresh('STRIPE_WEBHOOK_SECRET')).resolves.toBe(CANARY.stripeCurrent);
    expect(secrets.status()).toMatchObject({ STRIPE_WEBHOOK_PREVIOUS: { ready: true }, DATABASE_URL: { ready: false } });
    await call(handler);
    expect(connect.countRequests({ method: 'GET', path: stripeItem() })).toBe(1);
    expect(connect.countRequests({ method: 'GET', path: ITEM_GET })).toBe(3);
  });

  it('refreshes ahead past ttlMs, serving the cached value meanwhile', async () => {
    let offsetMs = 0;
    const clock = (): number => Date.now() + offsetMs;
    const { handler } = secretsHandler({ env: functionEnv(connect.url), ttlMs: 60_000, clock, ...audit.options }, ['GITHUB_WEBHOOK_SECRET']);
    await call(handler);
    connect.setField('canary-prod', 'webhook-github', 'current', CANARY.rotated);
    try {
      connect.setLatency(150);
      connect.resetRequests();
      offsetMs = 61_000;
      const during = await call(handler);
      expect(bodyOf(during)).toEqual({ GITHUB_WEBHOOK_SECRET: digest(CANARY.github) });
      const rotatedSeen = (): boolean => audit.events('secret.refresh').some((event) => event['changed'] === true);
      await eventually(rotatedSeen, 'the background refresh');
      expect(audit.events('secret.refresh')).toContainEqual(
        expect.objectContaining({ names: ['GITHUB_WEBHOOK_SECRET'], previousItemVersion: 1, itemVersion: 2, changed: true }),
      );
      expect(bodyOf(await call(handler))).toEqual({ GITHUB_WEBHOOK_SECRET: digest(CANARY.rotated) });
      // Refreshing an item already located costs its GET alone.
      expect(connect.countRequests({ path: ITEM_GET })).toBe(3);
    } finally {
      connect.setField('canary-prod', 'webhook-github', 'current', CANARY.github);
    }
  });
});

describe('Connect failures', () => {
  it('serves the last good value when a refresh fails transiently, and answers 503 past maxStaleMs', async () => {
    let offsetMs = 0;
    const clock = (): number => Date.now() + offsetMs;
    const { handler } = secretsHandler({ env: functionEnv(connect.url), ttlMs: 60_000, maxStaleMs: 30_000, clock, ...audit.options });
    await call(handler);
    connect.addFault({ method: 'GET', path: ITEM_GET, spec: { kind: 'status', status: 503, body: 'json' } });
    offsetMs = 61_000;
    expect(bodyOf(await call(handler))).toEqual({ STRIPE_WEBHOOK_SECRET: digest(CANARY.stripeCurrent) });
    await eventually(() => audit.events('secret.stale').length > 0, 'secret.stale');
    expect(audit.events('secret.stale')[0]).toMatchObject({ code: 'SERVER', status: 503, retryable: true, ageMs: expect.any(Number) });
    expect(audit.metrics.map((metric) => metric.name)).toContain('SecretStaleServed');
    expect((await call(handler)).statusCode).toBe(200);

    offsetMs = 95_000; // past ttlMs + maxStaleMs
    const expired = await call(handler);
    expect(expired.statusCode).toBe(503);
    expect(Number(expired.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['connection resets', { kind: 'reset' } as const],
    ['HTTP 502s', { kind: 'status', status: 502, body: 'text' } as const],
  ])('answers 503 with Retry-After within the deadline while Connect is down (%s), then recovers without a restart', async (_label, spec) => {
    connect.addFault({ spec });
    const { handler } = secretsHandler({ env: functionEnv(connect.url), ...audit.options });
    const started = Date.now();
    const down = await call(handler, httpApiEvent(), 3000);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(down.statusCode).toBe(503);
    expect(down.headers).toMatchObject({ 'Retry-After': expect.stringMatching(/^\d+$/), 'Content-Type': 'application/problem+json' });
    expect(audit.events('secret.failure').length).toBeGreaterThan(0);

    connect.clearFaults();
    await waitRetryAfter(down);
    const back = await call(handler);
    expect(back.statusCode).toBe(200);
    expect(bodyOf(back)).toEqual({ STRIPE_WEBHOOK_SECRET: digest(CANARY.stripeCurrent) });
  });

  it('answers 503 after a cold start against a closed port, and recovers when Connect listens again', async () => {
    const server = await startConnectServer({ port: 0, seed: CANARY_SEED });
    const port = server.port;
    await server.close();
    const { handler } = secretsHandler({ env: functionEnv(`http://127.0.0.1:${port}`), ...audit.options });
    const refused = await call(handler, httpApiEvent(), 3000);
    expect(refused.statusCode).toBe(503);
    const again = await startConnectServer({ port, seed: CANARY_SEED });
    try {
      await waitRetryAfter(refused);
      expect((await call(handler)).statusCode).toBe(200);
    } finally {
      await again.close();
    }
  });

  it('never holds an invocation past its deadline when Connect hangs', async () => {
    connect.addFault({ method: 'GET', spec: { kind: 'hang' } });
    const { handler } = secretsHandler({ env: functionEnv(connect.url), reserveMs: 300, ...audit.options });
    const started = Date.now();
    const result = await call(handler, restApiEvent(), 1500);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(result.statusCode).toBe(503);
    expect(result.headers['Retry-After']).toBe('1');
  });

  it.each([
    ['401 (a token Connect does not know)', { OP_CONNECT_TOKEN: 'canary-token-unknown-5a4b3c2d1e' }, 'UNAUTHORIZED'],
    ['403 (a vault outside the token scope)', { OP_CONNECT_TOKEN: CANARY.stagingToken, STRIPE_WEBHOOK_SECRET: `op://${PROD_VAULT_ID}/webhook-stripe/current` }, 'FORBIDDEN'],
    ['404 (an item that does not exist)', { STRIPE_WEBHOOK_SECRET: 'op://canary-prod/no-such-item/current' }, 'NOT_FOUND'],
  ])('answers %s with 503 and secret.failure, without a request storm', async (_label, env, code) => {
    const { handler } = secretsHandler({
      env: { OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN: CANARY.readToken, STRIPE_WEBHOOK_SECRET: 'op://canary-prod/webhook-stripe/current', ...env },
      ...audit.options,
    });
    for (let index = 0; index < 25; index++) expect((await call(handler)).statusCode).toBe(503);
    // The prefetch's requests, then nothing: the failure is remembered for its backoff.
    expect(connect.countRequests()).toBeLessThanOrEqual(4);
    expect(audit.events('secret.failure')).toEqual([expect.objectContaining({ names: ['STRIPE_WEBHOOK_SECRET'], code, retryable: false })]);
  });

  it('leaves an optional secret undefined when it fails, and still answers', async () => {
    const { handler } = secretsHandler(
      {
        env: functionEnv(connect.url, { STRIPE_WEBHOOK_PREVIOUS: 'op://canary-prod/webhook-stripe/no-such-field' }),
        secrets: { STRIPE_WEBHOOK_PREVIOUS: { required: false } },
        ...audit.options,
      },
      ['STRIPE_WEBHOOK_SECRET', 'STRIPE_WEBHOOK_PREVIOUS'],
    );
    const result = await call(handler);
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({ STRIPE_WEBHOOK_SECRET: digest(CANARY.stripeCurrent), STRIPE_WEBHOOK_PREVIOUS: null });
  });

  it('rethrows for events that are not API Gateway', async () => {
    connect.addFault({ spec: { kind: 'status', status: 500, body: 'json' } });
    const { handler } = secretsHandler({ env: functionEnv(connect.url), ...audit.options });
    await expect(handler({ Records: [{ eventSource: 'aws:sqs' }] }, lambdaContext(3000) as SecretsContext)).rejects.toMatchObject({
      name: 'SecretsUnavailableError',
      statusCode: 503,
    });
  });
});

describe('the Connect token from Secrets Manager', () => {
  const TOKEN_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:op-connect-token-AbCdEf';
  const credentials = { accessKeyId: 'AKIDOPLAMBDATEST', secretAccessKey: 'opl-test-not-a-secret-key' };
  let secretsManager: SecretsManagerStandIn;

  beforeEach(async () => {
    secretsManager = await startSecretsManagerStandIn({ credentials });
  });
  afterEach(() => secretsManager.close());

  /** The function's environment on AWS: the token's secret, and the role's credentials. */
  function tokenFromSecretsManagerEnv(): Record<string, string> {
    return {
      ...functionEnv(connect.url),
      OP_CONNECT_TOKEN: '',
      OP_CONNECT_TOKEN_SECRET_ARN: TOKEN_ARN,
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    };
  }

  it('reads the token once per container', async () => {
    secretsManager.setSecret(TOKEN_ARN, JSON.stringify({ token: CANARY.readToken }));
    const { secrets, handler } = secretsHandler({ env: tokenFromSecretsManagerEnv(), ...audit.options });
    for (let index = 0; index < 5; index++) expect((await call(handler)).statusCode).toBe(200);
    await secrets.refresh('DATABASE_URL');
    expect(secretsManager.calls).toEqual([expect.objectContaining({ secretId: TOKEN_ARN, signatureValid: true })]);
  });

  it('reads the token again after Connect answers 401, so a rotated token is picked up', async () => {
    secretsManager.setSecret(TOKEN_ARN, 'canary-token-revoked-9d8c7b6a5f4e');
    const { handler } = secretsHandler({ env: tokenFromSecretsManagerEnv(), failureBackoffMs: 50, ...audit.options });
    expect((await call(handler)).statusCode).toBe(503);
    secretsManager.setSecret(TOKEN_ARN, CANARY.readToken);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((await call(handler)).statusCode).toBe(200);
    expect(secretsManager.calls).toHaveLength(2);
  });

  it('answers 503 while Secrets Manager is throttling, a transient failure held for 5 s at most', async () => {
    secretsManager.setSecret(TOKEN_ARN, CANARY.readToken);
    secretsManager.setFault({ status: 400, type: 'ThrottlingException', message: 'Rate exceeded' });
    const env = tokenFromSecretsManagerEnv();
    // A backoff far beyond the test: only a transient failure is tried again this soon.
    let offsetMs = 0;
    const clock = (): number => Date.now() + offsetMs;
    const { handler } = secretsHandler({ env, failureBackoffMs: 60_000, clock, ...audit.options });
    const failed = await call(handler);
    expect(failed.statusCode).toBe(503);
    expect(failed.headers?.['Retry-After']).toBe('5');
    expect(audit.events('secret.failure')[0]).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: true });
    secretsManager.setFault(undefined);
    expect((await call(handler)).statusCode).toBe(503); // held: Secrets Manager is not asked again
    expect(secretsManager.calls).toHaveLength(1);
    offsetMs = 5000;
    expect((await call(handler)).statusCode).toBe(200);
    expect(secretsManager.calls).toHaveLength(2);
  });

  it('holds a missing token secret for its backoff: a permanent failure', async () => {
    // No secret set: the stand-in answers ResourceNotFoundException.
    const { handler } = secretsHandler({ env: tokenFromSecretsManagerEnv(), failureBackoffMs: 60_000, ...audit.options });
    expect((await call(handler)).statusCode).toBe(503);
    expect(audit.events('secret.failure')[0]).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: false });
    const held = await call(handler);
    expect(held.statusCode).toBe(503);
    expect(held.headers?.['Retry-After']).toBe('60');
    expect(secretsManager.calls).toHaveLength(1);
  });
});
