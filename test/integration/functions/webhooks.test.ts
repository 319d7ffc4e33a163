import { randomUUID } from 'node:crypto';
import { startConnectServer, type LocalConnect } from '../../../local/connect/server';
import { startLocalDynamo, type LocalDynamo } from '../../../local/dynamo/local-dynamo';
import { computeSignature, signPayload } from '../../../functions/webhooks/signature';
import {
  coldStart,
  fieldValue,
  httpEvent,
  Invoker,
  ITEM_GET,
  VAULT_LIST,
  json,
  leaked,
  OutputCapture,
  prefetched,
  replayTableEnv,
  restoreEnv,
  seededSecrets,
  setFunctionEnv,
  STAGING_SECRETS,
  STAGING_VAULTS,
} from './harness';

type WebhooksModule = typeof import('../../../functions/webhooks/handler');

let connect: LocalConnect;
let output: OutputCapture;
let webhooks: Invoker;
let seeded: string[];
let loaded: WebhooksModule;
let dynamo: LocalDynamo;
/** This test's replay table (a fresh one per test) and the environment naming it. */
let replayEnv: Record<string, string>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const EVENT_BODY = '{"id":"evt_1","type":"payment.succeeded","data":{"amount":1250}}';
const now = () => Math.floor(Date.now() / 1000);
const secretOf = (source: string, field: 'current' | 'previous') => fieldValue(connect, STAGING_VAULTS.webhooks, `webhook-${source}`, field);

function delivery(source: string, signature: string | undefined, body: string | Buffer = EVENT_BODY, base64 = false) {
  return httpEvent({
    path: `/webhooks/${source}`,
    routeKey: 'POST /webhooks/{source}',
    pathParameters: { source },
    headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { 'X-Signature': signature }) },
    body,
    base64,
  });
}

/** A new event each time: the same body signed at the same second twice is one delivery, and the second a replay. */
const newEventBody = () => `{"id":"evt_${randomUUID()}","type":"payment.succeeded","data":{"amount":1250}}`;

const signed = (source: string, secret: string, body: string | Buffer = newEventBody(), t = now()) => delivery(source, signPayload([secret], t, Buffer.from(body)), body);

/** Lines the function logged with this message. */
const logged = (message: string) => output.lines().filter((line) => line['message'] === message);

async function startWebhooks(env: Record<string, string> = STAGING_SECRETS.webhooks): Promise<Invoker> {
  setFunctionEnv(connect, { ...replayEnv, ...env });
  const module = (loaded = await coldStart<WebhooksModule>(() => import('../../../functions/webhooks/handler')));
  return new Invoker(module.handler);
}

/** A first delivery, so the container is warm and its secrets cached; then counting starts afresh. */
async function warmUp(): Promise<void> {
  expect((await webhooks.invoke(signed('stripe', secretOf('stripe', 'current')))).statusCode).toBe(202);
  connect.resetRequests();
}

