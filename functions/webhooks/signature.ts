/**
 * Stripe-style webhook signatures.
 *
 * Header: `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=<hex>...]`, where each v1 is the
 * HMAC-SHA256, keyed by the source's signing secret, of `<t>.<raw body>`. Several v1 entries are
 * allowed so a sender can sign with two secrets during a rotation; entries with other schemes
 * (`v0=`, ...) are ignored, as Stripe's libraries do.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Signature';
/** How old a signature's timestamp may be before it counts as a replay. */
export const DEFAULT_TOLERANCE_SECONDS = 300;
/**
 * How far ahead of now a timestamp may be: clocks differ a little, never by minutes. A wider
 * margin would keep a captured delivery usable that much longer.
 */
export const MAX_CLOCK_SKEW_SECONDS = 30;
/** The v1 scheme's digest length: SHA-256. */
const DIGEST_BYTES = 32;
/** More entries than any honest sender needs; a cap keeps parsing cheap for hostile input. */
const MAX_HEADER_LENGTH = 2048;
const MAX_V1_ENTRIES = 8;

export interface SignatureHeader {
  /** Unix seconds at which the sender signed. */
  timestamp: number;
  /** Each v1 signature as 32 raw bytes. */
  signatures: Buffer[];
}

export type ParseResult = { ok: true; header: SignatureHeader } | { ok: false; reason: string };

const TIMESTAMP = /^\d{1,12}$/;
const HEX_DIGEST = /^[0-9a-fA-F]{64}$/;

/** Parses an `X-Signature` value. Never throws: malformed input yields `{ ok: false, reason }`. */
export function parseSignatureHeader(value: string | undefined): ParseResult {
  if (value === undefined || value.trim() === '') return { ok: false, reason: 'missing signature header' };
  if (value.length > MAX_HEADER_LENGTH) return { ok: false, reason: 'signature header too long' };
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of value.split(',')) {
    const separator = part.indexOf('=');
    if (separator <= 0) return { ok: false, reason: 'signature header entries must be key=value' };
    const key = part.slice(0, separator).trim();
    const entry = part.slice(separator + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined) return { ok: false, reason: 'more than one timestamp' };
      if (!TIMESTAMP.test(entry)) return { ok: false, reason: 'timestamp must be unix seconds' };
      timestamp = Number(entry);
    } else if (key === 'v1') {
      if (!HEX_DIGEST.test(entry)) return { ok: false, reason: 'v1 signature must be 64 hex digits' };
      if (signatures.length === MAX_V1_ENTRIES) return { ok: false, reason: 'too many v1 signatures' };
      signatures.push(Buffer.from(entry, 'hex'));
    }
  }
  if (timestamp === undefined) return { ok: false, reason: 'no timestamp' };
  if (signatures.length === 0) return { ok: false, reason: 'no v1 signature' };
  return { ok: true, header: { timestamp, signatures } };
}

/** The header value a sender would send (lowercase hex, timestamp first). */
export function formatSignatureHeader(header: SignatureHeader): string {
  return [`t=${header.timestamp}`, ...header.signatures.map((signature) => `v1=${signature.toString('hex')}`)].join(',');
}

/** HMAC-SHA256 of `<timestamp>.<raw body>`, keyed by the secret's UTF-8 bytes. */
export function computeSignature(secret: string, timestamp: number, rawBody: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();
}

/** Convenience for senders and tests: a complete header for one or more secrets. */
export function signPayload(secrets: readonly string[], timestamp: number, rawBody: Buffer): string {
  return formatSignatureHeader({ timestamp, signatures: secrets.map((secret) => computeSignature(secret, timestamp, rawBody)) });
}

/** Whether the timestamp is at most `toleranceSeconds` old and at most `skewSeconds` ahead of now. */
export function isWithinTolerance(
  timestamp: number,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
  skewSeconds = MAX_CLOCK_SKEW_SECONDS,
): boolean {
  return nowSeconds - timestamp <= toleranceSeconds && timestamp - nowSeconds <= skewSeconds;
}

/**
 * Whether any v1 signature was made with any of the secrets. Comparison is constant-time per
 * pair; every pair is compared, so the time taken says nothing about which one matched.
 */
export function matchesAnySecret(header: SignatureHeader, rawBody: Buffer, secrets: readonly string[]): boolean {
  let matched = false;
  for (const secret of secrets) {
    const expected = computeSignature(secret, header.timestamp, rawBody);
    for (const candidate of header.signatures) {
      if (candidate.length === DIGEST_BYTES && timingSafeEqual(expected, candidate)) matched = true;
    }
  }
  return matched;
}
