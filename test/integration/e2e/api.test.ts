/**
 * The staging API end to end, over real HTTP through the local gateway, as `npm start` runs it:
 * health, the JWT authorizer on payments, request economy of cold and warm invokes, the audit
 * trail, webhook signatures, secret rotation in 1Password while the API runs, and a leak scan of
 * everything the run produced.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOCAL_CLIENT_ID } from '../../../local/issuer/server';
import { expectNoLeaks } from '../../helpers/leak-scan';
import { STACK_STARTUP_TIMEOUT_MS, startStackFixture, type FixtureResponse, type StackFixture } from '../../helpers/stack-fixture';
import {
  fieldValue,
  ITEM_GET,
  itemPath,
  lastInvoke,
  nowSeconds,
  paymentBody,
  signedDelivery,
  vaultOf,
  waitForAuditLines,
} from './support';

jest.setTimeout(60_000);

let stack: StackFixture;
/** A token of the local issuer with the payments scope, as `npm run token` prints. */
let accessToken: string;

/**
 * Request counts here are about cold starts and misses: interval checks (revalidation.test.ts)
 * are kept out of the way with an interval longer than the run.
 */
const NO_INTERVAL_CHECK = { OP_REVALIDATE_MS: String(60 * 60 * 1000) };
/** The webhooks function's throttle: at most one check per source per this interval after misses. */
const WEBHOOK_REFRESH_INTERVAL_MS = 5000;

beforeAll(async () => {
  stack = await startStackFixture({ stage: 'staging', environment: NO_INTERVAL_CHECK });
  accessToken = await stack.accessToken();
}, STACK_STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await stack?.close();
});

const fn = {
  health: () => stack.functionOf('GET /health'),
  webhooks: () => stack.functionOf('POST /webhooks/{source}'),
  payments: () => stack.functionOf('POST /payments'),
};

function coldStarts(functionName: string): number {
  return stack.gateway.stats()[functionName]!.coldStarts;
}

function getHealth(): Promise<FixtureResponse> {
  return stack.request('GET', '/health');
}

function postWebhook(source: string, secrets: readonly string[], body = JSON.stringify({ id: `evt_${randomBytes(6).toString('hex')}`, type: 'charge.succeeded' }), timestamp?: number): Promise<FixtureResponse> {
  return stack.request('POST', `/webhooks/${source}`, signedDelivery(secrets, body, timestamp));
}

function postPayment(headers: Record<string, string> = { authorization: `Bearer ${accessToken}` }): Promise<FixtureResponse> {
  return stack.request('POST', '/payments', { headers: { 'content-type': 'application/json', ...headers }, body: paymentBody() });
}

function stripeSecret(field: 'current' | 'previous'): string {
  return fieldValue(stack.connect, vaultOf('webhook-stripe'), 'webhook-stripe', field);
}

test('serves the routes of the synthesized stage', () => {
  expect(stack.gateway.routes.map((route) => `${route.routeKey} -> ${route.functionName}`).sort()).toEqual([
    `GET /health -> ${fn.health()}`,
    `POST /payments -> ${fn.payments()}`,
    `POST /webhooks/{source} -> ${fn.webhooks()}`,
  ]);
});

test('GET /health answers readiness only: no secret name, item version or cache age', async () => {
  const response = await getHealth();
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.json()).toEqual({ status: 'ok' });
  expect(response.text).not.toContain(fieldValue(stack.connect, vaultOf('database'), 'database', 'url'));
});

