/**
 * 1Password secret references: `op://<vault>/<item>/[<section>/]<field>[?attribute=otp|totp]`.
 *
 * Segments use 1Password's alphabet (ASCII letters, digits, `-`, `_`, `.`, space) or are 26-char
 * lowercase IDs. As an extension, `%XX` escapes name characters outside that alphabet
 * (`op://vault/R%26D/field` is the item titled "R&D"); non-ASCII characters are escaped as their
 * UTF-8 bytes, as in URLs (`Caf%C3%A9`). A reference without `%` means exactly what it means to
 * the 1Password CLI. Names match case-insensitively, so `key` lower-cases them.
 *
 * One parser serves synth time (infra) and run time (shared): a reference that passes `cdk synth`
 * parses identically at Lambda INIT.
 */
import { InvalidReferenceError } from './errors';

export const REFERENCE_PREFIX = 'op://';

/** The one attribute op-lambda reads besides a field's value: the current one-time password. */
export type ReferenceAttribute = 'otp';

export interface SecretReference {
  /** The reference as written. */
  readonly raw: string;
  readonly vault: string;
  readonly item: string;
  readonly section?: string;
  readonly field: string;
  readonly attribute?: ReferenceAttribute;
  /** Canonical form, equal for every spelling of the same secret: the cache key. */
  readonly key: string;
}

export type ReferenceParts = Omit<SecretReference, 'raw' | 'key'>;

const ID_PATTERN = /^[a-z0-9]{26}$/;
const PLAIN_CHAR = /^[A-Za-z0-9\-_. ]$/;
/** Decoded characters that no title should contain: C0 and C1 controls, DEL. */
const CONTROL_CHAR = /\p{Cc}/u;
const ATTRIBUTES: Readonly<Record<string, ReferenceAttribute>> = { otp: 'otp', totp: 'otp' };

/** Whether a value is meant as a secret reference (the `op run` convention: it starts with `op://`). */
export function isReference(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(REFERENCE_PREFIX);
}

/** Whether a segment has the shape of a 1Password ID (26 lowercase letters and digits). */
export function looksLikeId(segment: string): boolean {
  return ID_PATTERN.test(segment);
}

/** Parses and validates a reference; throws InvalidReferenceError naming the position. */
export function parseReference(input: string): SecretReference {
  if (typeof input !== 'string') throw new InvalidReferenceError(String(input), 0, 'not a string');
  checkEnds(input);
  checkPrefix(input);
  const queryAt = input.indexOf('?');
  const pathEnd = queryAt === -1 ? input.length : queryAt;
  const segments = splitSegments(input, REFERENCE_PREFIX.length, pathEnd);
  checkSegmentCount(input, segments, pathEnd);
  const roles = SEGMENT_ROLES[segments.length]!;
  const names = segments.map((segment, index) => decodeSegment(input, segment, roles[index]!));
  const attribute = queryAt === -1 ? undefined : parseQuery(input, queryAt);
  const [vault, item] = names as [string, string];
  const parts: ReferenceParts =
    names.length === 4
      ? { vault, item, section: names[2]!, field: names[3]!, attribute }
      : { vault, item, field: names[2]!, attribute };
  return withoutUndefined({ ...parts, raw: input, key: canonicalKey(parts) });
}

/** Like parseReference, but returns the error instead of throwing. */
export function tryParseReference(
  input: string,
): { ok: true; reference: SecretReference } | { ok: false; error: InvalidReferenceError } {
  try {
    return { ok: true, reference: parseReference(input) };
  } catch (error) {
    if (error instanceof InvalidReferenceError) return { ok: false, error };
    throw error;
  }
}

/**
 * Prints a reference; parseReference(formatReference(r)) is equivalent to r. Names that no
 * reference can carry (empty, with control characters or whitespace at their ends) throw
 * InvalidReferenceError, so a printed reference always parses.
 */
export function formatReference(parts: ReferenceParts): string {
  const text = printReference(parts);
  parseReference(text);
  return text;
}

function printReference(parts: ReferenceParts): string {
  const path = [parts.vault, parts.item, ...(parts.section === undefined ? [] : [parts.section]), parts.field];
  const query = parts.attribute ? `?attribute=${parts.attribute}` : '';
  return REFERENCE_PREFIX + path.map(encodeSegment).join('/') + query;
}

function canonicalKey(parts: ReferenceParts): string {
  const lower = (name: string): string => name.toLowerCase();
  return printReference({
    vault: lower(parts.vault),
    item: lower(parts.item),
    section: parts.section === undefined ? undefined : lower(parts.section),
    field: lower(parts.field),
    attribute: parts.attribute,
  });
}

/** Environment values often carry a stray newline or space: say so rather than "bad character". */
function checkEnds(input: string): void {
  if (/^\s/.test(input)) throw new InvalidReferenceError(input, 0, 'the reference starts with whitespace');
  if (/\s$/.test(input)) throw new InvalidReferenceError(input, input.length - 1, 'the reference ends with whitespace');
}

function checkPrefix(input: string): void {
  if (input.startsWith(REFERENCE_PREFIX)) return;
  const reason = input.toLowerCase().startsWith(REFERENCE_PREFIX)
    ? `the "${REFERENCE_PREFIX}" prefix must be lowercase`
    : `must start with "${REFERENCE_PREFIX}"`;
  throw new InvalidReferenceError(input, 0, reason);
}

