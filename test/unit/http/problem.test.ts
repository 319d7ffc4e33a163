import { PROBLEM_CONTENT_TYPE, problemResponse, secretsUnavailableResponse } from '../../../shared/http/problem';

describe('problemResponse', () => {
  it('builds an RFC 9457 body with the status phrase as default title', () => {
    const response = problemResponse({ status: 401, detail: 'The signature does not match.' }, { 'WWW-Authenticate': 'Bearer' });
    expect(response.statusCode).toBe(401);
    expect(response.headers).toEqual({ 'Content-Type': PROBLEM_CONTENT_TYPE, 'Cache-Control': 'no-store', 'WWW-Authenticate': 'Bearer' });
    expect(JSON.parse(response.body)).toEqual({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'The signature does not match.' });
  });

  it('keeps a given type and title and omits an absent detail', () => {
    const body = JSON.parse(problemResponse({ status: 400, type: 'urn:problem:invalid-amount', title: 'Invalid amount' }).body);
    expect(body).toEqual({ type: 'urn:problem:invalid-amount', title: 'Invalid amount', status: 400 });
  });

  it('writes extension members after the standard ones, which they cannot replace', () => {
    const extensions = { 'invalid-params': [{ name: 'amount' }], status: 200, detail: 'x', type: 'y', title: 'z', instance: '/i' };
    const answer = problemResponse({ status: 400, title: 'Invalid payment', detail: 'Bad things.', extensions });
    expect(answer.statusCode).toBe(400);
    expect(answer.headers['Content-Type']).toBe(PROBLEM_CONTENT_TYPE);
    expect(answer.body).toBe('{"type":"about:blank","title":"Invalid payment","status":400,"detail":"Bad things.","invalid-params":[{"name":"amount"}]}');
  });

  it('keeps an extension named __proto__ as a plain member, never as a prototype', () => {
    const extensions = JSON.parse('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    const body = JSON.parse(problemResponse({ status: 400, extensions }).body) as Record<string, unknown>;
    expect(Object.hasOwn(body, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('leaves a problem without extensions as it was', () => {
    const plain = { type: 'about:blank', title: 'Not Found', status: 404, detail: 'Nothing here.' };
    expect(JSON.parse(problemResponse({ status: 404, detail: 'Nothing here.' }).body)).toEqual(plain);
    expect(JSON.parse(problemResponse({ status: 404, detail: 'Nothing here.', extensions: {} }).body)).toEqual(plain);
  });
});

describe('secretsUnavailableResponse', () => {
  it('answers 503 with Retry-After in whole seconds, at least 1', () => {
    expect(secretsUnavailableResponse(2.2).headers['Retry-After']).toBe('3');
    expect(secretsUnavailableResponse(0).headers['Retry-After']).toBe('1');
    const response = secretsUnavailableResponse(30);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: expect.stringContaining('30 seconds') });
  });
});
