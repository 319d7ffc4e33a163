// 1Password object ids: 26 lowercase alphanumerics.
import { createHash, randomBytes } from 'node:crypto';

const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const ID_LENGTH = 26;

export const CONNECT_ID_PATTERN = /^[a-z0-9]{26}$/;

export function isConnectId(value: string): boolean {
  return CONNECT_ID_PATTERN.test(value);
}

function base32(bytes: Uint8Array): string {
  let bits = 0;
  let buffer = 0;
  let out = '';
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

/** A stable id from names, so a seed without ids yields the same ids on every run. */
export function deriveId(kind: string, ...parts: string[]): string {
  const digest = createHash('sha256').update([kind, ...parts].join('\u0000')).digest();
  return base32(digest).slice(0, ID_LENGTH);
}

/** A fresh id for objects created through the API. */
export function randomId(): string {
  return base32(randomBytes(20)).slice(0, ID_LENGTH);
}

/** A stable RFC 4122-shaped UUID (used for activity actors), derived from names. */
export function deriveUuid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