/** Removes a field the way an operator would: a PUT of the item without it, with the write token. */
async function removeField(item: string, label: string): Promise<void> {
  const original = connect.getItem(STAGING_VAULTS.webhooks, item);
  const response = await fetch(`${connect.url}/v1/vaults/${original.vault.id}/items/${original.id}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${connect.tokens['dev-write']}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...original, fields: original.fields.filter((field) => field.label !== label) }),
  });
  expect(response.status).toBe(200);
}

function expectProblem(answer: { statusCode: number; headers: Record<string, string>; body: string }, status: number): void {
  expect(answer.statusCode).toBe(status);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(json(answer)).toMatchObject({ type: 'about:blank', status, detail: expect.any(String) });
}

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(() => dynamo.close());

beforeEach(async () => {
  replayEnv = await replayTableEnv(dynamo);
  connect = await startConnectServer({ port: 0 });
  seeded = seededSecrets(connect);
  output = new OutputCapture().start();
  webhooks = await startWebhooks();
  await prefetched(loaded.secrets);
});

afterEach(async () => {
  const captured = [output.text, ...webhooks.answers.map((answer) => JSON.stringify(answer))].join('\n');
  // Seeded values and anything rotated in during the test.
  const secrets = [...seeded, ...seededSecrets(connect)];
  expect(leaked(captured, secrets)).toEqual([]);
  jest.restoreAllMocks();
  restoreEnv();
  await connect.close();
});

describe('POST /webhooks/{source}: accepted deliveries', () => {
  it('accepts deliveries signed with the current or the previous secret of each source', async () => {
    for (const source of ['stripe', 'github']) {
      for (const field of ['current', 'previous'] as const) {
        const answer = await webhooks.invoke(signed(source, secretOf(source, field)));
        expect(answer.statusCode).toBe(202);
        expect(answer.headers['content-type']).toBe('application/json');
        expect(json(answer)).toEqual({ received: true });
      }
    }
  });

  it('accepts a header with several v1 signatures when any one matches', async () => {
    const t = now();
    const header = signPayload(['not-the-secret', secretOf('stripe', 'current'), 'another-wrong-one'], t, Buffer.from(EVENT_BODY));
    expect((await webhooks.invoke(delivery('stripe', header))).statusCode).toBe(202);
  });

  it('verifies the raw bytes of base64-encoded bodies, whatever they hold', async () => {
    const binary = Buffer.from([0x00, 0xff, 0x7b, 0x0a, 0xc3, 0x28, 0x22]);
    const header = signPayload([secretOf('github', 'current')], now(), binary);
    expect((await webhooks.invoke(delivery('github', header, binary, true))).statusCode).toBe(202);
    const json = Buffer.from('{ "spacing" :  "kept",\n"order": [2,1] }\n');
    const jsonHeader = signPayload([secretOf('github', 'current')], now(), json);
    expect((await webhooks.invoke(delivery('github', jsonHeader, json, true))).statusCode).toBe(202);
  });

  it('finds the source in the path when the event has no path parameters', async () => {
    const event = signed('stripe', secretOf('stripe', 'current'));
    delete event.pathParameters;
    expect((await webhooks.invoke(event)).statusCode).toBe(202);
  });
});

describe('POST /webhooks/{source}: refused deliveries', () => {
  it('refuses a tampered body with 401', async () => {
    const header = signPayload([secretOf('stripe', 'current')], now(), Buffer.from(EVENT_BODY));
    const answer = await webhooks.invoke(delivery('stripe', header, EVENT_BODY.replace('1250', '9999')));
    expectProblem(answer, 401);
    expect(json(answer)).toMatchObject({ title: 'Invalid signature' });
  });

  it('refuses a body re-serialised after signing (only the raw bytes count)', async () => {
    const spaced = '{ "id": "evt_1" }';
    const header = signPayload([secretOf('stripe', 'current')], now(), Buffer.from(spaced));
    expectProblem(await webhooks.invoke(delivery('stripe', header, JSON.stringify(JSON.parse(spaced)))), 401);
  });

  it('refuses a delivery signed more than 5 minutes ago, or more than 30 s ahead, without reading 1Password', async () => {
    await warmUp();
    for (const t of [now() - 301, now() + 31, now() + 301]) {
      const answer = await webhooks.invoke(signed('stripe', secretOf('stripe', 'current'), EVENT_BODY, t));
      expectProblem(answer, 401);
      expect(json(answer)).toMatchObject({ title: 'Stale signature' });
    }
    expect(connect.countRequests()).toBe(0);
  });

  it('refuses unsigned and malformed deliveries with 400', async () => {
    const valid = computeSignature(secretOf('stripe', 'current'), now(), Buffer.from(EVENT_BODY)).toString('hex');
    for (const header of [undefined, '', 'garbage', `v1=${valid}`, `t=${now()}`, `t=abc,v1=${valid}`, `t=${now()},v1=xyz`, `sha256=${valid}`]) {
      const answer = await webhooks.invoke(delivery('stripe', header));
      expectProblem(answer, 400);
      expect(json(answer)).toMatchObject({ title: 'Invalid signature header' });
    }
  });

  it('answers 404 for a source it does not know', async () => {
    for (const source of ['shopify', 'Stripe', 'constructor', '__proto__']) {
      const answer = await webhooks.invoke(signed(source, secretOf('stripe', 'current')));
      expectProblem(answer, 404);
      expect(answer.body).not.toContain(source === 'Stripe' ? 'Stripe' : source);
    }
  });

  it('answers 404 for a known source that this stage does not configure', async () => {
    webhooks = await startWebhooks({ WEBHOOK_STRIPE_CURRENT: STAGING_SECRETS.webhooks.WEBHOOK_STRIPE_CURRENT });
    expect((await webhooks.invoke(signed('stripe', secretOf('stripe', 'current')))).statusCode).toBe(202);
    expectProblem(await webhooks.invoke(signed('github', secretOf('github', 'current'))), 404);
  });

  it("answers 503 for a source whose secret is unavailable, while other sources keep working", async () => {
    connect.addFault({ path: new RegExp(`/items/${connect.getItem(STAGING_VAULTS.webhooks, 'webhook-github').id}$`), spec: { kind: 'status', status: 500 } });
    webhooks = await startWebhooks();
    const answer = await webhooks.invoke(signed('github', secretOf('github', 'current')));
    expectProblem(answer, 503);
    expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(answer.body).not.toMatch(/github|WEBHOOK|op-lambda|127\.0\.0\.1/);
    expect((await webhooks.invoke(signed('stripe', secretOf('stripe', 'current')))).statusCode).toBe(202);
  });
});

describe('POST /webhooks/{source}: rotation', () => {
  it('a wrong signature costs one version check (a vault list) and no item read, and a flood costs no more', async () => {
    await warmUp();
    expectProblem(await webhooks.invoke(signed('stripe', 'whsec_attacker_guess')), 401);
    expect(connect.countRequests(VAULT_LIST)).toBe(1);
    // A container's first check also lists the vault's items once, to learn the vault's version.
    expect(connect.countRequests()).toBe(2);
    for (let i = 0; i < 20; i++) expectProblem(await webhooks.invoke(signed('stripe', `whsec_attacker_guess_${i}`)), 401);
    expect(connect.countRequests()).toBe(2);
    // The throttle is per source: github's first miss may still check github's secrets.
    expectProblem(await webhooks.invoke(signed('github', 'ghwebhook_attacker_guess')), 401);
    expect(connect.countRequests(VAULT_LIST)).toBe(2);
    expect(connect.countRequests(ITEM_GET)).toBe(0);
  });

  it('accepts deliveries signed with the old and the new secret across a rotation mid-run', async () => {
    await warmUp();
    const old = secretOf('stripe', 'current');
    const olderStill = secretOf('stripe', 'previous');
    const rotated = 'whsec_rotated_mid_run_Q2hhbmdlZFNlY3JldA';
    connect.setField(STAGING_VAULTS.webhooks, 'webhook-stripe', 'previous', old);
    connect.setField(STAGING_VAULTS.webhooks, 'webhook-stripe', 'current', rotated);

    // Signed before the sender learnt of the rotation: the cached current still matches.
    expect((await webhooks.invoke(signed('stripe', old))).statusCode).toBe(202);
    expect(connect.countRequests()).toBe(0);

    // Signed with the new secret: one miss, a check (vault list, item list), then one read of the item, current and previous together.
    expect((await webhooks.invoke(signed('stripe', rotated))).statusCode).toBe(202);
    expect(connect.countRequests(ITEM_GET)).toBe(1);
    expect(connect.countRequests()).toBe(3);

    // From now on both verify from the cache, with no further requests.
    connect.resetRequests();
    for (const secret of [old, rotated, old, rotated]) expect((await webhooks.invoke(signed('stripe', secret))).statusCode).toBe(202);
    expect(connect.countRequests()).toBe(0);

    // The secret rotated out two steps ago no longer verifies.
    expectProblem(await webhooks.invoke(signed('stripe', olderStill)), 401);
    const accepted = output.lines().filter((line) => line['message'] === 'webhook accepted');
    expect(accepted.some((line) => line['usedRefresh'] === true)).toBe(true);
  });

  it('after a rotation that also cleared previous, only the new secret verifies', async () => {
    await warmUp();
    const old = secretOf('stripe', 'current');
    const rotated = 'whsec_rotated_and_revoked_UmV2b2tlZA';
    connect.setField(STAGING_VAULTS.webhooks, 'webhook-stripe', 'current', rotated);
    connect.setField(STAGING_VAULTS.webhooks, 'webhook-stripe', 'previous', '');
    expect((await webhooks.invoke(signed('stripe', rotated))).statusCode).toBe(202);
    expect(connect.countRequests(ITEM_GET)).toBe(1);
    expectProblem(await webhooks.invoke(signed('stripe', old)), 401);
  });

  it('a previous secret removed from the item stops verifying after the refresh', async () => {
    await warmUp();
    const previous = secretOf('stripe', 'previous');
    const rotated = 'whsec_rotated_previous_removed_UmVtb3ZlZA';
    connect.setField(STAGING_VAULTS.webhooks, 'webhook-stripe', 'current', rotated);
    await removeField('webhook-stripe', 'previous');
    connect.resetRequests();
    expect((await webhooks.invoke(signed('stripe', rotated))).statusCode).toBe(202);
    expect(connect.countRequests(ITEM_GET)).toBe(1);
    expectProblem(await webhooks.invoke(signed('stripe', previous)), 401);
    expect(connect.countRequests()).toBe(3);
  });

  it('a refresh that cannot reach 1Password answers 503 with Retry-After, logged without detail', async () => {
    await warmUp();
    connect.addFault({ path: /^\/v1\//, spec: { kind: 'status', status: 500 } });
    const answer = await webhooks.invoke(signed('stripe', 'whsec_rotated_but_unreachable'));
    expectProblem(answer, 503);
    expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(answer.body).not.toMatch(/stripe|WEBHOOK|op-lambda|127\.0\.0\.1/);
    expect(output.lines().some((line) => line['message'] === 'webhook secrets refresh failed' && line['source'] === 'stripe')).toBe(true);
    // The cached secrets still verify: a failed refresh does not drop them.
    expect((await webhooks.invoke(signed('stripe', secretOf('stripe', 'current')))).statusCode).toBe(202);
  });

  it('a rotation met by a Connect outage: 503 with Retry-After during it, 202 as soon as Connect is back', async () => {
    await warmUp();
    const old = secretOf('stripe', 'current');
    const rotated = 'whsec_rotated_during_outage_T3V0YWdlUm90YXRlZA';
    connect.setField(STAGING_VAULTS.webhooks, 'webhook-stripe', 'previous', old);
    connect.setField(STAGING_VAULTS.webhooks, 'webhook-stripe', 'current', rotated);
    connect.addFault({ spec: { kind: 'reset' } });

    // The delivery may be valid: a sender that sees 503 retries, one that sees 401 gives up.
    let answer = await webhooks.invoke(signed('stripe', rotated));
    expectProblem(answer, 503);
    answer = await webhooks.invoke(signed('stripe', rotated));
    expectProblem(answer, 503);
    const retryAfterSeconds = Number(answer.headers['retry-after']);
    expect(retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // Deliveries signed with the secret the container holds still verify during the outage.
    expect((await webhooks.invoke(signed('stripe', old))).statusCode).toBe(202);

    // Connect is back; the sender retries when told to, not one throttle interval later.
    connect.clearFaults();
    await sleep(retryAfterSeconds * 1000);
    connect.resetRequests();
    expect((await webhooks.invoke(signed('stripe', rotated))).statusCode).toBe(202);
    expect(connect.countRequests(ITEM_GET)).toBe(1);
    expect(connect.countRequests()).toBe(3);

    // A flood of bad signatures costs one check (a vault list), then nothing within the throttle interval.
    for (let i = 0; i < 5; i++) expectProblem(await webhooks.invoke(signed('stripe', `whsec_attacker_guess_${i}`)), 401);
    for (const secret of [old, rotated]) expect((await webhooks.invoke(signed('stripe', secret))).statusCode).toBe(202);
    expect(connect.countRequests(VAULT_LIST)).toBe(2);
    expect(connect.countRequests()).toBe(4);
  });
});

describe('POST /webhooks/{source}: replays', () => {
  it('processes a delivery once: the same delivery again answers 200 duplicate, unprocessed, and is logged without secret or signature', async () => {
    const first = signed('stripe', secretOf('stripe', 'current'));
    expect((await webhooks.invoke(first)).statusCode).toBe(202);
    for (let i = 0; i < 3; i++) {
      const again = await webhooks.invoke(first);
      expect(again.statusCode).toBe(200);
      expect(json(again)).toEqual({ received: true, duplicate: true });
    }
    expect(logged('webhook accepted')).toHaveLength(1);
    const replays = logged('webhook replay');
    expect(replays).toHaveLength(3);
    expect(replays[0]).toMatchObject({ source: 'stripe', deliveryKey: expect.stringMatching(/^stripe#[0-9a-f]{64}$/) });
    const signature = first.headers['x-signature']!;
    expect(output.text).not.toContain(signature.split('v1=')[1]!);
  });

  it('knows a replay whatever container it reaches: the record is in the table, not the container', async () => {
    const first = signed('github', secretOf('github', 'current'));
    expect((await webhooks.invoke(first)).statusCode).toBe(202);
    webhooks = await startWebhooks();
    expect((await webhooks.invoke(first)).statusCode).toBe(200);
  });

  it('takes the same signed content, re-sent with its signatures reordered or padded, for the same delivery', async () => {
    const t = now();
    const body = newEventBody();
    const [current, previous] = [secretOf('stripe', 'current'), secretOf('stripe', 'previous')];
    expect((await webhooks.invoke(delivery('stripe', signPayload([current, previous], t, Buffer.from(body)), body))).statusCode).toBe(202);
    const reordered = signPayload([previous, current], t, Buffer.from(body));
    expect((await webhooks.invoke(delivery('stripe', reordered, body))).statusCode).toBe(200);
    expect((await webhooks.invoke(delivery('stripe', `v0=deadbeef,${reordered}`, body))).statusCode).toBe(200);
    expect(logged('webhook accepted')).toHaveLength(1);
  });

  it('tells deliveries apart by source, body and timestamp', async () => {
    const body = newEventBody();
    const t = now();
    expect((await webhooks.invoke(signed('stripe', secretOf('stripe', 'current'), body, t))).statusCode).toBe(202);
    expect((await webhooks.invoke(signed('github', secretOf('github', 'current'), body, t))).statusCode).toBe(202);
    expect((await webhooks.invoke(signed('stripe', secretOf('stripe', 'current'), body, t - 1))).statusCode).toBe(202);
    expect((await webhooks.invoke(signed('stripe', secretOf('stripe', 'current'), newEventBody(), t))).statusCode).toBe(202);
  });

  it('accepts a timestamp up to 30 s ahead (clock skew), and refuses one further ahead with 401', async () => {
    expect((await webhooks.invoke(signed('stripe', secretOf('stripe', 'current'), newEventBody(), now() + 29))).statusCode).toBe(202);
    const ahead = await webhooks.invoke(signed('stripe', secretOf('stripe', 'current'), newEventBody(), now() + 45));
    expectProblem(ahead, 401);
    expect(json(ahead)).toMatchObject({ title: 'Stale signature' });
  });

  it('answers 503 problem+json with Retry-After when the replay table is unreachable, and processes the delivery once it is back', async () => {
    const down = await startLocalDynamo();
    const table = await replayTableEnv(down);
    await down.close();
    webhooks = await startWebhooks({ ...STAGING_SECRETS.webhooks, AWS_ENDPOINT_URL_DYNAMODB: table['AWS_ENDPOINT_URL_DYNAMODB']! });
    await prefetched(loaded.secrets);
    const first = signed('stripe', secretOf('stripe', 'current'));
    const answer = await webhooks.invoke(first);
    expectProblem(answer, 503);
    expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(answer.body).not.toMatch(/dynamo|127\.0\.0\.1|replay-/i);
    expect(logged('webhook accepted')).toHaveLength(0);
    expect(logged('webhook replay table unavailable')).toHaveLength(1);

    // The sender retries; the table answers again: processed once, then a duplicate.
    webhooks = await startWebhooks();
    expect((await webhooks.invoke(first)).statusCode).toBe(202);
    expect((await webhooks.invoke(first)).statusCode).toBe(200);
    expect(logged('webhook accepted')).toHaveLength(1);
  });

  it('answers 500 problem+json, processing nothing, when no replay table is configured', async () => {
    replayEnv = {};
    webhooks = await startWebhooks();
    expectProblem(await webhooks.invoke(signed('stripe', secretOf('stripe', 'current'))), 500);
    expect(logged('webhook accepted')).toHaveLength(0);
    expect(logged('webhook replay table not configured')).toHaveLength(1);
  });
});
