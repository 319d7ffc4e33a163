import { apiGatewayVersion, isApiGatewayEvent } from '../../shared/http/events';
import { PROBLEM_CONTENT_TYPE, problemResponse, secretsUnavailableResponse } from '../../shared/http/problem';
import { httpApiEvent, restApiEvent } from './middleware-fakes';

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

describe('apiGatewayVersion', () => {
  it('tells REST (v1) from HTTP API (v2) events and rejects everything else', () => {
    expect(apiGatewayVersion(httpApiEvent())).toBe('v2');
    expect(apiGatewayVersion(restApiEvent())).toBe('v1');
    expect(isApiGatewayEvent({ Records: [] })).toBe(false);
    expect(isApiGatewayEvent({ httpMethod: 'GET', requestContext: { elb: {} } })).toBe(false);
    expect(isApiGatewayEvent('GET /')).toBe(false);
  });
});
