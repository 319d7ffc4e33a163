/**
 * `POST /payments`: validates a payment and forwards it to the payments provider
 * (`${PAYMENTS_API_URL}/v1/payments`) with `Authorization: Bearer <PAYMENTS_API_KEY>` from 1Password.
 *
 * - The provider's payment (a 2xx and its JSON) is returned as is, with the Idempotency-Key used
 *   (the client's, or one generated here) so the client can retry safely. A provider error is
 *   never relayed: the answer is this function's own problem, carrying the provider's status and
 *   error code (when it has the strict shape of provider-error.ts), nothing else of its body.
 * - Redirects are not followed: a 3xx is a 502, and the origin it points at is never contacted.
 * - A 401 from the provider means the key may have been rotated since this container cached it:
 *   the key is read again from 1Password (at most once per REFRESH_INTERVAL_MS) and the payment
 *   retried once, under the same Idempotency-Key. When that read fails, the answer is 503 with
 *   Retry-After (no payment was made); a transient failure holds the refresh only for that wait,
 *   so a rotation met by an outage is picked up as soon as 1Password is back.
 * - Upstream calls end before the Lambda timeout, with RESERVE_MS left to answer.
 *
 * Answers of its own, all problem+json: 400 invalid body or Idempotency-Key, or an event that is
 * not a readable HTTP request; 400, 402, 409 or 422 when the provider refuses the payment for a
 * reason the client can act on; 502 provider unreachable, failing (5xx), redirecting (3xx), not
 * speaking JSON, refusing this service's key, or any other 4xx; 504 provider too slow; 503 key
 * unavailable (Retry-After); 500 provider URL misconfigured. The key is never logged or returned.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import {
  functionLogger,
  header,
  type HttpResponse,
  isReadableHttpEvent,
  jsonResponse,
  opSecrets,
  problemResponse,
  rawBody,
  RefreshThrottle,
  type SecretsContext,
  SecretsUnavailableError,
  secretsUnavailableResponse,
} from 'op-lambda';
import { forwardPayment, type ForwardResult } from './forward-payment';
import { isValidIdempotencyKey, parsePaymentRequest } from './payment-request';
import { providerErrorCode } from './provider-error';
import { providerUrl } from './provider-url';

/** Minimum time between two forced reads of the key. */
export const REFRESH_INTERVAL_MS = 30_000;
/** Time kept, before the Lambda timeout, to answer after the last upstream call. */
export const RESERVE_MS = 500;
const KEY_NAME = 'PAYMENTS_API_KEY';
/** Provider refusals about the payment itself, which the client can act on; any other 4xx is ours to fix (502). */
const CLIENT_ERRORS: ReadonlySet<number> = new Set([400, 402, 409, 422]);

/** Declared by name; each stage's reference comes from the environment variable PAYMENTS_API_KEY. */
const declarations = { [KEY_NAME]: { required: true } } as const;
export const secrets = opSecrets({ secrets: declarations });

const logger = functionLogger('payments');
const throttle = new RefreshThrottle({ minIntervalMs: REFRESH_INTERVAL_MS });
const provider = providerUrl(process.env);
if (!provider.ok) logger.error('payments provider misconfigured', { reason: provider.reason });

/** The key read again, or undefined when throttled; rejects with SecretsUnavailableError when it cannot be read. */
function refreshedKey(): Promise<string | undefined> {
  return throttle.refresh(KEY_NAME, () => secrets.refresh(KEY_NAME));
}

/** The key could not be read again after a 401: nothing was charged, the client may retry later. */
function keyUnavailable(error: SecretsUnavailableError, idempotencyKey: string): HttpResponse {
  logger.warn('payments key refresh failed', { retryAfterSeconds: error.retryAfterSeconds, idempotencyKey });
  const response = secretsUnavailableResponse(error.retryAfterSeconds);
  return { ...response, headers: { ...response.headers, 'Idempotency-Key': idempotencyKey } };
}

