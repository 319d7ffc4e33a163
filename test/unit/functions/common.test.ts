import { header, rawBody } from '../../../functions/common/http-event';
import { jsonResponse, problem } from '../../../functions/common/responses';
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

describe('responses', () => {
  it('builds JSON answers that are never cached', () => {
    expect(jsonResponse(202, { received: true }, { 'Idempotency-Key': 'k' })).toEqual({
      statusCode: 202,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Idempotency-Key': 'k' },
      body: '{"received":true}',
    });
  });

  it('builds problems with extension members after the standard ones, which they cannot replace', () => {
    const answer = problem(400, 'Bad things.', { title: 'Invalid payment', extensions: { 'invalid-params': [{ name: 'amount' }], status: 200, detail: 'x' } });
    expect(answer.statusCode).toBe(400);
    expect(answer.headers['Content-Type']).toBe('application/problem+json');
    expect(answer.body).toBe('{"type":"about:blank","title":"Invalid payment","status":400,"detail":"Bad things.","invalid-params":[{"name":"amount"}]}');
  });

  it('leaves a problem without extensions as shared/http builds it', () => {
    expect(JSON.parse(problem(404, 'Nothing here.').body)).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'Nothing here.' });
    expect(JSON.parse(problem(404, 'Nothing here.', { extensions: {} }).body)).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'Nothing here.' });
  });
});
