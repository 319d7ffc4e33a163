/**
 * `POST /webhooks/{source}`: accepts a webhook delivery only when its `X-Signature` (Stripe's
 * scheme, see signature.ts) was made with the source's signing secret from 1Password.
 *
 * - Each source has `current` and `previous` secrets; both verify, so a rotation never drops a
 *   delivery signed just before or just after it.
 * - Every minute (OP_REVALIDATE_MS, set by the construct) the first delivery asks 1Password whether
 *   the secrets changed, so a revoked secret stops verifying within that interval.
 * - A delivery that matches neither may be signed with a secret rotated in since: the middleware's
 *   refresh asks first whether anything changed (one request) and re-reads only a changed item,
 *   at most once per source per REFRESH_INTERVAL_MS, so a flood of bad signatures costs one
 *   request per 5 s and a delivery signed with a new secret verifies within 5 s even so. A refresh that fails transiently (1Password unreachable)
 *   answers 503 with Retry-After, since the delivery may be valid and senders retry; it holds the
 *   source only for that wait, so a rotation met by an outage verifies as soon as 1Password is back.
 * - Every secret is optional to the middleware: a stage may configure only some sources (the
 *   others answer 404), and one source's item being unavailable answers 503 for that source alone.
 * - A delivery is processed at most once: an authentic one is recorded in the DynamoDB table
 *   WEBHOOK_REPLAY_TABLE (see delivery-ledger.ts for its key) before it is processed, and the same
 *   delivery again, within the window, answers 200 `{"received":true,"duplicate":true}` unprocessed.
 *   Timestamps may be up to 300 s old and at most 30 s ahead (clock skew).
 *
 * Answers: 202 `{"received":true}`; 200 `{"received":true,"duplicate":true}` for a replay; 400
 * malformed or missing header, or an event that is not a readable HTTP request; 401 wrong signature
 * or timestamp out of window; 404 unknown source; 503 secrets or replay table unavailable
 * (Retry-After); 500 replay table not configured. Errors are problem+json.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import {
  functionLogger,
  header,
  type HttpResponse,
  isReadableHttpEvent,
  isWebhookSource,
  jsonResponse,
  opSecrets,
  problemResponse,
  rawBody,
  RefreshThrottle,
  type SecretsContext,
  SecretsUnavailableError,
  signingSecretNames,
  WEBHOOK_SOURCES,
  type WebhookSource,
} from 'op-lambda';
import { DeliveryLedgerUnavailableError, deliveryKey, DynamoDeliveryLedger, type ClaimOutcome, type DeliveryLedger } from './delivery-ledger';
import { REPLAY_TABLE_ENV } from './replay-contract';
import { DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER } from './signature';
import { verifyDelivery, type DeliveryVerdict, type SigningSecrets } from './verify-delivery';

/** Minimum time between two checks of one source's secrets after a miss (each one request while nothing changed). */
export const REFRESH_INTERVAL_MS = 5_000;
/** Suggested client wait when a source's secrets are unavailable. */
const RETRY_AFTER_SECONDS = 5;

export const secrets = opSecrets({
  secrets: Object.fromEntries(
    WEBHOOK_SOURCES.flatMap((source) => {
      const names = signingSecretNames(source);
      return [
        [names.current, { required: false }],
        [names.previous, { required: false }],
      ];
    }),
  ),
});

const logger = functionLogger('webhooks');
const throttle = new RefreshThrottle({ minIntervalMs: REFRESH_INTERVAL_MS });
/** Longest wait for the replay table; a delivery not recorded in time is answered 503, unprocessed. */
const LEDGER_TIMEOUT_MS = 3000;
/** Time kept, before the Lambda timeout, to answer after the replay table. */
const RESERVE_MS = 500;

const replayTable = process.env[REPLAY_TABLE_ENV]?.trim();
const ledger: DeliveryLedger | undefined = replayTable ? new DynamoDeliveryLedger(replayTable) : undefined;
if (!ledger) logger.error('webhook replay table not configured', { variable: REPLAY_TABLE_ENV });

/** `{source}` from the route; the path itself when the event carries no path parameters. */
function sourceOf(event: APIGatewayProxyEventV2): string | undefined {
  return event.pathParameters?.['source'] ?? /^\/webhooks\/([^/]+)\/?$/.exec(event.rawPath ?? '')?.[1];
}

/** Sources this stage configures: those whose current secret has a reference (fixed at INIT). */
const configuredSources: ReadonlySet<string> = new Set(WEBHOOK_SOURCES.filter((source) => signingSecretNames(source).current in secrets.status()));
const declaredNames: ReadonlySet<string> = new Set(Object.keys(secrets.status()));

/**
 * The source's secrets read once more from 1Password, or undefined when throttled. Rejects with
 * SecretsUnavailableError when they cannot be read (the middleware answers 503 with Retry-After).
 */