interface RawSegment {
  text: string;
  start: number;
}

const SEGMENT_ROLES: Readonly<Record<number, readonly string[]>> = {
  3: ['vault', 'item', 'field'],
  4: ['vault', 'item', 'section', 'field'],
};

function splitSegments(input: string, start: number, end: number): RawSegment[] {
  const segments: RawSegment[] = [];
  let segmentStart = start;
  for (let index = start; index <= end; index++) {
    if (index === end || input[index] === '/') {
      segments.push({ text: input.slice(segmentStart, index), start: segmentStart });
      segmentStart = index + 1;
    }
  }
  return segments;
}

function checkSegmentCount(input: string, segments: readonly RawSegment[], pathEnd: number): void {
  if (segments.length >= 3 && segments.length <= 4) return;
  const found = `found ${segments.length} segment${segments.length === 1 ? '' : 's'}`;
  if (segments.length < 3) {
    throw new InvalidReferenceError(input, pathEnd, `too few segments: expected vault/item/field or vault/item/section/field, ${found}`);
  }
  throw new InvalidReferenceError(
    input,
    segments[4]!.start,
    `too many segments: expected vault/item/field or vault/item/section/field, ${found} (escape "/" in a name as %2F)`,
  );
}

/** One decoded character and where its spelling starts in the segment. */
interface DecodedChar {
  char: string;
  offset: number;
}

function decodeSegment(input: string, segment: RawSegment, role: string): string {
  const fail = (offset: number, reason: string): never => {
    throw new InvalidReferenceError(input, segment.start + offset, reason);
  };
  if (segment.text.length === 0) fail(0, `empty ${role} segment`);
  const chars: DecodedChar[] = [];
  for (let index = 0; index < segment.text.length; ) {
    // Whole code points, so an emoji is reported as itself and not as half a surrogate pair.
    const char = String.fromCodePoint(segment.text.codePointAt(index)!);
    if (char === '%') {
      const escaped = decodeEscape(segment.text, index, role, fail);
      chars.push({ char: escaped.char, offset: index });
      index = escaped.next;
    } else if (PLAIN_CHAR.test(char)) {
      chars.push({ char, offset: index });
      index += 1;
    } else {
      fail(
        index,
        `character ${JSON.stringify(char)} is not allowed in the ${role} (use letters, digits, "-", "_", ".", space, an ID, or a %XX escape)`,
      );
    }
  }
  if (/^\s/.test(chars[0]!.char)) fail(chars[0]!.offset, `the ${role} starts with whitespace`);
  if (/\s$/.test(chars.at(-1)!.char)) fail(chars.at(-1)!.offset, `the ${role} ends with whitespace`);
  return chars.map((decoded) => decoded.char).join('');
}

/** Decodes the UTF-8 sequence of %XX escapes starting at `index` into one character. */
function decodeEscape(
  text: string,
  index: number,
  role: string,
  fail: (offset: number, reason: string) => never,
): { char: string; next: number } {
  const byteAt = (at: number): number | undefined => {
    const hex = text.slice(at + 1, at + 3);
    return text[at] === '%' && /^[0-9A-Fa-f]{2}$/.test(hex) ? Number.parseInt(hex, 16) : undefined;
  };
  const lead = byteAt(index);
  if (lead === undefined) fail(index, `"%" in the ${role} must start an escape like %26`);
  const length = utf8Length(lead!);
  const bytes: number[] = [lead!];
  for (let next = 1; next < length; next++) {
    const continuation = byteAt(index + next * 3);
    if (continuation === undefined || continuation < 0x80 || continuation > 0xbf) break;
    bytes.push(continuation);
  }
  const char = bytes.length === length ? decodeUtf8(bytes) : undefined;
  if (char === undefined) fail(index, `escape ${text.slice(index, index + bytes.length * 3)} in the ${role} is not UTF-8`);
  if (CONTROL_CHAR.test(char!)) fail(index, `escape ${text.slice(index, index + length * 3)} in the ${role} is a control character`);
  return { char: char!, next: index + length * 3 };
}

/** Bytes in the UTF-8 sequence a lead byte starts; 0 for bytes that cannot lead one. */
function utf8Length(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** One character from a complete UTF-8 sequence; undefined for overlong forms and surrogates. */
function decodeUtf8(bytes: readonly number[]): string | undefined {
  if (bytes.length === 0) return undefined;
  try {
    return UTF8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

function parseQuery(input: string, queryAt: number): ReferenceAttribute {
  const query = input.slice(queryAt + 1);
  const match = /^attribute=([A-Za-z]+)$/.exec(query);
  if (!match) {
    throw new InvalidReferenceError(input, queryAt + 1, 'the only supported query is "attribute=otp" or "attribute=totp"');
  }
  const attribute = ATTRIBUTES[match[1]!.toLowerCase()];
  if (!attribute) {
    throw new InvalidReferenceError(input, queryAt + 1 + 'attribute='.length, `unsupported attribute "${match[1]}" (use otp or totp)`);
  }
  return attribute;
}

/** Escapes every character outside the alphabet as the %XX of its UTF-8 bytes. */
function encodeSegment(name: string): string {
  let encoded = '';
  for (const char of name) {
    encoded += PLAIN_CHAR.test(char)
      ? char
      : [...new TextEncoder().encode(char)].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
  return encoded;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
