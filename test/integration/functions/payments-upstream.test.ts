import { startPaymentsUpstream, type PaymentsUpstream } from '../../../local/payments/server';
import { createPayment, paymentsEndpoint } from '../../../functions/payments/payments-api';

const KEY = 'sk_test_upstream_key_1';
let acceptedKey = KEY;
let upstream: PaymentsUpstream;

beforeAll(async () => {
  upstream = await startPaymentsUpstream({ acceptKey: () => acceptedKey });
});
afterAll(() => upstream.close());
beforeEach(() => {
  acceptedKey = KEY;
  upstream.resetRequests();
  upstream.setDelay(0);
  upstream.misbehave(undefined);
});

const payment = { amount: 500, currency: 'USD' };
const call = (overrides: Partial<Parameters<typeof createPayment>[0]> = {}) =>
  createPayment({ baseUrl: new URL(upstream.url), apiKey: KEY, idempotencyKey: `k-${Math.random()}`, payment, timeoutMs: 5000, ...overrides });

describe('local payments upstream, through the function-side client', () => {
  it('creates a payment with the accepted key and records the request without the key', async () => {
    const outcome = await call({ idempotencyKey: 'order-1' });
    expect(outcome).toMatchObject({ kind: 'response', status: 201, body: { object: 'payment', amount: 500, currency: 'usd', status: 'succeeded' } });
    expect(upstream.requests()).toEqual([
      { method: 'POST', path: '/v1/payments', authorized: true, idempotencyKey: 'order-1', body: payment, status: 201 },
    ]);
    expect(JSON.stringify(upstream.requests())).not.toContain(KEY);
  });

  it('refuses any other key with 401, and follows the accepted key as it changes', async () => {
    expect(await call({ apiKey: 'sk_wrong' })).toEqual({ kind: 'response', status: 401, body: { error: 'invalid_api_key', message: 'invalid API key provided' } });
    acceptedKey = 'sk_rotated';
    expect(await call()).toMatchObject({ kind: 'response', status: 401 });
    expect(await call({ apiKey: 'sk_rotated' })).toMatchObject({ kind: 'response', status: 201 });
  });

  it('replays the same payment for the same Idempotency-Key and body, and refuses another body', async () => {
    const first = await call({ idempotencyKey: 'same' });
    const again = await call({ idempotencyKey: 'same' });
    expect(again).toEqual(first);
    expect(upstream.payments().filter((p) => p.amount === 500).length).toBeGreaterThan(0);
    expect(await call({ idempotencyKey: 'same', payment: { amount: 501, currency: 'USD' } })).toMatchObject({
      kind: 'response',
      status: 409,
      body: { error: 'idempotency_key_reused' },
    });
  });

  it('validates the body', async () => {
    expect(await call({ payment: { amount: -1, currency: 'USD' } })).toMatchObject({ kind: 'response', status: 400, body: { error: 'invalid_request' } });
  });

  it('serves created payments by id to the same key', async () => {
    const created = await call();
    const id = (created as { body: { id: string } }).body.id;
    const response = await fetch(new URL(`/v1/payments/${id}`, upstream.url), { headers: { authorization: `Bearer ${KEY}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id, amount: 500 });
  });

  it('answers 503 when the accepted key cannot be read', async () => {
    const failing = await startPaymentsUpstream({
      acceptKey: () => {
        throw new Error('vault down');
      },
    });
    try {
      expect(await createPayment({ baseUrl: new URL(failing.url), apiKey: KEY, idempotencyKey: 'x', payment, timeoutMs: 5000 })).toMatchObject({
        kind: 'response',
        status: 503,
      });
    } finally {
      await failing.close();
    }
  });

  it('reports a timeout when the upstream is slower than allowed', async () => {
    upstream.setDelay(2000);
    expect(await call({ timeoutMs: 100 })).toEqual({ kind: 'timeout' });
  });

  it('reports an unreachable upstream with its system error code', async () => {
    const gone = await startPaymentsUpstream({ acceptKey: () => KEY });
    const url = gone.url;
    await gone.close();
    expect(await createPayment({ baseUrl: new URL(url), apiKey: KEY, idempotencyKey: 'x', payment, timeoutMs: 5000 })).toEqual({
      kind: 'unreachable',
      reason: 'ECONNREFUSED',
    });
  });

  it('does not follow a redirect: reports it, and the origin it points at is never contacted', async () => {
    const elsewhere = await startPaymentsUpstream({ acceptKey: () => KEY });
    try {
      upstream.misbehave({ kind: 'redirect', status: 308, location: `${elsewhere.url}/v1/payments` });
      expect(await call()).toEqual({ kind: 'redirect', status: 308 });
      expect(elsewhere.countRequests()).toBe(0);
    } finally {
      await elsewhere.close();
    }
  });

  it('can echo the request in an error, key included, as a hostile provider would', async () => {
    upstream.misbehave({ kind: 'echo', status: 400 });
    const outcome = await call();
    expect(outcome).toMatchObject({ kind: 'response', status: 400, body: { error: KEY } });
    expect(JSON.stringify(outcome)).toContain(`Bearer ${KEY}`);
    expect(JSON.stringify(upstream.requests())).not.toContain(KEY);
  });

  it('builds the endpoint under the base path, with or without a trailing slash', () => {
    expect(paymentsEndpoint(new URL('https://pay.example/api')).href).toBe('https://pay.example/api/v1/payments');
    expect(paymentsEndpoint(new URL('https://pay.example/api/')).href).toBe('https://pay.example/api/v1/payments');
    expect(paymentsEndpoint(new URL('https://pay.example')).href).toBe('https://pay.example/v1/payments');
  });
});