async function refreshedSecrets(source: WebhookSource): Promise<SigningSecrets | undefined> {
  try {
    return await throttle.refresh(source, () => readSourceSecrets(source));
  } catch (error) {
    // secret.failure lines say why; this one says which source answered 503 because of it.
    logger.warn('webhook secrets refresh failed', { source });
    throw error;
  }
}

/**
 * Current and previous in one request when they share an item: both calls start together, and the
 * second joins the fetch the first started for the item. Current is read as one name, so that a
 * failure rejects with its causes (transient or not); previous stays optional, so a revoked
 * previous secret comes back undefined and does not linger.
 */
async function readSourceSecrets(source: WebhookSource): Promise<SigningSecrets> {
  const names = signingSecretNames(source);
  const optional = declaredNames.has(names.previous) ? [names.previous] : [];
  const [current, others] = await Promise.all([secrets.refresh(names.current), secrets.refresh(optional)]);
  return { current, previous: others[names.previous] };
}

function rejection(verdict: Exclude<DeliveryVerdict, { kind: 'accepted' }>, source: WebhookSource): HttpResponse {
  switch (verdict.kind) {
    case 'malformed':
      return problemResponse({
        status: 400,
        title: 'Invalid signature header',
        detail: `The ${SIGNATURE_HEADER} header is missing or malformed: ${verdict.reason}.`,
      });
    case 'stale':
      return problemResponse({ status: 401, title: 'Stale signature', detail: 'The signature timestamp is outside the accepted window.' });
    case 'mismatch':
      return problemResponse({ status: 401, title: 'Invalid signature', detail: `No signature matches the signing secret of ${source}.` });
  }
}

/** Records the delivery before it is processed; undefined when the replay table cannot tell. */
async function claim(ledger: DeliveryLedger, key: string, signedAt: number, context: SecretsContext): Promise<ClaimOutcome | undefined> {
  const budgetMs = Math.min(LEDGER_TIMEOUT_MS, context.getRemainingTimeInMillis() - RESERVE_MS);
  try {
    return await ledger.claim({
      key,
      // Past this the delivery is stale anyway: the record is no longer needed.
      expiresAt: signedAt + DEFAULT_TOLERANCE_SECONDS + 1,
      nowSeconds: Math.floor(Date.now() / 1000),
      deadlineAt: Date.now() + budgetMs,
    });
  } catch (error) {
    if (!(error instanceof DeliveryLedgerUnavailableError)) throw error;
    logger.error('webhook replay table unavailable', { reason: error.reason });
    return undefined;
  }
}

type Accepted = Extract<DeliveryVerdict, { kind: 'accepted' }>;

/** An authentic delivery: processed (here, logged) only when the replay table has not seen it. */
async function accept(ledger: DeliveryLedger, source: WebhookSource, body: Buffer, verdict: Accepted, context: SecretsContext): Promise<HttpResponse> {
  const key = deliveryKey({ source, signedAt: verdict.signedAt, rawBody: body });
  const outcome = await claim(ledger, key, verdict.signedAt, context);
  if (outcome === undefined) {
    const detail = `The delivery could not be checked against earlier ones; it was not processed. Retry after ${RETRY_AFTER_SECONDS} seconds.`;
    return problemResponse({ status: 503, detail }, { 'Retry-After': String(RETRY_AFTER_SECONDS) });
  }
  if (outcome === 'duplicate') {
    logger.warn('webhook replay', { source, deliveryKey: key, signedAt: verdict.signedAt });
    return jsonResponse(200, { received: true, duplicate: true });
  }
  logger.info('webhook accepted', { source, bytes: body.length, usedRefresh: verdict.usedRefresh, deliveryKey: key });
  return jsonResponse(202, { received: true });
}

async function receive(event: APIGatewayProxyEventV2, context: SecretsContext): Promise<HttpResponse> {
  if (!isReadableHttpEvent(event as unknown)) return problemResponse({ status: 400, detail: 'The event is not an HTTP request this function can read.' });
  const source = sourceOf(event);
  if (!isWebhookSource(source) || !configuredSources.has(source)) return problemResponse({ status: 404, detail: 'There is no webhook source by that name.' });
  if (!ledger) return problemResponse({ status: 500, detail: 'Webhook replay protection is not configured.' });
  const names = signingSecretNames(source);
  const current = context.secrets[names.current];
  if (current === undefined) throw new SecretsUnavailableError([names.current], RETRY_AFTER_SECONDS);
  const cached: SigningSecrets = { current, previous: context.secrets[names.previous] };
  const body = rawBody(event);
  const verdict = await verifyDelivery({
    signatureHeader: header(event, SIGNATURE_HEADER),
    rawBody: body,
    nowSeconds: Math.floor(Date.now() / 1000),
    secrets: cached,
    refreshed: () => refreshedSecrets(source),
  });
  if (verdict.kind === 'accepted') return accept(ledger, source, body, verdict, context);
  logger.warn('webhook rejected', { source, verdict: verdict.kind, usedRefresh: 'usedRefresh' in verdict && verdict.usedRefresh });
  return rejection(verdict, source);
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>()
  .use(secrets)
  .handler((event, context) => receive(event, context));
