/**
 * Generators for the fuzz pass: payload format 2.0 events as API Gateway could send them but with
 * hostile content (well-typed), events broken in type or shape (ill-typed), anything at all, and
 * raw HTTP requests for the gateway.
 */
import fc from 'fast-check';
import { signPayload } from '../../../functions/webhooks/signature';
import type { RawRequest } from '../../../local/load/client';

export type FuzzedFunction = 'Health' | 'Webhooks' | 'Payments';

const ROUTES: Readonly<Record<FuzzedFunction, { method: string; routeKey: string; path: string }>> = {
  Health: { method: 'GET', routeKey: 'GET /health', path: '/health' },
  Webhooks: { method: 'POST', routeKey: 'POST /webhooks/{source}', path: '/webhooks/stripe' },
  Payments: { method: 'POST', routeKey: 'POST /payments', path: '/payments' },
};

type Json = Record<string, unknown>;

const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }));
const huge = fc.integer({ min: 20_000, max: 200_000 }).map((size) => 'A'.repeat(size));
const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/);

/** A body in every form API Gateway could hand over, plus invalid base64 flagged as base64. */
const body = fc.oneof(
  fc.constant<{ body?: string; isBase64Encoded: boolean }>({ isBase64Encoded: false }),
  text.map((value) => ({ body: value, isBase64Encoded: false })),
  fc.uint8Array({ maxLength: 4096 }).map((bytes) => ({ body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true })),
  text.map((value) => ({ body: `${value}!!*not base64*`, isBase64Encoded: true })),
  huge.map((value) => ({ body: value, isBase64Encoded: false })),
  fc.jsonValue().map((value) => ({ body: JSON.stringify(value), isBase64Encoded: false })),
  fc
    .record({ amount: fc.oneof(fc.integer(), fc.double(), fc.string()), currency: fc.oneof(fc.constantFrom('EUR', 'usd', 'XXX'), text), description: fc.option(text, { nil: undefined }) })
    .map((value) => ({ body: JSON.stringify(value), isBase64Encoded: false })),
  // Valid payments with hostile descriptions and metadata: these reach the provider.
  fc
    .record({ amount: fc.integer({ min: 1, max: 99_999_999 }), currency: fc.constantFrom('EUR', 'usd'), description: fc.option(fc.string({ maxLength: 500 }), { nil: undefined }), metadata: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ maxLength: 500 }), { maxKeys: 20 }), { nil: undefined }) })
    .map((value) => ({ body: JSON.stringify(value), isBase64Encoded: false })),
);

const headers = fc.record({
  extra: fc.dictionary(headerName, fc.oneof(text, huge), { maxKeys: 8 }),
  signature: fc.option(fc.oneof(text, huge, fc.constant('t=1,v1=' + '0'.repeat(64))), { nil: undefined }),
  idempotencyKey: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 2 },
    { arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,255}$/), weight: 1 },
    { arbitrary: fc.oneof(text, huge), weight: 1 },
  ),
  contentType: fc.option(fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', ''), { nil: undefined }),
  authorization: fc.option(fc.string().map((value) => `Bearer ${value}`), { nil: undefined }),
});

/** A delivery correctly signed with `secret`, over a random body: it must be accepted. */
export function signedDelivery(secret: string): fc.Arbitrary<Json> {
  return fc.uint8Array({ maxLength: 2048 }).map((bytes) => {
    const raw = Buffer.from(bytes);
    const base = baseEvent('Webhooks');
    return {
      ...base,
      headers: { ...(base['headers'] as Json), 'x-signature': signPayload([secret], Math.floor(Date.now() / 1000), raw) },
      body: raw.toString('base64'),
      isBase64Encoded: true,
    };
  });
}

/** Events API Gateway could send, with hostile content in every field it lets a client fill. */
export function wellTypedEvent(fn: FuzzedFunction): fc.Arbitrary<Json> {
  return fc
    .record({
      body,
      headers,
      rawPath: fc.oneof(fc.constant(ROUTES[fn].path), text.map((value) => `/${value}`)),
      rawQueryString: fc.oneof(fc.constant(''), text),
      cookies: fc.option(fc.array(text, { maxLength: 4 }), { nil: undefined }),
      queryStringParameters: fc.option(fc.dictionary(text, text, { maxKeys: 4 }), { nil: undefined }),
      source: fc.oneof(
        { arbitrary: fc.constantFrom('stripe', 'github'), weight: 4 },
        { arbitrary: fc.constantFrom('STRIPE', '__proto__', 'constructor', 'toString', 'stripe/../github', ''), weight: 1 },
        { arbitrary: text, weight: 1 },
      ),
      claims: fc.option(fc.dictionary(fc.constantFrom('sub', 'client_id', 'scope', 'email'), fc.oneof(text, huge)), { nil: undefined }),
    })
    .map(({ body: content, headers: parts, rawPath, rawQueryString, cookies, queryStringParameters, source, claims }) => {
      const base = baseEvent(fn);
      const context = base['requestContext'] as Json;
      return {
        ...base,
        rawPath,
        rawQueryString,
        headers: {
          ...(base['headers'] as Json),
          ...parts.extra,
          ...(parts.signature === undefined ? {} : { 'x-signature': parts.signature }),
          ...(parts.idempotencyKey === undefined ? {} : { 'idempotency-key': parts.idempotencyKey }),
          ...(parts.contentType === undefined ? {} : { 'content-type': parts.contentType }),
          ...(parts.authorization === undefined ? {} : { authorization: parts.authorization }),
        },
        ...(cookies ? { cookies } : {}),
        ...(queryStringParameters ? { queryStringParameters } : {}),
        ...(fn === 'Webhooks' ? { pathParameters: { source } } : {}),
        requestContext: { ...context, ...(claims ? { authorizer: { jwt: { claims, scopes: null } } } : {}) },
        ...content,
      };
    });
}

