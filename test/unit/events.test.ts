import { apiGatewayVersion, header, isApiGatewayEvent, rawBody } from '../../shared/http/events';
import { httpApiEvent, restApiEvent } from './middleware-fakes';

describe('apiGatewayVersion', () => {
  it('tells REST (v1) from HTTP API (v2) events and rejects everything else', () => {
    expect(apiGatewayVersion(httpApiEvent())).toBe('v2');
    expect(apiGatewayVersion(restApiEvent())).toBe('v1');
    expect(isApiGatewayEvent({ Records: [] })).toBe(false);
    expect(isApiGatewayEvent({ httpMethod: 'GET', requestContext: { elb: {} } })).toBe(false);
    expect(isApiGatewayEvent('GET /')).toBe(false);
  });
});

describe('rawBody', () => {
  it('returns the body bytes exactly, decoding base64', () => {
    const bytes = Buffer.from([0x7b, 0x22, 0xff, 0x00, 0x0a]);
    expect(rawBody({ body: bytes.toString('base64'), isBase64Encoded: true })).toEqual(bytes);
    expect(rawBody({ body: '{"a": 1 }\n', isBase64Encoded: false }).toString('utf8')).toBe('{"a": 1 }\n');
    expect(rawBody({ body: 'héllo' })).toEqual(Buffer.from('héllo', 'utf8'));
    expect(rawBody({})).toHaveLength(0);
    expect(rawBody({ body: null })).toHaveLength(0);
  });
});

describe('header', () => {
  it('finds headers whatever their case', () => {
    expect(header({ headers: { 'x-signature': 'a' } }, 'X-Signature')).toBe('a');
    expect(header({ headers: { 'X-Signature': 'b' } }, 'x-signature')).toBe('b');
    expect(header({ headers: {} }, 'x-signature')).toBeUndefined();
    expect(header({ headers: null }, 'x-signature')).toBeUndefined();
    expect(header({}, 'x-signature')).toBeUndefined();
  });

  it("never finds Object.prototype's properties", () => {
    expect(header({ headers: {} }, 'constructor')).toBeUndefined();
    expect(header({ headers: { Constructor: 'c' } }, 'constructor')).toBe('c');
  });
});
