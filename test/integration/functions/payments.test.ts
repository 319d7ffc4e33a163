import { startConnectServer, type LocalConnect } from '../../../local/connect/server';
import { startPaymentsUpstream, type PaymentsUpstream } from '../../../local/payments/server';
import {
  coldStart,
  fieldValue,
  httpEvent,
  Invoker,
  ITEM_GET,
  json,
  lambdaContext,
  leaked,
  OutputCapture,
  prefetched,
  restoreEnv,
  seededSecrets,
  setFunctionEnv,
  STAGING_SECRETS,
  STAGING_VAULTS,
} from './harness';

type PaymentsModule = typeof import('../../../functions/payments/handler');

let connect: LocalConnect;
let upstream: PaymentsUpstream;
let output: OutputCapture;
let payments: Invoker;
let seeded: string[];
let loaded: PaymentsModule;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The provider accepts whatever key the local vault holds right now, so rotating it there takes effect. */
const vaultKey = () => fieldValue(connect, STAGING_VAULTS.payments, 'payments-api', 'credential');

function paymentEvent(body: unknown, headers: Record<string, string> = {}) {
  return httpEvent({
    path: '/payments',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function startPayments(env: Record<string, string> = {}): Promise<Invoker> {
  setFunctionEnv(connect, { ...STAGING_SECRETS.payments, PAYMENTS_API_URL: upstream.url, ...env });
  const module = (loaded = await coldStart<PaymentsModule>(() => import('../../../functions/payments/handler')));
  return new Invoker(module.handler);
}

function expectProblem(answer: { statusCode: number; headers: Record<string, string>; body: string }, status: number): void {
  expect(answer.statusCode).toBe(status);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(json(answer)).toMatchObject({ status, detail: expect.any(String) });
}

beforeEach(async () => {
  connect = await startConnectServer({ port: 0 });
  upstream = await startPaymentsUpstream({ acceptKey: vaultKey });
  seeded = seededSecrets(connect);
  output = new OutputCapture().start();
  payments = await startPayments();
  await prefetched(loaded.secrets);
});

afterEach(async () => {
  const captured = [output.text, JSON.stringify(payments.answers), JSON.stringify(upstream.requests())].join('\n');
  expect(leaked(captured, [...seeded, ...seededSecrets(connect)])).toEqual([]);
  jest.restoreAllMocks();
  restoreEnv();
  await upstream.close();
  await connect.close();
});

describe('POST /payments', () => {
  it("forwards a valid payment with the vault's key and returns the provider's status and JSON", async () => {
    const answer = await payments.invoke(paymentEvent({ amount: 1250, currency: 'eur', description: 'Order 42' }, { 'Idempotency-Key': 'order-42' }));
    expect(answer.statusCode).toBe(201);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.headers['idempotency-key']).toBe('order-42');
    expect(json(answer)).toMatchObject({ object: 'payment', amount: 1250, currency: 'eur', description: 'Order 42', status: 'succeeded' });
    expect(upstream.requests()).toEqual([
      {
        method: 'POST',
        path: '/v1/payments',
        authorized: true,
        idempotencyKey: 'order-42',
        body: { amount: 1250, currency: 'EUR', description: 'Order 42' },
        status: 201,
      },
    ]);
    const logged = output.lines().find((line) => line['message'] === 'payment forwarded');
    expect(logged).toMatchObject({ upstreamStatus: 201, status: 201, attempts: 1, refreshed: false, idempotencyKey: 'order-42' });
  });

  it('generates an Idempotency-Key when the client sends none, and returns it', async () => {
    const answer = await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' }));
    expect(answer.statusCode).toBe(201);
    expect(answer.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(upstream.requests()[0]?.idempotencyKey).toBe(answer.headers['idempotency-key']);
  });

  it("answers the provider's refusals as its own problem, with the provider's status and code, e.g. an Idempotency-Key reused with another body", async () => {
    await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' }, { 'Idempotency-Key': 'reused' }));
    const answer = await payments.invoke(paymentEvent({ amount: 200, currency: 'USD' }, { 'Idempotency-Key': 'reused' }));
    expectProblem(answer, 409);
    expect(json(answer)).toEqual({
      type: 'about:blank',
      title: 'Payment refused',
      status: 409,
      detail: 'The payments provider refused the payment.',
      upstreamStatus: 409,
      upstreamCode: 'idempotency_key_reused',
    });
  });

  it.each([
    ['an empty body', ''],
    ['a body that is not JSON', 'amount=100&currency=USD'],
    ['a JSON array', '[]'],
    ['a zero amount', { amount: 0, currency: 'USD' }],
    ['a fractional amount', { amount: 10.5, currency: 'USD' }],
    ['an amount as a string', { amount: '100', currency: 'USD' }],
    ['a four-letter currency', { amount: 100, currency: 'EURO' }],
    ['a missing currency', { amount: 100 }],
    ['an unknown field', { amount: 100, currency: 'USD', ammount: 100 }],
  ])('answers 400 problem+json for %s, without calling the provider', async (_case, body) => {
    const answer = await payments.invoke(paymentEvent(body));
    expectProblem(answer, 400);
    expect(upstream.countRequests()).toBe(0);
  });

  it('names each invalid field in invalid-params', async () => {
    const answer = await payments.invoke(paymentEvent({ amount: -1, currency: 'E', extra: 1 }));
    expect(json(answer)).toMatchObject({
      title: 'Invalid payment',
      'invalid-params': [
        { name: 'amount', reason: 'must be positive' },
        { name: 'currency', reason: 'must be a three-letter ISO 4217 code' },
        { name: 'extra', reason: 'is not a known field' },
      ],
    });
  });

  it('refuses an unusable Idempotency-Key with 400', async () => {
    expectProblem(await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' }, { 'Idempotency-Key': 'x'.repeat(256) })), 400);
    expect(upstream.countRequests()).toBe(0);
  });

  it('reads a base64-encoded body', async () => {
    const event = httpEvent({ path: '/payments', body: JSON.stringify({ amount: 700, currency: 'GBP' }), base64: true });
    expect((await payments.invoke(event)).statusCode).toBe(201);
  });
});

describe('POST /payments: the key', () => {
  it('succeeds after a key rotated mid-run, with one check (vault and item lists) and one GET of the key', async () => {
    expect((await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' }))).statusCode).toBe(201);
    connect.resetRequests();
    upstream.resetRequests();

    connect.setField(STAGING_VAULTS.payments, 'payments-api', 'credential', 'payapi_rotated_mid_run_S2V5Um90YXRlZA');
    const answer = await payments.invoke(paymentEvent({ amount: 200, currency: 'USD' }, { 'Idempotency-Key': 'after-rotation' }));
    expect(answer.statusCode).toBe(201);
    expect(connect.countRequests()).toBe(3);
    expect(connect.countRequests(ITEM_GET)).toBe(1);
    expect(upstream.requests().map((r) => [r.status, r.idempotencyKey])).toEqual([
      [401, 'after-rotation'],
      [201, 'after-rotation'],
    ]);

    // The refreshed key is cached: the next payment needs neither Connect nor a retry.
    connect.resetRequests();
    upstream.resetRequests();
    expect((await payments.invoke(paymentEvent({ amount: 300, currency: 'USD' }))).statusCode).toBe(201);
    expect(connect.countRequests()).toBe(0);
    expect(upstream.countRequests()).toBe(1);
  });

  it("answers 502 when the provider refuses the vault's key too, and does not refresh again for a while", async () => {
    await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' }));
    await upstream.close();
    upstream = await startPaymentsUpstream({ acceptKey: () => 'payapi_only_the_provider_knows_this_one' });
    payments = await startPayments();
    await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' })).then((answer) => expectProblem(answer, 502));
    connect.resetRequests();
    upstream.resetRequests();

    for (let i = 0; i < 5; i++) {
      const answer = await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' }));
      expectProblem(answer, 502);
      expect(answer.body).toContain('credentials');
    }
    expect(connect.countRequests()).toBe(0);
    expect(upstream.countRequests()).toBe(5);
  });

  it('answers 503 when the provider refuses the cached key and 1Password cannot be reached to refresh it', async () => {
    connect.setField(STAGING_VAULTS.payments, 'payments-api', 'credential', 'payapi_rotated_during_outage_T3V0YWdl');
    connect.addFault({ path: /\/items\//, spec: { kind: 'status', status: 503 } });
    const answer = await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' }), lambdaContext(3000));
    expectProblem(answer, 503);
    expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(upstream.requests().map((r) => r.status)).toEqual([401]);
  });

  it('a rotation met by a Connect outage: 503 with Retry-After during it, 201 as soon as Connect is back', async () => {
    expect((await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' }))).statusCode).toBe(201);
    upstream.resetRequests();
    connect.setField(STAGING_VAULTS.payments, 'payments-api', 'credential', 'payapi_rotated_during_outage_UmVzZXQ');
    connect.addFault({ spec: { kind: 'reset' } });

    // Nothing was charged (the provider refused the cached key): the client may retry, and is told when.
    let answer = await payments.invoke(paymentEvent({ amount: 200, currency: 'USD' }, { 'Idempotency-Key': 'outage-1' }));
    expectProblem(answer, 503);
    expect(answer.headers['idempotency-key']).toBe('outage-1');
    answer = await payments.invoke(paymentEvent({ amount: 200, currency: 'USD' }, { 'Idempotency-Key': 'outage-1' }));
    expectProblem(answer, 503);
    const retryAfterSeconds = Number(answer.headers['retry-after']);
    expect(retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(upstream.requests().map((r) => r.status)).toEqual([401, 401]);

    // Connect is back; the retry made when told to succeeds, not one throttle interval later: the
    // version check, due again once its backoff ended, finds the new key before the provider is called.
    connect.clearFaults();
    await sleep(retryAfterSeconds * 1000);
    connect.resetRequests();
    upstream.resetRequests();
    answer = await payments.invoke(paymentEvent({ amount: 200, currency: 'USD' }, { 'Idempotency-Key': 'outage-1' }));
    expect(answer.statusCode).toBe(201);
    expect(connect.countRequests(ITEM_GET)).toBe(1);
    expect(connect.countRequests()).toBe(3);
    expect(upstream.requests().map((r) => [r.status, r.idempotencyKey])).toEqual([[201, 'outage-1']]);
  });

  it('answers 503 problem+json with Retry-After when the key cannot be read from 1Password', async () => {
    connect.addFault({ path: /\/items\//, spec: { kind: 'status', status: 503 } });
    payments = await startPayments();
    const answer = await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' }), lambdaContext(3000));
    expectProblem(answer, 503);
    expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(upstream.countRequests()).toBe(0);
  });
});

describe('POST /payments: the provider', () => {
  it('answers 502 problem+json when the provider is unreachable', async () => {
    await upstream.close();
    const answer = await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' }, { 'Idempotency-Key': 'down-1' }));
    expectProblem(answer, 502);
    expect(answer.headers['idempotency-key']).toBe('down-1');
    expect(answer.body).not.toContain('127.0.0.1');
    upstream = await startPaymentsUpstream({ acceptKey: vaultKey });
  });

  it('answers 502 when the provider fails (5xx), with its status', async () => {
    await upstream.close();
    upstream = await startPaymentsUpstream({
      acceptKey: () => {
        throw new Error('provider outage');
      },
    });
    payments = await startPayments();
    const answer = await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' }));
    expectProblem(answer, 502);
    expect(json(answer)).toMatchObject({ upstreamStatus: 503 });
  });

  it('answers 504 before the Lambda deadline when the provider is too slow', async () => {
    upstream.setDelay(5000);
    const started = Date.now();
    const answer = await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' }), lambdaContext(1500));
    expectProblem(answer, 504);
    // Within the 1.5 s the context allowed, with a generous margin for a busy machine.
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('answers 500 problem+json when PAYMENTS_API_URL would send the key over plain http', async () => {
    payments = await startPayments({ PAYMENTS_API_URL: 'http://payments.example.com' });
    const answer = await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' }));
    expectProblem(answer, 500);
    expect(answer.body).not.toContain('payments.example.com');
  });
});

describe('POST /payments: a hostile provider', () => {
  let elsewhere: PaymentsUpstream;

  beforeEach(async () => {
    elsewhere = await startPaymentsUpstream({ acceptKey: vaultKey });
  });
  afterEach(() => elsewhere.close());

  /** Every answer and log line of the test, and what the other origin recorded. */
  const everythingCaptured = () => [output.text, JSON.stringify(payments.answers), JSON.stringify(elsewhere.requests())].join('\n');

  it.each([301, 302, 303, 307, 308] as const)('answers 502 to a %i redirect to another origin, which is never contacted', async (status) => {
    upstream.misbehave({ kind: 'redirect', status, location: `${elsewhere.url}/v1/payments` });
    const answer = await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' }, { 'Idempotency-Key': 'redirected-1' }));
    expectProblem(answer, 502);
    expect(json(answer)).toMatchObject({ upstreamStatus: status });
    expect(answer.body).not.toContain(elsewhere.url);
    expect(upstream.countRequests()).toBe(1);
    expect(elsewhere.countRequests()).toBe(0);
    expect(everythingCaptured()).not.toContain(vaultKey());
  });

  it('answers a 4xx that echoes the request (the key included) with its own problem: status and nothing of the body', async () => {
    upstream.misbehave({ kind: 'echo', status: 400 });
    const answer = await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' }));
    expectProblem(answer, 400);
    expect(json(answer)).toEqual({ type: 'about:blank', title: 'Payment refused', status: 400, detail: 'The payments provider refused the payment.', upstreamStatus: 400 });
    expect(everythingCaptured()).not.toContain(vaultKey());
  });

  it('answers 502 to an echoing 4xx that is no refusal of the payment (403), without the echoed key', async () => {
    upstream.misbehave({ kind: 'echo', status: 403 });
    const answer = await payments.invoke(paymentEvent({ amount: 100, currency: 'USD' }));
    expectProblem(answer, 502);
    expect(json(answer)).toMatchObject({ upstreamStatus: 403 });
    expect(json(answer)).not.toHaveProperty('upstreamCode');
    expect(everythingCaptured()).not.toContain(vaultKey());
  });
});
