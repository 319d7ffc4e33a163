/**
 * The body of `POST /payments`, validated before anything is sent upstream. Unknown fields are
 * rejected rather than dropped: in a payment, a misspelt field ("ammount") must not pass silently.
 */

export interface PaymentRequest {
  /** Positive integer in the currency's minor unit (cents for USD). */
  amount: number;
  /** ISO 4217 code, upper-cased. */
  currency: string;
  description?: string;
  metadata?: Record<string, string>;
}

/** One reason a body was refused, in RFC 9457's `invalid-params` shape. */
export interface InvalidParam {
  name: string;
  reason: string;
}

export type PaymentParseResult = { ok: true; payment: PaymentRequest } | { ok: false; detail: string; invalidParams: InvalidParam[] };

export const MAX_AMOUNT = 99_999_999;
const MAX_DESCRIPTION_LENGTH = 500;
const MAX_METADATA_KEYS = 20;
const MAX_METADATA_KEY_LENGTH = 40;
const MAX_METADATA_VALUE_LENGTH = 500;
const KNOWN_FIELDS: ReadonlySet<string> = new Set(['amount', 'currency', 'description', 'metadata']);

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkAmount(value: unknown): string | undefined {
  if (value === undefined) return 'is required';
  if (typeof value !== 'number' || !Number.isInteger(value)) return 'must be an integer number of minor units (e.g. cents)';
  if (value <= 0) return 'must be positive';
  if (value > MAX_AMOUNT) return `must be at most ${MAX_AMOUNT}`;
  return undefined;
}

function checkCurrency(value: unknown): string | undefined {
  if (value === undefined) return 'is required';
  if (typeof value !== 'string' || !/^[A-Za-z]{3}$/.test(value)) return 'must be a three-letter ISO 4217 code';
  return undefined;
}

function checkDescription(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > MAX_DESCRIPTION_LENGTH) return `must be at most ${MAX_DESCRIPTION_LENGTH} characters`;
  return undefined;
}

function checkMetadata(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) return 'must be an object of strings';
  const entries = Object.entries(value);
  if (entries.length > MAX_METADATA_KEYS) return `must have at most ${MAX_METADATA_KEYS} keys`;
  for (const [key, entry] of entries) {
    if (key.length === 0 || key.length > MAX_METADATA_KEY_LENGTH) return `keys must be 1 to ${MAX_METADATA_KEY_LENGTH} characters`;
    if (typeof entry !== 'string' || entry.length > MAX_METADATA_VALUE_LENGTH) {
      return `values must be strings of at most ${MAX_METADATA_VALUE_LENGTH} characters`;
    }
  }
  return undefined;
}

const CHECKS: readonly [string, (value: unknown) => string | undefined][] = [
  ['amount', checkAmount],
  ['currency', checkCurrency],
  ['description', checkDescription],
  ['metadata', checkMetadata],
];

function invalid(detail: string, invalidParams: InvalidParam[] = []): PaymentParseResult {
  return { ok: false, detail, invalidParams };
}

function parseJson(rawBody: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(rawBody) };
  } catch {
    return { ok: false };
  }
}

/** Parses and validates a raw request body. */
export function parsePaymentRequest(rawBody: string): PaymentParseResult {
  if (rawBody.trim() === '') return invalid('The request body is empty; expected a JSON payment object.');
  const parsed = parseJson(rawBody);
  if (!parsed.ok) return invalid('The request body is not valid JSON.');
  if (!isObject(parsed.value)) return invalid('The request body must be a JSON object.');
  const body = parsed.value;
  const invalidParams: InvalidParam[] = [];
  for (const [name, check] of CHECKS) {
    const reason = check(body[name]);
    if (reason) invalidParams.push({ name, reason });
  }
  for (const name of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(name)) invalidParams.push({ name, reason: 'is not a known field' });
  }
  if (invalidParams.length > 0) return invalid('The payment request has invalid fields.', invalidParams);
  return { ok: true, payment: toPayment(body) };
}

function toPayment(body: JsonObject): PaymentRequest {
  const payment: PaymentRequest = { amount: body.amount as number, currency: (body.currency as string).toUpperCase() };
  if (body.description !== undefined) payment.description = body.description as string;
  if (body.metadata !== undefined) payment.metadata = body.metadata as Record<string, string>;
  return payment;
}

/** Idempotency keys clients may send: 1–255 visible ASCII characters (Stripe's limit). */
export function isValidIdempotencyKey(value: string): boolean {
  return /^[\x21-\x7e]{1,255}$/.test(value);
}
