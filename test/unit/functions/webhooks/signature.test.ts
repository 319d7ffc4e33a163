import fc from 'fast-check';
import {
  computeSignature,
  formatSignatureHeader,
  isWithinTolerance,
  matchesAnySecret,
  parseSignatureHeader,
  signPayload,
  type SignatureHeader,
} from '../../../../functions/webhooks/signature';

const digest = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes));
const header: fc.Arbitrary<SignatureHeader> = fc.record({
  timestamp: fc.integer({ min: 0, max: 999_999_999_999 }),
  signatures: fc.array(digest, { minLength: 1, maxLength: 8 }),
});
const body = fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes));
const secret = fc.string({ minLength: 1, maxLength: 64 });

function parsed(value: string): SignatureHeader {
  const result = parseSignatureHeader(value);
  if (!result.ok) throw new Error(`expected a valid header, got: ${result.reason}`);
  return result.header;
}

describe('parseSignatureHeader', () => {
  it('parses back anything formatSignatureHeader produced', () => {
    fc.assert(
      fc.property(header, (original) => {
        expect(parsed(formatSignatureHeader(original))).toEqual(original);
      }),
    );
  });

  it('never throws on arbitrary strings, and anything it accepts is well formed', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('t', 'v', '1', '=', ',', 'a', '0', ' ') })), (input) => {
        const result = parseSignatureHeader(input);
        if (result.ok) {
          expect(Number.isSafeInteger(result.header.timestamp)).toBe(true);
          expect(result.header.signatures.length).toBeGreaterThan(0);
          for (const signature of result.header.signatures) expect(signature).toHaveLength(32);
        } else {
          expect(typeof result.reason).toBe('string');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('ignores other schemes, tolerates spaces and uppercase hex, in any order', () => {
    fc.assert(
      fc.property(header, fc.array(fc.constantFrom('v0=abc', 'v2=zz', 'x=1')), (original, extras) => {
        const entries = [`t=${original.timestamp}`, ...original.signatures.map((s) => ` v1 = ${s.toString('hex').toUpperCase()} `), ...extras];
        const shuffled = [...entries.slice(1), entries[0]!];
        expect(parsed(shuffled.join(','))).toEqual(original);
      }),
    );
  });

  it.each([
    [undefined, 'missing signature header'],
    ['', 'missing signature header'],
    ['v1=' + 'a'.repeat(64), 'no timestamp'],
    ['t=1700000000', 'no v1 signature'],
    ['t=1700000000,v0=' + 'a'.repeat(64), 'no v1 signature'],
    ['t=17x,v1=' + 'a'.repeat(64), 'timestamp must be unix seconds'],
    ['t=-1,v1=' + 'a'.repeat(64), 'timestamp must be unix seconds'],
    ['t=1,t=2,v1=' + 'a'.repeat(64), 'more than one timestamp'],
    ['t=1,v1=abc', 'v1 signature must be 64 hex digits'],
    ['t=1,v1=' + 'g'.repeat(64), 'v1 signature must be 64 hex digits'],
    ['t=1,,v1=' + 'a'.repeat(64), 'signature header entries must be key=value'],
    ['t=1,v1=' + 'a'.repeat(64) + ',junk', 'signature header entries must be key=value'],
    ['t=1' + ',v1='.concat('a'.repeat(64)).repeat(9), 'too many v1 signatures'],
    ['t=1,v1=' + 'a'.repeat(4096), 'signature header too long'],
  ])('rejects %p: %s', (input, reason) => {
    expect(parseSignatureHeader(input)).toEqual({ ok: false, reason });
  });
});

describe('signature verification', () => {
  it('accepts a payload signed with any of the secrets', () => {
    fc.assert(
      fc.property(secret, secret, body, fc.integer({ min: 0, max: 999_999_999_999 }), (current, previous, raw, t) => {
        const signedWithPrevious = parsed(signPayload([previous], t, raw));
        expect(matchesAnySecret(signedWithPrevious, raw, [current, previous])).toBe(true);
      }),
    );
  });

  it('rejects a payload signed with another secret', () => {
    fc.assert(
      fc.property(secret, secret, body, (right, wrong, raw) => {
        fc.pre(right !== wrong);
        expect(matchesAnySecret(parsed(signPayload([wrong], 1, raw)), raw, [right])).toBe(false);
      }),
    );
  });

  it('rejects any change to the body or the timestamp', () => {
    fc.assert(
      fc.property(secret, body.filter((b) => b.length > 0), fc.nat(), fc.nat({ max: 255 }), (key, raw, index, delta) => {
        const signed = parsed(signPayload([key], 1_700_000_000, raw));
        const tampered = Buffer.from(raw);
        const at = index % tampered.length;
        tampered[at] = (tampered[at]! + 1 + (delta % 255)) % 256;
        expect(matchesAnySecret(signed, tampered, [key])).toBe(false);
        expect(matchesAnySecret({ ...signed, timestamp: signed.timestamp + 1 }, raw, [key])).toBe(false);
      }),
    );
  });

  it('matches `openssl dgst -sha256 -hmac` over "<t>.<body>"', () => {
    // echo -n '1700000000.{"id":"evt_1"}' | openssl dgst -sha256 -hmac 'whsec_test'
    const signature = computeSignature('whsec_test', 1_700_000_000, Buffer.from('{"id":"evt_1"}'));
    expect(signature.toString('hex')).toBe('c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925');
  });

  it('accepts past timestamps within the tolerance, inclusively', () => {
    expect(isWithinTolerance(1000, 1300)).toBe(true);
    expect(isWithinTolerance(1000, 1301)).toBe(false);
    expect(isWithinTolerance(1000, 1010, 5)).toBe(false);
  });

  it('accepts future timestamps only within the 30 s clock skew, inclusively', () => {
    expect(isWithinTolerance(1030, 1000)).toBe(true);
    expect(isWithinTolerance(1031, 1000)).toBe(false);
    expect(isWithinTolerance(1300, 1000)).toBe(false);
    expect(isWithinTolerance(1010, 1000, 300, 5)).toBe(false);
  });
});
