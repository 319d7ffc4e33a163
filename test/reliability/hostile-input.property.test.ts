/**
 * Hostile input, in process: every parser and every reader of API Gateway events takes anything
 * fast-check can make without throwing, and never lets request data or a token through where it
 * must not go. (References and webhook signature headers have their own property tests.)
 */
import fc from 'fast-check';
import { principalOf, routeOf } from '../../shared/audit/principal';
import { apiGatewayVersion, header, rawBody } from '../../shared/http/events';
import { PROBLEM_CONTENT_TYPE, problemResponse, secretsUnavailableResponse } from '../../shared/http/problem';
import { ConnectError } from '../../shared/secrets/errors';
import { parseRetryAfter, toConnectError } from '../../shared/secrets/connect/connect-errors';
import { isValidIdempotencyKey, MAX_AMOUNT, parsePaymentRequest } from '../../functions/payments/payment-request';

const RUNS = { numRuns: 500 };
const MARKER = 'opl-marker-TOKEN-9f3c1e77a2';

/** A payload format 2.0 event whose every part may be anything, with the marker in places a principal must never read. */
const hostileV2Event = fc
  .record({
    requestContext: fc.record(
      {
        apiId: fc.string(),
        http: fc.oneof(fc.object(), fc.record({ sourceIp: fc.anything(), userAgent: fc.anything(), path: fc.constant(`/${MARKER}`) })),
        authorizer: fc.anything(),
        routeKey: fc.anything(),
        identity: fc.anything(),
      },
      { requiredKeys: ['apiId', 'http'] },
    ),
    headers: fc.dictionary(fc.string(), fc.string()),
    rawPath: fc.string(),
    body: fc.option(fc.string()),
  })
  .map((event) => ({
    ...event,
    version: '2.0',
    headers: { ...event.headers, authorization: `Bearer ${MARKER}`, cookie: `session=${MARKER}` },
    rawPath: `/${MARKER}${event.rawPath}`,
    body: `${event.body ?? ''}${MARKER}`,
  }));

describe('principal and route extraction', () => {
  test('never throw, whatever the event', () => {
    fc.assert(
      fc.property(fc.anything(), (event) => {
        principalOf(event);
        routeOf(event);
        apiGatewayVersion(event);
      }),
      RUNS,
    );
  });

  test('read only the request context: no header, cookie, path or body reaches the audit trail', () => {
    fc.assert(
      fc.property(hostileV2Event, (event) => {
        const principal = principalOf(event);
        expect(principal).toBeDefined();
        const serialised = JSON.stringify({ principal, route: routeOf(event) });
        expect(serialised).not.toContain(MARKER);
        expect(['jwt', 'iam', 'cognito', 'custom', 'anonymous']).toContain(principal!.type);
        for (const value of Object.values(principal!)) {
          expect(typeof value).toBe('string');
          expect((value as string).length).toBeLessThanOrEqual(256);
        }
      }),
      RUNS,
    );
  });

  test('anything without an API Gateway request context has no principal', () => {
    fc.assert(
      fc.property(fc.anything(), (event) => {
        fc.pre(apiGatewayVersion(event) === undefined);
        expect(principalOf(event)).toBeUndefined();
        expect(routeOf(event)).toBeUndefined();
      }),
      RUNS,
    );
  });
});

describe('problem responses', () => {
  test('any status, title and detail make valid problem+json that says exactly that', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.option(fc.string({ unit: 'binary' }), { nil: undefined }), fc.string({ unit: 'binary' }), (status, title, detail) => {
        const response = problemResponse({ status, detail, ...(title === undefined ? {} : { title }) });
        expect(response.statusCode).toBe(status);
        expect(response.headers['Content-Type']).toBe(PROBLEM_CONTENT_TYPE);
        const body = JSON.parse(response.body) as Record<string, unknown>;
        expect(body).toMatchObject({ type: 'about:blank', status, detail });
        if (title !== undefined) expect(body['title']).toBe(title);
      }),
      RUNS,
    );
  });

  test('Retry-After is always whole seconds (RFC 9110 delta-seconds), whatever number it is given', () => {
    fc.assert(
      fc.property(fc.double(), (seconds) => {
        const response = secretsUnavailableResponse(seconds);
        expect(response.headers['Retry-After']).toMatch(/^[1-9]\d*$/);
        expect(Number(response.headers['Retry-After'])).toBeLessThanOrEqual(86_400);
        expect(JSON.parse(response.body)).toMatchObject({ status: 503 });
      }),
      RUNS,
    );
  });
});

