// RFC 6238 time-based one-time passwords, as Connect computes them for OTP fields.
import { createHmac } from 'node:crypto';

export interface TotpParameters {
  secret: Buffer;
  algorithm: 'sha1' | 'sha256' | 'sha512';
  digits: number;
  periodSeconds: number;
}

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function decodeBase32(text: string): Buffer | undefined {
  const clean = text.replace(/[\s=-]/g, '').toUpperCase();
  if (clean.length === 0) return undefined;
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    const index = BASE32_ALPHABET.indexOf(char);
    if (index < 0) return undefined;
    buffer = (buffer << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    buffer &= (1 << bits) - 1;
  }
  return Buffer.from(bytes);
}

function parseAlgorithm(name: string | null): TotpParameters['algorithm'] | undefined {
  switch ((name ?? 'SHA1').toUpperCase()) {
    case 'SHA1':
      return 'sha1';
    case 'SHA256':
      return 'sha256';
    case 'SHA512':
      return 'sha512';
    default:
      return undefined;
  }
}

function parsePositiveInt(text: string | null, fallback: number): number | undefined {
  if (text === null) return fallback;
  return /^\d+$/.test(text) && Number(text) > 0 ? Number(text) : undefined;
}

/** Reads an `otpauth://totp/...` URI; a bare base32 secret is accepted too, as 1Password does. */
export function parseOtpValue(value: string): TotpParameters | undefined {
  if (!value.toLowerCase().startsWith('otpauth://')) {
    const secret = decodeBase32(value);
    return secret ? { secret, algorithm: 'sha1', digits: 6, periodSeconds: 30 } : undefined;
  }
  let uri: URL;
  try {
    uri = new URL(value);
  } catch {
    return undefined;
  }
  if (uri.host.toLowerCase() !== 'totp') return undefined;
  const secret = decodeBase32(uri.searchParams.get('secret') ?? '');
  const algorithm = parseAlgorithm(uri.searchParams.get('algorithm'));
  const digits = parsePositiveInt(uri.searchParams.get('digits'), 6);
  const periodSeconds = parsePositiveInt(uri.searchParams.get('period'), 30);
  if (!secret || !algorithm || !digits || digits > 10 || !periodSeconds) return undefined;
  return { secret, algorithm, digits, periodSeconds };
}

export function totpAt(params: TotpParameters, nowMs: number): string {
  const counter = BigInt(Math.floor(nowMs / 1000 / params.periodSeconds));
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(counter);
  const hmac = createHmac(params.algorithm, params.secret).update(message).digest();
  const offset = hmac[hmac.length - 1]! & 0x0f;
  const binary = hmac.readUInt32BE(offset) & 0x7fffffff;
  return (binary % 10 ** params.digits).toString().padStart(params.digits, '0');
}

/** The current code for an OTP field value, or undefined when the value is not a usable secret. */
export function currentTotp(value: string, nowMs: number = Date.now()): string | undefined {
  const params = parseOtpValue(value);
  return params ? totpAt(params, nowMs) : undefined;
}
