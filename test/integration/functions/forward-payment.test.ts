import { forwardPayment, type ForwardPayment } from '../../../functions/payments/forward-payment';
import { startPaymentsUpstream, type PaymentsUpstream } from '../../../local/payments/server';

let vaultKey = 'sk_live_old';
let upstream: PaymentsUpstream;

beforeAll(async () => {
  upstream = await startPaymentsUpstream({ acceptKey: () => vaultKey });
});
afterAll(() => upstream.close());
beforeEach(() => {
  vaultKey = 'sk_live_old';
  upstream.resetRequests();
  upstream.setDelay(0);
});

function request(overrides: Partial<ForwardPayment> = {}): ForwardPayment {
  return {
    baseUrl: new URL(upstream.url),
    payment: { amount: 1999, currency: 'EUR' },
    idempotencyKey: `idem-${Math.random()}`,
    apiKey: 'sk_live_old',
    refreshedKey: async () => vaultKey,
    deadlineAt: Date.now() + 5000,
    ...overrides,
  };
}

describe('forwardPayment', () => {
  it('makes one call when the key is accepted', async () => {
    const result = await forwardPayment(request());
    expect(result).toMatchObject({ attempts: 1, refreshed: false, outcome: { kind: 'response', status: 201 } });
    expect(upstream.countRequests()).toBe(1);
  });

  it('after a 401, retries once with the refreshed key and the same Idempotency-Key', async () => {
    vaultKey = 'sk_live_new';
    const result = await forwardPayment(request({ idempotencyKey: 'order-7' }));
    expect(result).toMatchObject({ attempts: 2, refreshed: true, outcome: { kind: 'response', status: 201 } });
    expect(upstream.requests().map((r) => [r.status, r.idempotencyKey])).toEqual([
      [401, 'order-7'],
      [201, 'order-7'],
    ]);
  });

  it('does not call again when the refreshed key is the one that failed', async () => {
    let refreshes = 0;
    const result = await forwardPayment(
      request({
        apiKey: 'sk_revoked',
        refreshedKey: async () => {
          refreshes += 1;
          return 'sk_revoked';
        },
      }),
    );
    expect(result).toMatchObject({ attempts: 1, refreshed: true, outcome: { kind: 'response', status: 401 } });
    expect(refreshes).toBe(1);
    expect(upstream.countRequests()).toBe(1);
  });

  it('does not retry when a refresh is not allowed', async () => {
    vaultKey = 'sk_live_new';
    const result = await forwardPayment(request({ refreshedKey: async () => undefined }));
    expect(result).toMatchObject({ attempts: 1, refreshed: false, outcome: { kind: 'response', status: 401 } });
  });

  it('never starts a call once the deadline is (nearly) spent', async () => {
    const result = await forwardPayment(request({ deadlineAt: Date.now() + 10 }));
    expect(result.outcome).toEqual({ kind: 'timeout' });
    expect(upstream.countRequests()).toBe(0);
  });

  it('gives up at the deadline when the provider is slow', async () => {
    upstream.setDelay(3000);
    const started = Date.now();
    const result = await forwardPayment(request({ deadlineAt: Date.now() + 300 }));
    expect(result.outcome).toEqual({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2500);
  });
});