describe('POST /payments behind the JWT authorizer', () => {
  const invokes = (): number => stack.gateway.stats()[fn.payments()]?.invocations ?? 0;

  test('without a token: 401 {"message":"Unauthorized"}, and the function never runs', async () => {
    const before = invokes();
    const response = await postPayment({});
    expect(response.status).toBe(401);
    expect(response.json()).toEqual({ message: 'Unauthorized' });
    expect(invokes()).toBe(before);
  });

  test('with a forged token (claims changed after signing): 401, and the function never runs', async () => {
    const [header, payload, signature] = accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${signature}`;
    stack.rememberSecret(forged);
    const before = invokes();
    expect((await postPayment({ authorization: `Bearer ${forged}` })).status).toBe(401);
    expect(invokes()).toBe(before);
  });

  test('with a valid token that lacks the payments scope: 403 {"message":"Forbidden"}', async () => {
    const response = await postPayment({ authorization: `Bearer ${await stack.accessToken({ scope: 'orders:read' })}` });
    expect(response.status).toBe(403);
    expect(response.json()).toEqual({ message: 'Forbidden' });
  });

  test('with the local issuer\'s token: 201', async () => {
    const response = await postPayment();
    expect(response.status).toBe(201);
    expect(response.json()).toMatchObject({ object: 'payment', status: 'succeeded' });
  });
});

describe('request economy', () => {
  const cases: { route: string; items: string[]; call: () => Promise<FixtureResponse> }[] = [
    { route: 'GET /health', items: ['database'], call: getHealth },
    { route: 'POST /webhooks/{source}', items: ['webhook-stripe', 'webhook-github'], call: () => postWebhook('stripe', [stripeSecret('current')]) },
    { route: 'POST /payments', items: ['payments-api'], call: () => postPayment() },
  ];

  test.each(cases)('a cold start of $route reads each of its items once, plus one vault and one item index', async ({ route, items, call }) => {
    const functionName = stack.functionOf(route);
    await stack.gateway.killContainers(functionName);
    const before = coldStarts(functionName);
    stack.connect.resetRequests();

    const response = await call();

    expect(response.status).toBeLessThan(300);
    expect(coldStarts(functionName)).toBe(before + 1);
    for (const item of items) expect(stack.connect.countRequests({ method: 'GET', path: itemPath(stack.connect, vaultOf(item), item) })).toBe(1);
    expect(stack.connect.countRequests({ path: ITEM_GET })).toBe(items.length);
    expect(stack.connect.countRequests({ method: 'GET', path: '/v1/vaults' })).toBe(1);
    expect(stack.connect.countRequests()).toBe(items.length + 2);
  });

  test('warm invokes of every route make no Connect request at all', async () => {
    for (const { call } of cases) expect((await call()).status).toBeLessThan(300);
    const before = Object.fromEntries(cases.map(({ route }) => [route, coldStarts(stack.functionOf(route))]));
    stack.connect.resetRequests();

    for (let round = 0; round < 3; round += 1) {
      for (const { call } of cases) expect((await call()).status).toBeLessThan(300);
    }

    expect(stack.connect.countRequests()).toBe(0);
    for (const { route } of cases) expect(coldStarts(stack.functionOf(route))).toBe(before[route]);
  });
});

describe('a Connect token per function', () => {
  test('each function presents the token named after it, and that token sees only its own vaults', async () => {
    stack.connect.resetRequests();
    await Promise.all([fn.health(), fn.webhooks(), fn.payments()].map((name) => stack.gateway.killContainers(name)));
    expect((await getHealth()).status).toBe(200);
    expect((await postWebhook('stripe', [stripeSecret('current')])).status).toBe(202);
    expect((await postPayment()).status).toBe(201);
    const tokensUsed = new Set(stack.connect.requests.map((entry) => entry.tokenName));
    expect([...tokensUsed].sort()).toEqual(['op-lambda-staging-health', 'op-lambda-staging-payments', 'op-lambda-staging-webhooks']);

    const visible = async (tokenName: string): Promise<string[]> => {
      const response = await fetch(`${stack.connect.url}/v1/vaults`, { headers: { authorization: `Bearer ${stack.connect.tokens[tokenName]!}` } });
      return ((await response.json()) as { name: string }[]).map((vault) => vault.name);
    };
    expect(await visible('op-lambda-staging-health')).toEqual([vaultOf('database')]);
    expect(await visible('op-lambda-staging-webhooks')).toEqual([vaultOf('webhook-stripe')]);
    expect(await visible('op-lambda-staging-payments')).toEqual([vaultOf('payments-api')]);
  });
});

describe('audit trail in the function logs', () => {
  test('a cold start logs secret.fetch per item, with its version and no value', async () => {
    await stack.gateway.killContainers(fn.payments());
    expect((await postPayment()).status).toBe(201);

    const { containerId } = lastInvoke(stack);
    const fetches = await waitForAuditLines(stack.gateway, fn.payments(), 'secret.fetch', { containerId });
    expect(fetches).toHaveLength(1);
    expect(fetches[0]).toMatchObject({
      references: [`op://${vaultOf('payments-api')}/payments-api/credential`],
      itemId: stack.connect.getItem(vaultOf('payments-api'), 'payments-api').id,
      itemVersion: stack.connect.getItem(vaultOf('payments-api'), 'payments-api').version,
      outcome: 'success',
      coldStart: true,
      attempts: 1,
    });
  });

  test('secret.access names the secrets read and the principal from the verified JWT claims', async () => {
    const token = await stack.accessToken({ sub: 'user-42' });

    expect((await postPayment({ authorization: `Bearer ${token}` })).status).toBe(201);

    const { requestId } = lastInvoke(stack);
    const access = await waitForAuditLines(stack.gateway, fn.payments(), 'secret.access', { line: (line) => line.awsRequestId === requestId });
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      names: ['PAYMENTS_API_KEY'],
      principal: { type: 'jwt', sub: 'user-42', clientId: LOCAL_CLIENT_ID },
      route: 'POST /payments',
      coldStart: false,
    });
  });

  test('without an authorizer the principal is where the request came from', async () => {
    expect((await postWebhook('stripe', [stripeSecret('current')])).status).toBe(202);

    const { requestId } = lastInvoke(stack);
    const [access] = await waitForAuditLines(stack.gateway, fn.webhooks(), 'secret.access', { line: (line) => line.awsRequestId === requestId });
    expect(access).toMatchObject({ principal: { type: 'anonymous', sourceIp: '127.0.0.1' }, route: 'POST /webhooks/{source}' });
    expect(access!.names).toEqual(expect.arrayContaining(['WEBHOOK_STRIPE_CURRENT']));
  });
});