describe('reading HTTP events in the functions', () => {
  const headers = fc.dictionary(fc.string(), fc.option(fc.string(), { nil: undefined }));

  test('header() finds a header whatever its case and never throws', () => {
    fc.assert(
      fc.property(headers, fc.string(), (all, name) => {
        const value = header({ headers: all }, name);
        if (value !== undefined) expect(Object.entries(all).some(([key, candidate]) => key.toLowerCase() === name.toLowerCase() && candidate === value)).toBe(true);
      }),
      RUNS,
    );
  });

  test('rawBody() takes any body and flag: base64 round-trips, bad base64 is not an exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.string(), fc.boolean(), (bytes, text, flag) => {
        expect(rawBody({ body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true })).toEqual(Buffer.from(bytes));
        expect(Buffer.isBuffer(rawBody({ body: text, isBase64Encoded: flag }))).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('payment requests', () => {
  const bodies = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.jsonValue().map((value) => JSON.stringify(value)),
    fc.record({ amount: fc.anything(), currency: fc.anything(), description: fc.anything(), metadata: fc.anything() }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
    fc.record({ amount: fc.integer(), currency: fc.string({ minLength: 3, maxLength: 3 }) }).map((value) => JSON.stringify(value)),
  );

  test('any body parses to a valid payment or to reasons, never to an exception', () => {
    fc.assert(
      fc.property(bodies, (body) => {
        const parsed = parsePaymentRequest(body);
        if (parsed.ok) {
          expect(Number.isInteger(parsed.payment.amount)).toBe(true);
          expect(parsed.payment.amount).toBeGreaterThan(0);
          expect(parsed.payment.amount).toBeLessThanOrEqual(MAX_AMOUNT);
          expect(parsed.payment.currency).toMatch(/^[A-Z]{3}$/);
        } else {
          expect(typeof parsed.detail).toBe('string');
          for (const param of parsed.invalidParams) expect(typeof param.reason).toBe('string');
        }
      }),
      RUNS,
    );
  });

  test('Idempotency-Key validation accepts exactly 1 to 255 visible ASCII characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (key) => {
        expect(isValidIdempotencyKey(key)).toBe(key.length >= 1 && key.length <= 255 && [...key].every((char) => char >= '!' && char <= '~'));
      }),
      RUNS,
    );
  });
});

describe('Connect failures', () => {
  test('Retry-After parsing never throws and stays within an hour', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.nat().map(String), fc.date({ noInvalidDate: true }).map((date) => date.toUTCString())), (value) => {
        const ms = parseRetryAfter(value);
        if (ms !== undefined) {
          expect(ms).toBeGreaterThanOrEqual(0);
          expect(ms).toBeLessThanOrEqual(3_600_000);
        }
      }),
      RUNS,
    );
  });

  /** Rejection shapes with the marker where a token travels: request config, headers, response data. */
  const rejection = fc.oneof(
    fc.anything(),
    fc.record({ status: fc.integer(), message: fc.string() }),
    fc.record({
      isAxiosError: fc.constant(true),
      code: fc.option(fc.constantFrom('ECONNRESET', 'ETIMEDOUT', 'ERR_BAD_RESPONSE'), { nil: undefined }),
      message: fc.string(),
      config: fc.constant({ headers: { Authorization: `Bearer ${MARKER}` } }),
      response: fc.option(fc.record({ status: fc.integer({ min: 100, max: 599 }), data: fc.constant({ token: MARKER }), headers: fc.dictionary(fc.string(), fc.string()) }), { nil: undefined }),
    }),
    fc.string().map((message) => Object.assign(new TypeError(message), { request: { headers: { authorization: MARKER } } })),
  );

  test('any rejection becomes one ConnectError without the token that travelled with it', () => {
    fc.assert(
      fc.property(rejection, (error) => {
        const normalised = toConnectError(error, 'op://vault/item/field');
        expect(normalised).toBeInstanceOf(ConnectError);
        expect(normalised.reference).toBe('op://vault/item/field');
        const cause = normalised.cause instanceof Error ? normalised.cause.message : '';
        expect(`${normalised.message} ${normalised.detail} ${cause} ${JSON.stringify(normalised)}`).not.toContain(MARKER);
      }),
      RUNS,
    );
  });
});
