import { signPayload } from '../../../../functions/webhooks/signature';
import { verifyDelivery, type DeliveryCheck, type SigningSecrets } from '../../../../functions/webhooks/verify-delivery';

const NOW = 1_700_000_000;
const body = Buffer.from('{"id":"evt_1","type":"payment.succeeded"}');

function check(overrides: Partial<DeliveryCheck> & { refreshCalls?: SigningSecrets[] } = {}): DeliveryCheck & { refreshes: () => number } {
  let refreshes = 0;
  const fresh = overrides.refreshCalls ?? [];
  return {
    signatureHeader: signPayload(['whsec_current'], NOW, body),
    rawBody: body,
    nowSeconds: NOW,
    secrets: { current: 'whsec_current', previous: 'whsec_previous' },
    refreshed: async () => fresh[refreshes++],
    ...overrides,
    refreshes: () => refreshes,
  };
}

describe('verifyDelivery', () => {
  it('accepts the current and the previous secret without refreshing', async () => {
    for (const secret of ['whsec_current', 'whsec_previous']) {
      const c = check({ signatureHeader: signPayload([secret], NOW, body) });
      expect(await verifyDelivery(c)).toEqual({ kind: 'accepted', usedRefresh: false, signedAt: NOW });
      expect(c.refreshes()).toBe(0);
    }
  });

  it('works without a previous secret', async () => {
    const c = check({ secrets: { current: 'whsec_current' } });
    expect(await verifyDelivery(c)).toEqual({ kind: 'accepted', usedRefresh: false, signedAt: NOW });
  });

  it('never treats an empty previous secret as a key', async () => {
    const c = check({ secrets: { current: 'whsec_current', previous: '' }, signatureHeader: signPayload([''], NOW, body) });
    expect(await verifyDelivery(c)).toEqual({ kind: 'mismatch', usedRefresh: false });
  });

  it('accepts a delivery signed with a secret rotated in since the cache was filled, after one refresh', async () => {
    const c = check({ signatureHeader: signPayload(['whsec_new'], NOW, body), refreshCalls: [{ current: 'whsec_new', previous: 'whsec_current' }] });
    expect(await verifyDelivery(c)).toEqual({ kind: 'accepted', usedRefresh: true, signedAt: NOW });
    expect(c.refreshes()).toBe(1);
  });

  it('rejects a wrong signature after at most one refresh', async () => {
    const c = check({ signatureHeader: signPayload(['whsec_attacker'], NOW, body), refreshCalls: [{ current: 'whsec_current' }] });
    expect(await verifyDelivery(c)).toEqual({ kind: 'mismatch', usedRefresh: true });
    expect(c.refreshes()).toBe(1);
  });

  it('rejects without refreshing when a refresh is not allowed', async () => {
    const c = check({ signatureHeader: signPayload(['whsec_attacker'], NOW, body) });
    expect(await verifyDelivery(c)).toEqual({ kind: 'mismatch', usedRefresh: false });
  });

  it('rejects a tampered body', async () => {
    const c = check({ rawBody: Buffer.from('{"id":"evt_1","type":"payment.refunded"}') });
    expect((await verifyDelivery(c)).kind).toBe('mismatch');
  });

  it('rejects stale and future timestamps before touching any secret', async () => {
    for (const t of [NOW - 301, NOW + 31]) {
      const c = check({ signatureHeader: signPayload(['whsec_current'], t, body) });
      expect(await verifyDelivery(c)).toEqual({ kind: 'stale' });
      expect(c.refreshes()).toBe(0);
    }
    for (const t of [NOW - 300, NOW + 30]) {
      const edge = check({ signatureHeader: signPayload(['whsec_current'], t, body) });
      expect((await verifyDelivery(edge)).kind).toBe('accepted');
    }
  });

  it('reports malformed and missing headers', async () => {
    expect(await verifyDelivery(check({ signatureHeader: undefined }))).toEqual({ kind: 'malformed', reason: 'missing signature header' });
    expect(await verifyDelivery(check({ signatureHeader: 'sha256=abc' }))).toEqual({ kind: 'malformed', reason: 'no timestamp' });
  });
});
