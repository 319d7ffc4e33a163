import { apiGatewayVersion, header, isApiGatewayEvent, isReadableHttpEvent, rawBody } from '../../../shared/http/events';
import { httpApiEvent, restApiEvent } from '../../helpers/middleware-fakes';

describe('apiGatewayVersion', () => {
  it('tells REST (v1) from HTTP API (v2) events and rejects everything else', () => {
    expect(apiGatewayVersion(httpApiEvent())).toBe('v2');
    expect(apiGatewayVersion(restApiEvent())).toBe('v1');
    expect(isApiGatewayEvent({ Records: [] })).toBe(false);
    expect(isApiGatewayEvent({ httpMethod: 'GET', requestContext: { elb: {} } })).toBe(false);
    expect(isApiGatewayEvent('GET /')).toBe(false);
  });
});

describe('isReadableHttpEvent', () => {
  it('accepts what API Gateway sends, and absent bodies and headers', () => {
    expect(isReadableHttpEvent(httpApiEvent())).toBe(true);
    expect(isReadableHttpEvent(restApiEvent())).toBe(true);
    for (const event of [{}, { body: null, headers: null }, { body: '', headers: { a: 'b', c: undefined } }]) expect(isReadableHttpEvent(event)).toBe(true);
  });

  it('refuses what would make the readers throw or read a value that is not a string', () => {
    for (const event of [null, undefined, 'GET /', 42, [], { body: 42 }, { body: {} }, { body: [1] }, { headers: 'x' }, { headers: ['x'] }, { headers: { 'x-signature': 7 } }]) {
      expect(isReadableHttpEvent(event)).toBe(false);
    }
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
