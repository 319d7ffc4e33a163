import { header, rawBody } from '../../../functions/common/http-event';
import { RefreshThrottle } from '../../../functions/common/refresh-throttle';

describe('RefreshThrottle', () => {
  it('allows one refresh per key per interval', () => {
    let now = 1_000;
    const throttle = new RefreshThrottle({ minIntervalMs: 30_000, now: () => now });
    expect(throttle.tryAcquire('stripe')).toBe(true);
    expect(throttle.tryAcquire('stripe')).toBe(false);
    expect(throttle.tryAcquire('github')).toBe(true);
    now += 29_999;
    expect(throttle.tryAcquire('stripe')).toBe(false);
    now += 1;
    expect(throttle.tryAcquire('stripe')).toBe(true);
    expect(throttle.tryAcquire('stripe')).toBe(false);
  });

  it('does not extend the wait when refused', () => {
    let now = 0;
    const throttle = new RefreshThrottle({ minIntervalMs: 10, now: () => now });
    throttle.tryAcquire('k');
    now = 9;
    expect(throttle.tryAcquire('k')).toBe(false);
    now = 10;
    expect(throttle.tryAcquire('k')).toBe(true);
  });
});

describe('http-event', () => {
  it('returns the body bytes exactly, decoding base64', () => {
    const bytes = Buffer.from([0x7b, 0x22, 0xff, 0x00, 0x0a]);
    expect(rawBody({ body: bytes.toString('base64'), isBase64Encoded: true })).toEqual(bytes);
    expect(rawBody({ body: '{"a": 1 }\n', isBase64Encoded: false }).toString('utf8')).toBe('{"a": 1 }\n');
    expect(rawBody({ body: 'héllo' })).toEqual(Buffer.from('héllo', 'utf8'));
    expect(rawBody({})).toHaveLength(0);
    expect(rawBody({ body: null })).toHaveLength(0);
  });

  it('finds headers whatever their case', () => {
    expect(header({ headers: { 'x-signature': 'a' } }, 'X-Signature')).toBe('a');
    expect(header({ headers: { 'X-Signature': 'b' } }, 'x-signature')).toBe('b');
    expect(header({ headers: {} }, 'x-signature')).toBeUndefined();
    expect(header({ headers: null }, 'x-signature')).toBeUndefined();
    expect(header({}, 'x-signature')).toBeUndefined();
  });
});