/** The provider's error, as this function's own problem: its status and code, never its body. */
function providerError(status: number, body: unknown, headers: Record<string, string>): HttpResponse {
  const upstreamCode = providerErrorCode(body);
  const extensions = { upstreamStatus: status, ...(upstreamCode === undefined ? {} : { upstreamCode }) };
  if (status === 401) return problemResponse({ status: 502, detail: "The payments provider refused this service's credentials.", extensions }, headers);
  if (CLIENT_ERRORS.has(status)) {
    return problemResponse({ status, title: 'Payment refused', detail: 'The payments provider refused the payment.', extensions }, headers);
  }
  return problemResponse({ status: 502, detail: 'The payments provider failed to handle the payment.', extensions }, headers);
}

function answer({ outcome }: ForwardResult, idempotencyKey: string): HttpResponse {
  const headers = { 'Idempotency-Key': idempotencyKey };
  switch (outcome.kind) {
    case 'timeout':
      return problemResponse({ status: 504, detail: 'The payments provider did not answer in time. Retry with the same Idempotency-Key.' }, headers);
    case 'unreachable':
      return problemResponse({ status: 502, detail: 'The payments provider could not be reached. Retry with the same Idempotency-Key.' }, headers);
    case 'redirect':
      return problemResponse(
        { status: 502, detail: 'The payments provider answered with a redirect, which is not followed.', extensions: { upstreamStatus: outcome.status } },
        headers,
      );
    case 'invalid-response':
      if (outcome.status >= 400) return providerError(outcome.status, undefined, headers);
      return problemResponse(
        { status: 502, detail: 'The payments provider sent an answer that is not JSON.', extensions: { upstreamStatus: outcome.status } },
        headers,
      );
    case 'response':
      if (outcome.status >= 200 && outcome.status < 300) return jsonResponse(outcome.status, outcome.body, headers);
      return providerError(outcome.status, outcome.body, headers);
  }
}

async function pay(event: APIGatewayProxyEventV2, context: SecretsContext<typeof declarations>): Promise<HttpResponse> {
  if (!isReadableHttpEvent(event as unknown)) return problemResponse({ status: 400, detail: 'The event is not an HTTP request this function can read.' });
  if (!provider.ok) return problemResponse({ status: 500, detail: 'The payments provider is not configured.' });
  const parsed = parsePaymentRequest(rawBody(event).toString('utf8'));
  if (!parsed.ok) {
    const extensions = parsed.invalidParams.length > 0 ? { 'invalid-params': parsed.invalidParams } : undefined;
    return problemResponse({ status: 400, title: 'Invalid payment', detail: parsed.detail, extensions });
  }
  const idempotencyKey = header(event, 'idempotency-key') ?? randomUUID();
  if (!isValidIdempotencyKey(idempotencyKey)) {
    return problemResponse({ status: 400, detail: 'The Idempotency-Key header must be 1 to 255 visible ASCII characters.' });
  }
  let result: ForwardResult;
  try {
    result = await forwardPayment({
      baseUrl: provider.url,
      payment: parsed.payment,
      idempotencyKey,
      apiKey: context.secrets[KEY_NAME],
      refreshedKey,
      deadlineAt: Date.now() + context.getRemainingTimeInMillis() - RESERVE_MS,
    });
  } catch (error) {
    if (error instanceof SecretsUnavailableError) return keyUnavailable(error, idempotencyKey);
    throw error;
  }
  const response = answer(result, idempotencyKey);
  const upstreamStatus = 'status' in result.outcome ? result.outcome.status : undefined;
  logger.info('payment forwarded', {
    outcome: result.outcome.kind,
    upstreamStatus,
    status: response.statusCode,
    attempts: result.attempts,
    refreshed: result.refreshed,
    idempotencyKey,
  });
  return response;
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>()
  .use(secrets)
  .handler((event, context) => pay(event, context));
