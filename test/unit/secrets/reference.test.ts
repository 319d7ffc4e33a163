import fc from 'fast-check';
import { InvalidReferenceError } from '../../../shared/secrets/errors';
import {
  formatReference,
  isReference,
  looksLikeId,
  parseReference,
  tryParseReference,
  type ReferenceParts,
  type SecretReference,
} from '../../../shared/secrets/reference';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_. ';
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** The error parseReference throws for `input` (the test fails if it does not throw one). */
function rejection(input: string): InvalidReferenceError {
  const result = tryParseReference(input);
  if (result.ok) throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
  return result.error;
}

function partsOf(reference: SecretReference): ReferenceParts {
  const { raw: _raw, key: _key, ...parts } = reference;
  return parts;
}

function asciiUpper(text: string): string {
  return text.replace(/[a-z]/g, (letter) => letter.toUpperCase());
}

// --- arbitraries ---------------------------------------------------------------------------

const id = fc.string({ unit: fc.constantFrom(...ID_ALPHABET), minLength: 26, maxLength: 26 });

/** Any name a reference can carry: no control characters, no whitespace at either end. */
const name = fc
  .string({ unit: fc.oneof(fc.constantFrom(...ALPHABET, '&', '#', '+', '%', '/', '?', '=', 'é', '€', '😀'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 16 })
  .filter((text) => !/\p{Cc}/u.test(text) && !/^\s|\s$/.test(text));

const segmentName = fc.oneof(name, id);

function escapeBytes(char: string, lowerHex: boolean): string {
  return [...new TextEncoder().encode(char)]
    .map((byte) => `%${byte.toString(16).padStart(2, '0')}`)
    .map((escape) => (lowerHex ? escape : escape.toUpperCase()))
    .join('');
}

/** A raw spelling of a name: alphabet characters plain or escaped, the rest escaped, any hex case. */
function spelling(text: string): fc.Arbitrary<string> {
  const chars = [...text];
  return fc
    .tuple(fc.array(fc.boolean(), { minLength: chars.length, maxLength: chars.length }), fc.boolean())
    .map(([escapeFlags, lowerHex]) =>
      chars.map((char, index) => (ALPHABET.includes(char) && !escapeFlags[index] ? char : escapeBytes(char, lowerHex))).join(''),
    );
}

interface Generated {
  raw: string;
  parts: ReferenceParts;
}

const attributeSpelling = fc.constantFrom(undefined, 'otp', 'totp', 'OTP', 'Totp');

const generatedReference: fc.Arbitrary<Generated> = fc
  .tuple(segmentName, segmentName, fc.option(segmentName, { nil: undefined }), segmentName, attributeSpelling)
  .chain(([vault, item, section, field, attribute]) => {
    const names = section === undefined ? [vault, item, field] : [vault, item, section, field];
    return fc.tuple(...names.map(spelling)).map((spelled): Generated => {
      const query = attribute === undefined ? '' : `?attribute=${attribute}`;
      const parts: ReferenceParts = { vault, item, field, ...(section === undefined ? {} : { section }), ...(attribute ? { attribute: 'otp' as const } : {}) };
      return { raw: `op://${spelled.join('/')}${query}`, parts };
    });
  });

/** Strings near the grammar, where bugs live: the prefix, separators, escapes and queries. */
const nearReference = fc
  .string({ unit: fc.constantFrom('op://', '/', '%', '%2', '%C3', '%A9', '%26', '?', 'attribute=', 'otp', '=', 'a', 'Z', '0', ' ', '&', '\n', 'é', '..'), maxLength: 24 })
  .map((tail) => `op://${tail}`);

// --- properties ----------------------------------------------------------------------------

describe('parseReference, property-based', () => {
  it('parses every generated valid reference into the names it spells', () => {
    fc.assert(
      fc.property(generatedReference, ({ raw, parts }) => {
        const reference = parseReference(raw);
        expect(partsOf(reference)).toEqual(parts);
        expect(reference.raw).toBe(raw);
      }),
      { numRuns: 500 },
    );
  });

  it('formatReference prints anything it accepts back to an equivalent reference', () => {
    fc.assert(
      fc.property(fc.oneof(generatedReference.map((generated) => generated.raw), nearReference), (input) => {
        const parsed = tryParseReference(input);
        if (!parsed.ok) return;
        const printed = formatReference(parsed.reference);
        const reparsed = parseReference(printed);
        expect(partsOf(reparsed)).toEqual(partsOf(parsed.reference));
        expect(reparsed.key).toBe(parsed.reference.key);
        expect(formatReference(reparsed)).toBe(printed);
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same key to every spelling of a reference (letter case, escapes, hex case)', () => {
    fc.assert(
      fc.property(
        generatedReference.chain(({ parts }) =>
          fc.tuple(fc.constant(parts), ...[parts.vault, parts.item, ...(parts.section === undefined ? [] : [parts.section]), parts.field].map((n) => spelling(asciiUpper(n)))),
        ),
        ([parts, ...spelled]) => {
          const original = parseReference(formatReference(parts));
          const query = parts.attribute ? '?attribute=TOTP' : '';
          expect(parseReference(`op://${spelled.join('/')}${query}`).key).toBe(original.key);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('treats every generated id as an id, and ids parse in every position', () => {
    fc.assert(
      fc.property(id, id, id, (vault, item, field) => {
        expect(looksLikeId(vault)).toBe(true);
        expect(parseReference(`op://${vault}/${item}/${field}`)).toMatchObject({ vault, item, field });
      }),
    );
  });

  it('never crashes on arbitrary input: only InvalidReferenceError, naming the input and a position within it', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), nearReference), (input) => {
        try {
          const reference = parseReference(input);
          expect(reference.raw).toBe(input);
          expect(parseReference(reference.key).key).toBe(reference.key);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidReferenceError);
          const invalid = error as InvalidReferenceError;
          expect(invalid.reference).toBe(input);
          expect(invalid.position).toBeGreaterThanOrEqual(0);
          expect(invalid.position).toBeLessThanOrEqual(input.length);
          expect(invalid.message).toContain(JSON.stringify(input));
          expect(invalid.message).toContain(`at position ${invalid.position}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('points at a disallowed character wherever it is inserted', () => {
    const badChar = fc.constantFrom('&', '#', '+', '!', '"', "'", '<', '>', '{', '}', '\\', '|', '@', ',', ';', ':', '*', '~', '`', '^', '$', '\t', 'é', '😀');
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.'), minLength: 1, maxLength: 10 }),
        fc.nat(),
        badChar,
        (item, at, char) => {
          const cut = at % (item.length + 1);
          const input = `op://vault/${item.slice(0, cut)}${char}${item.slice(cut)}/field`;
          const error = rejection(input);
          expect(error.position).toBe('op://vault/'.length + cut);
          expect(error.reason).toContain(`character ${JSON.stringify([...char][0])} is not allowed in the item`);
        },
      ),
    );
  });
});

// --- examples --------------------------------------------------------------------------------

describe('parseReference, examples', () => {
  it('parses vault/item/field and vault/item/section/field', () => {
    expect(parseReference('op://payments/stripe/credential')).toEqual({
      raw: 'op://payments/stripe/credential',
      vault: 'payments',
      item: 'stripe',
      field: 'credential',
      key: 'op://payments/stripe/credential',
    });
    expect(parseReference('op://Prod Vault/Stripe API/live keys/secret key')).toMatchObject({
      vault: 'Prod Vault',
      item: 'Stripe API',
      section: 'live keys',
      field: 'secret key',
      key: 'op://prod vault/stripe api/live keys/secret key',
    });
  });

  it('decodes %XX escapes so titles with & # + % and non-ASCII characters can be named', () => {
    expect(parseReference('op://ops/R%26D %231 %2B %25 off/field').item).toBe('R&D #1 + % off');
    expect(parseReference('op://ops/a%2Fb/field').item).toBe('a/b');
    expect(parseReference('op://Caf%C3%A9/item/field').vault).toBe('Café');
    expect(parseReference('op://v/%e2%82%ac/f').item).toBe('€');
  });

  it('reads ?attribute=otp and ?attribute=totp, in any case, as the one-time password', () => {
    expect(parseReference('op://v/i/f?attribute=otp').attribute).toBe('otp');
    expect(parseReference('op://v/i/f?attribute=TOTP').attribute).toBe('otp');
    expect(parseReference('op://v/i/f?attribute=totp').key).toBe('op://v/i/f?attribute=otp');
  });

  it('keys equal spellings alike: case-insensitive names, escaped or plain letters', () => {
    const key = parseReference('op://Payments/Stripe/Credential').key;
    expect(parseReference('op://payments/STRIPE/credential').key).toBe(key);
    expect(parseReference('op://payments/%53tripe/credential').key).toBe(key);
    expect(parseReference('op://payments/stripe/credential?attribute=otp').key).not.toBe(key);
    expect(parseReference('op://payments/stripe/x/credential').key).not.toBe(key);
  });

  it.each([
    ['payments/stripe/key', 0, 'must start with "op://"'],
    ['op:/payments/stripe/key', 0, 'must start with "op://"'],
    ['https://payments/stripe/key', 0, 'must start with "op://"'],
    ['OP://payments/stripe/key', 0, 'the "op://" prefix must be lowercase'],
    ['Op://payments/stripe/key', 0, 'the "op://" prefix must be lowercase'],
  ])('rejects the prefix of %j at %d: %s', (input, position, reason) => {
    expect(rejection(input)).toMatchObject({ position, reason });
  });

  it.each([
    ['op:///stripe/key', 5, 'empty vault segment'],
    ['op://payments//key', 14, 'empty item segment'],
    ['op://payments/stripe/', 21, 'empty field segment'],
    ['op://payments/stripe//key', 21, 'empty section segment'],
    ['op://payments/stripe/section/', 29, 'empty field segment'],
    ['op://payments/stripe/?attribute=otp', 21, 'empty field segment'],
  ])('names the empty segment of %j at %d', (input, position, reason) => {
    expect(rejection(input)).toMatchObject({ position, reason });
  });

  it('says how many segments it found, and where', () => {
    expect(rejection('op://payments')).toMatchObject({ position: 13, reason: expect.stringContaining('too few segments') as unknown });
    expect(rejection('op://payments/stripe').reason).toContain('found 2 segments');
    expect(rejection('op://payments/stripe?attribute=otp').position).toBe(20);
    const tooMany = rejection('op://a/b/c/d/e');
    expect(tooMany.position).toBe(13);
    expect(tooMany.reason).toContain('too many segments');
    expect(tooMany.reason).toContain('found 5 segments');
    expect(tooMany.reason).toContain('%2F');
  });

  it('names a disallowed character, its segment and its position', () => {
    expect(rejection('op://payments/R&D/key')).toMatchObject({ position: 15, reason: expect.stringContaining('character "&" is not allowed in the item') as unknown });
    expect(rejection('op://pay#ments/x/key')).toMatchObject({ position: 8, reason: expect.stringContaining('in the vault') as unknown });
    expect(rejection('op://v/i/s/f+x').reason).toContain('character "+" is not allowed in the field');
    expect(rejection('op://v/i/s!/f').reason).toContain('in the section');
    expect(rejection('op://v/Café/f')).toMatchObject({ position: 10 });
  });

  it.each([
    ['op://v/%ZZ/f', 7, '"%" in the item must start an escape like %26'],
    ['op://v/abc%2/f', 10, '"%" in the item must start an escape like %26'],
    ['op://v/i/f%', 10, '"%" in the field must start an escape like %26'],
    ['op://v/%C3/f', 7, 'escape %C3 in the item is not UTF-8'],
    ['op://v/%C3%41/f', 7, 'escape %C3 in the item is not UTF-8'],
    ['op://v/%FF/f', 7, 'escape %FF in the item is not UTF-8'],
    ['op://v/%C0%80/f', 7, 'escape %C0 in the item is not UTF-8'],
    ['op://v/%ED%A0%80/f', 7, 'escape %ED%A0%80 in the item is not UTF-8'],
    ['op://v/a%0Ab/f', 8, 'escape %0A in the item is a control character'],
    ['op://v/a%7Fb/f', 8, 'escape %7F in the item is a control character'],
    ['op://v/a%C2%85b/f', 8, 'escape %C2%85 in the item is a control character'],
  ])('rejects the escape in %j at %d', (input, position, reason) => {
    expect(rejection(input)).toMatchObject({ position, reason });
  });

  it.each([
    ['op://v/i/f?', 11, 'the only supported query is "attribute=otp" or "attribute=totp"'],
    ['op://v/i/f?foo', 11, 'the only supported query is "attribute=otp" or "attribute=totp"'],
    ['op://v/i/f?attribute=', 11, 'the only supported query is "attribute=otp" or "attribute=totp"'],
    ['op://v/i/f?attribute=otp&x=1', 11, 'the only supported query is "attribute=otp" or "attribute=totp"'],
    ['op://v/i/f?ssh-format=openssh', 11, 'the only supported query is "attribute=otp" or "attribute=totp"'],
    ['op://v/i/f?attribute=password', 21, 'unsupported attribute "password" (use otp or totp)'],
  ])('rejects the query of %j at %d', (input, position, reason) => {
    expect(rejection(input)).toMatchObject({ position, reason });
  });

  it.each([
    [' op://v/i/f', 0, 'the reference starts with whitespace'],
    ['op://v/i/f\n', 10, 'the reference ends with whitespace'],
    ['op://v/i/f ', 10, 'the reference ends with whitespace'],
    ['op://v/ i/f', 7, 'the item starts with whitespace'],
    ['op://v/i /f', 8, 'the item ends with whitespace'],
    ['op://v/%20i/f', 7, 'the item starts with whitespace'],
    ['op://v/i%20/f', 8, 'the item ends with whitespace'],
    ['op://v/i%C2%A0/f', 8, 'the item ends with whitespace'],
    ['op:// v/i/f', 5, 'the vault starts with whitespace'],
  ])('rejects whitespace at the ends of %j at %d', (input, position, reason) => {
    expect(rejection(input)).toMatchObject({ position, reason });
  });

  it('rejects non-strings with an InvalidReferenceError', () => {
    expect(() => parseReference(42 as unknown as string)).toThrow(InvalidReferenceError);
    expect(() => parseReference(undefined as unknown as string)).toThrow('not a string');
  });

  it('quotes the reference as JSON in the message, so a stray newline cannot split a log line', () => {
    const error = rejection('op://v/i/f\n');
    expect(error.message).toBe('Invalid 1Password secret reference "op://v/i/f\\n": the reference ends with whitespace at position 10');
    expect(error).toMatchObject({ name: 'InvalidReferenceError', code: 'INVALID_REFERENCE', reference: 'op://v/i/f\n' });
  });
});

describe('formatReference', () => {
  it('escapes every character outside the alphabet as UTF-8 %XX', () => {
    expect(formatReference({ vault: 'ops', item: 'R&D #1 + 100%', field: 'a/b?c' })).toBe('op://ops/R%26D %231 %2B 100%25/a%2Fb%3Fc');
    expect(formatReference({ vault: 'Café', item: '€', section: 's', field: 'f', attribute: 'otp' })).toBe('op://Caf%C3%A9/%E2%82%AC/s/f?attribute=otp');
  });

  it.each([
    [{ vault: '', item: 'i', field: 'f' }, 'empty vault segment'],
    [{ vault: 'v', item: ' i', field: 'f' }, 'the item starts with whitespace'],
    [{ vault: 'v', item: 'i', section: '', field: 'f' }, 'empty section segment'],
    [{ vault: 'v', item: 'i', field: 'line\nbreak' }, 'is a control character'],
  ])('refuses names no reference can carry: %j', (parts, reason) => {
    expect(() => formatReference(parts)).toThrow(reason);
  });
});

describe('isReference, looksLikeId, tryParseReference', () => {
  it('isReference follows the op run convention: strings starting with op://', () => {
    expect(isReference('op://v/i/f')).toBe(true);
    expect(isReference('op://')).toBe(true);
    expect(isReference('OP://v/i/f')).toBe(false);
    expect(isReference(' op://v/i/f')).toBe(false);
    expect(isReference(undefined)).toBe(false);
    expect(isReference(7)).toBe(false);
  });

  it('looksLikeId accepts exactly 26 lowercase letters and digits', () => {
    expect(looksLikeId('abcdefghijklmnopqrstuvwxyz')).toBe(true);
    expect(looksLikeId('0123456789abcdefghijklmnop')).toBe(true);
    expect(looksLikeId('abcdefghijklmnopqrstuvwxy')).toBe(false);
    expect(looksLikeId('Abcdefghijklmnopqrstuvwxyz')).toBe(false);
    expect(looksLikeId('abcdefghijklmnopqrstuvwxyz0')).toBe(false);
  });

  it('tryParseReference returns instead of throwing', () => {
    expect(tryParseReference('op://v/i/f')).toMatchObject({ ok: true, reference: { field: 'f' } });
    expect(tryParseReference('op://v/i')).toMatchObject({ ok: false, error: { code: 'INVALID_REFERENCE', position: 8 } });
  });
});