describe('webhook signatures', () => {
  test('a delivery signed with the staging secret is accepted', async () => {
    const response = await postWebhook('stripe', [stripeSecret('current')]);
    expect(response.status).toBe(202);
    expect(response.json()).toEqual({ received: true });
    expect((await postWebhook('github', [fieldValue(stack.connect, vaultOf('webhook-github'), 'webhook-github', 'current')])).status).toBe(202);
  });

  test('an unsigned delivery is a 400 problem', async () => {
    const response = await stack.request('POST', '/webhooks/stripe', { headers: { 'content-type': 'application/json' }, body: '{"id":"evt_1"}' });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  test('a replayed delivery (signed ten minutes ago) is a 401 and costs no Connect request', async () => {
    stack.connect.resetRequests();
    const response = await postWebhook('stripe', [stripeSecret('current')], undefined, nowSeconds() - 600);
    expect(response.status).toBe(401);
    expect(stack.connect.countRequests()).toBe(0);
  });

  test('a tampered delivery is a 401; checking whether the secrets changed is throttled and reads no item', async () => {
    await stack.gateway.killContainers(fn.webhooks());
    expect((await postWebhook('stripe', [stripeSecret('current')])).status).toBe(202);
    const signed = signedDelivery([stripeSecret('current')], '{"id":"evt_2","amount":100}');
    const tampered = { ...signed, body: '{"id":"evt_2","amount":999}' };
    stack.connect.resetRequests();

    expect((await stack.request('POST', '/webhooks/stripe', tampered)).status).toBe(401);
    // The first mismatch may mean a rotation: one check (the vault list, and in a new container the
    // vault's item list to learn its version), no item read.
    expect(stack.connect.countRequests({ method: 'GET', path: '/v1/vaults' })).toBe(1);
    expect(stack.connect.countRequests({ path: ITEM_GET })).toBe(0);
    const afterFirst = stack.connect.countRequests();
    for (let attempt = 0; attempt < 3; attempt += 1) expect((await stack.request('POST', '/webhooks/stripe', tampered)).status).toBe(401);
    expect(stack.connect.countRequests()).toBe(afterFirst);
  });

  test('a flood of bad signatures, then a rotation: the delivery signed with the new secret is accepted within 5 s', async () => {
    await stack.gateway.killContainers(fn.webhooks());
    const oldCurrent = stripeSecret('current');
    expect((await postWebhook('stripe', [oldCurrent])).status).toBe(202);
    const flood = (): Promise<FixtureResponse> => postWebhook('stripe', [`whsec_attacker_${randomBytes(8).toString('hex')}`]);
    expect((await flood()).status).toBe(401);
    const newCurrent = `whsec_e2e_after_flood_${randomBytes(12).toString('hex')}`;
    stack.rotate(vaultOf('webhook-stripe'), 'webhook-stripe', 'previous', oldCurrent);
    stack.rotate(vaultOf('webhook-stripe'), 'webhook-stripe', 'current', newCurrent);
    stack.connect.resetRequests();

    // Bad signatures keep arriving for the length of the throttle interval (5 s)...
    const floodUntil = Date.now() + WEBHOOK_REFRESH_INTERVAL_MS;
    let floodRequests = 0;
    while (Date.now() < floodUntil) {
      expect([401, 202]).toContain((await flood()).status);
      floodRequests += 1;
      await sleep(100);
    }
    // ...costing at most one check and one read of the changed item, whatever their number.
    expect(floodRequests).toBeGreaterThan(10);
    expect(stack.connect.countRequests({ method: 'GET', path: '/v1/vaults' })).toBeLessThanOrEqual(1);
    expect(stack.connect.countRequests({ path: ITEM_GET })).toBeLessThanOrEqual(1);

    // ...and by then the delivery signed with the new secret verifies.
    expect((await postWebhook('stripe', [newCurrent])).status).toBe(202);
  });

  test('a captured delivery replayed is processed once: 202, then 200 duplicate, even in a new container', async () => {
    const captured = signedDelivery([stripeSecret('current')], JSON.stringify({ id: `evt_${randomBytes(6).toString('hex')}`, type: 'charge.succeeded' }));
    expect((await stack.request('POST', '/webhooks/stripe', captured)).status).toBe(202);
    const replayed = await stack.request('POST', '/webhooks/stripe', captured);
    expect(replayed.status).toBe(200);
    expect(replayed.json()).toEqual({ received: true, duplicate: true });
    await stack.gateway.killContainers(fn.webhooks());
    expect((await stack.request('POST', '/webhooks/stripe', captured)).status).toBe(200);
  });

  test('a delivery signed a minute in the future is a 401', async () => {
    expect((await postWebhook('stripe', [stripeSecret('current')], undefined, nowSeconds() + 60)).status).toBe(401);
  });

  test('an unknown source is a 404', async () => {
    expect((await postWebhook('paypal', [stripeSecret('current')])).status).toBe(404);
  });
});

describe('rotation while the API runs', () => {
  test('webhooks: deliveries signed with the old and the new secret are both accepted', async () => {
    await stack.gateway.killContainers(fn.webhooks());
    const oldCurrent = stripeSecret('current');
    const oldPrevious = stripeSecret('previous');
    expect((await postWebhook('stripe', [oldCurrent])).status).toBe(202);
    const container = lastInvoke(stack).pid;
    const newCurrent = `whsec_e2e_rotated_${randomBytes(12).toString('hex')}`;

    stack.rotate(vaultOf('webhook-stripe'), 'webhook-stripe', 'previous', oldCurrent);
    stack.rotate(vaultOf('webhook-stripe'), 'webhook-stripe', 'current', newCurrent);
    stack.connect.resetRequests();

    expect((await postWebhook('stripe', [oldCurrent])).status).toBe(202);
    expect(stack.connect.countRequests()).toBe(0);
    expect((await postWebhook('stripe', [newCurrent])).status).toBe(202);
    // The miss checks what changed (vault list, item list) and reads the source's item once: current and previous together.
    expect(stack.connect.countRequests({ method: 'GET', path: itemPath(stack.connect, vaultOf('webhook-stripe'), 'webhook-stripe') })).toBe(1);
    expect(stack.connect.countRequests()).toBe(3);
    expect((await postWebhook('stripe', [oldCurrent])).status).toBe(202);
    expect((await postWebhook('stripe', [newCurrent, oldCurrent])).status).toBe(202);
    // The secret rotated out no longer verifies (that miss is within the throttle interval: no request).
    expect((await postWebhook('stripe', [oldPrevious])).status).toBe(401);
    expect(stack.connect.countRequests()).toBe(3);
    expect(lastInvoke(stack).pid).toBe(container);
  });

  test('payments: after the key is rotated, the next payment succeeds after one check and exactly one item read', async () => {
    expect((await postPayment()).status).toBe(201);
    const coldBefore = coldStarts(fn.payments());
    const newKey = `payapi_e2e_rotated_${randomBytes(16).toString('hex')}`;
    stack.rotate(vaultOf('payments-api'), 'payments-api', 'credential', newKey);
    stack.connect.resetRequests();
    stack.payments.resetRequests();

    const response = await postPayment();

    expect(response.status).toBe(201);
    expect(response.json()).toMatchObject({ object: 'payment', status: 'succeeded', amount: 1299 });
    expect(stack.connect.countRequests({ method: 'GET', path: itemPath(stack.connect, vaultOf('payments-api'), 'payments-api') })).toBe(1);
    expect(stack.connect.countRequests({ path: ITEM_GET })).toBe(1);
    expect(stack.connect.countRequests({ method: 'GET', path: '/v1/vaults' })).toBe(1);
    const upstream = stack.payments.requests();
    expect(upstream.map(({ authorized, status }) => ({ authorized, status }))).toEqual([
      { authorized: false, status: 401 },
      { authorized: true, status: 201 },
    ]);
    expect(upstream[1]!.idempotencyKey).toBe(upstream[0]!.idempotencyKey);
    expect(response.headers.get('idempotency-key')).toBe(upstream[0]!.idempotencyKey);
    expect(coldStarts(fn.payments())).toBe(coldBefore);

    stack.connect.resetRequests();
    expect((await postPayment()).status).toBe(201);
    expect(stack.connect.countRequests()).toBe(0);
  });
});

test('nothing captured holds a secret value or token of the vault', () => {
  const captured = stack.captured();
  // A scan of nothing proves nothing: the run did log, answer and call.
  expect(captured['function logs']!.length).toBeGreaterThan(50);
  expect(captured.responses!.length).toBeGreaterThan(20);
  expect(captured['console output']!.some((line) => line.startsWith('connect'))).toBe(true);
  expectNoLeaks(captured, stack.secretValues());
});
