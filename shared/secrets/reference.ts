/**
 * 1Password secret references: `op://<vault>/<item>/[<section>/]<field>[?attribute=otp|totp]`.
 *
 * Segments use 1Password's alphabet (ASCII letters, digits, `-`, `_`, `.`, space) or are 26-char
 * lowercase IDs. As an extension, `%XX` escapes name characters outside that alphabet
 * (`op://vault/R%26D/field` is the item titled "R&D"); a reference without `%` means exactly
 * what it means to the 1Password CLI. Names match case-insensitively, so `key` lower-cases them.
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
const PLAIN_CHAR = /[A-Za-z0-9\-_. ]/;
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
  if (!input.startsWith(REFERENCE_PREFIX)) {
    throw new InvalidReferenceError(input, 0, `must start with "${REFERENCE_PREFIX}"`);
  }
  const queryAt = input.indexOf('?');
  const pathEnd = queryAt === -1 ? input.length : queryAt;
  const segments = splitSegments(input, REFERENCE_PREFIX.length, pathEnd);
  if (segments.length < 3 || segments.length > 4) {
    throw new InvalidReferenceError(
      input,
      pathEnd,
      `expected vault/item/field or vault/item/section/field, found ${segments.length} segment(s)`,
    );
  }
  const names = segments.map((segment, index) => decodeSegment(input, segment, SEGMENT_ROLES[segments.length]![index]!));
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

/** Prints a reference; parseReference(formatReference(r)) is equivalent to r. */
export function formatReference(parts: ReferenceParts): string {
  const path = [parts.vault, parts.item, ...(parts.section === undefined ? [] : [parts.section]), parts.field];
  const query = parts.attribute ? `?attribute=${parts.attribute}` : '';
  return REFERENCE_PREFIX + path.map(encodeSegment).join('/') + query;
}

function canonicalKey(parts: ReferenceParts): string {
  const lower = (name: string): string => name.toLowerCase();
  return formatReference({
    vault: lower(parts.vault),
    item: lower(parts.item),
    section: parts.section === undefined ? undefined : lower(parts.section),
    field: lower(parts.field),
    attribute: parts.attribute,
  });
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

function decodeSegment(input: string, segment: RawSegment, role: string): string {
  const fail = (offset: number, reason: string): never => {
    throw new InvalidReferenceError(input, segment.start + offset, reason);
  };
  if (segment.text.length === 0) fail(0, `empty ${role} segment`);
  let decoded = '';
  for (let index = 0; index < segment.text.length; index++) {
    const char = segment.text[index]!;
    if (char === '%') {
      const hex = segment.text.slice(index + 1, index + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) fail(index, `"%" in the ${role} must start an escape like %26`);
      const code = Number.parseInt(hex, 16);
      if (code < 0x20 || code > 0x7e) fail(index, `escape %${hex} in the ${role} is not a printable ASCII character`);
      decoded += String.fromCharCode(code);
      index += 2;
    } else if (PLAIN_CHAR.test(char)) {
      decoded += char;
    } else {
      fail(index, `character ${JSON.stringify(char)} is not allowed in the ${role} (use letters, digits, "-", "_", ".", space, an ID, or a %XX escape)`);
    }
  }
  if (decoded.trim() !== decoded) fail(0, `the ${role} starts or ends with whitespace`);
  return decoded;
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

function encodeSegment(name: string): string {
  return name.replace(/[^A-Za-z0-9\-_. ]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