/** Well-typed events with one part replaced by anything, or removed: shapes no API Gateway sends. */
export function illTypedEvent(fn: FuzzedFunction): fc.Arbitrary<unknown> {
  const parts = ['requestContext', 'headers', 'body', 'isBase64Encoded', 'rawPath', 'pathParameters', 'version', 'cookies', 'requestContext.http', 'requestContext.authorizer', 'requestContext.apiId'];
  return fc.tuple(wellTypedEvent(fn), fc.constantFrom(...parts), fc.option(fc.anything(), { nil: undefined })).map(([event, part, replacement]) => {
    const copy = structuredClone(event);
    const [head, tail] = part.split('.') as [string, string | undefined];
    const holder = (tail === undefined ? copy : copy[head]) as Json;
    const key = tail ?? head;
    if (replacement === undefined) Reflect.deleteProperty(holder, key);
    else holder[key] = replacement;
    return copy;
  });
}

/** Anything JSON can carry, as an event. */
export const anyEvent: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue(), fc.constant(null), fc.constant({}), fc.constant([]), fc.string());

function baseEvent(fn: FuzzedFunction): Json {
  const route = ROUTES[fn];
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: route.path,
    rawQueryString: '',
    headers: { host: '127.0.0.1', 'user-agent': 'fuzz', 'content-type': 'application/json' },
    requestContext: {
      accountId: '000000000000',
      apiId: 'fuzz000000',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: { method: route.method, path: route.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'fuzz' },
      requestId: `fuzz-${now}`,
      routeKey: route.routeKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(fn === 'Webhooks' ? { pathParameters: { source: 'stripe' } } : {}),
    isBase64Encoded: false,
  };
}

/** Raw HTTP requests: every method, known and unknown routes, odd paths, headers and bodies. */
export const httpRequest: fc.Arbitrary<RawRequest> = fc
  .record({
    method: fc.oneof({ arbitrary: fc.constantFrom('GET', 'POST'), weight: 4 }, { arbitrary: fc.constantFrom('PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'FUZZ'), weight: 1 }),
    path: fc.oneof(
      { arbitrary: fc.constantFrom('/health', '/payments', '/webhooks/stripe', '/webhooks/github'), weight: 4 },
      { arbitrary: fc.constantFrom('/webhooks/', '/webhooks/stripe/extra', '//health', '/health?x=1', '/%2e%2e/health', '/webhooks/%00', '/webhooks/%2e%2e', '/'), weight: 1 },
      { arbitrary: fc.stringMatching(/^\/[A-Za-z0-9._~%!$&'()*+,;=:@/-]{0,200}$/), weight: 1 },
      { arbitrary: fc.integer({ min: 1000, max: 4000 }).map((size) => `/webhooks/${'x'.repeat(size)}`), weight: 1 },
    ),
    headers: fc.dictionary(headerName.filter((name) => name !== 'content-length' && name !== 'transfer-encoding'), fc.stringMatching(/^[\x20-\x7e]{0,200}$/), { maxKeys: 6 }),
    // Well under or well over Node's 16 KB header limit, never near it.
    bigHeader: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 6 },
      { arbitrary: fc.oneof(fc.integer({ min: 1000, max: 6000 }), fc.integer({ min: 17_000, max: 30_000 })), weight: 1 },
    ),
    contentType: fc.constantFrom(undefined, 'application/json', 'text/plain', 'application/octet-stream'),
    body: fc.oneof(
      fc.constant(undefined),
      fc.uint8Array({ maxLength: 8192 }).map((bytes) => Buffer.from(bytes)),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc.constantFrom('{"amount":', '{"amount":100,"currency":"EUR"}', '{"amount":1e400,"currency":"EUR"}', 'null', '[]'),
      fc.integer({ min: 100_000, max: 1_000_000 }).map((size) => Buffer.alloc(size, 0x7b)),
    ),
  })
  .map(({ method, path, headers: extra, bigHeader, contentType, body: content }) => {
    const sent = content === undefined || method === 'GET' || method === 'HEAD' ? undefined : content;
    return {
      method,
      path,
      headers: {
        ...extra,
        ...(bigHeader === undefined ? {} : { 'x-big': 'b'.repeat(bigHeader) }),
        ...(contentType === undefined ? {} : { 'content-type': contentType }),
        // Framed explicitly: Node's client sends a body of DELETE or OPTIONS without framing otherwise.
        ...(sent === undefined ? {} : { 'content-length': String(Buffer.byteLength(sent)) }),
      },
      ...(sent === undefined ? {} : { body: sent }),
    };
  });
