import type { FullItem } from '@1password/connect';
import { ConnectError } from '../../../../shared/secrets/errors';
import { checkedItem, fieldValue, isConnectId, listedId, oneTimeCodeValue } from '../../../../shared/secrets/connect/response-checks';

const VAULT = 'vvvvvvvvvvvvvvvvvvvvvvvvvv';
const ITEM = 'iiiiiiiiiiiiiiiiiiiiiiiiii';
const REFERENCE = `op://${VAULT}/${ITEM}/password`;

/** An item body as the SDK hands it over, from JSON that may say anything. */
function body(json: Record<string, unknown>): FullItem {
  return { id: ITEM, vault: { id: VAULT }, version: 3, fields: [{ id: 'password', label: 'password', value: 'x' }], ...json } as unknown as FullItem;
}

function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('isConnectId', () => {
  it('accepts 26 lowercase letters and digits, and nothing else', () => {
    expect(isConnectId('abcdefghijklmnopqrstuvwxy2')).toBe(true);
    for (const bad of ['..', '../../v1/vaults', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxy', 'abcdefghijklmnopqrstuvwxyz0', 'abcdefghijklmnopqrstuvwxy/', '', 42, null]) {
      expect(isConnectId(bad)).toBe(false);
    }
  });
});

describe('listedId', () => {
  it('returns a 1Password id as it is', () => {
    expect(listedId(VAULT, 'vault list')).toBe(VAULT);
  });

  it('throws a non-retryable INVALID_RESPONSE naming the list, never the id', () => {
    const error = thrown(() => listedId('../../v1/vaults', 'vault list'));
    expect(error).toBeInstanceOf(ConnectError);
    expect(error).toMatchObject({ code: 'INVALID_RESPONSE', retryable: false, message: "Connect's vault list holds an id that is not a 1Password id" });
  });
});

describe('checkedItem', () => {
  const requested = { vaultId: VAULT, itemId: ITEM };

  it('passes the item that was asked for', () => {
    const item = body({});
    expect(checkedItem(item, requested)).toBe(item);
    expect(checkedItem(body({ vault: undefined, version: undefined, fields: undefined }), requested).id).toBe(ITEM);
  });

  it('a body without an id or with fields that are no list is malformed, and retried', () => {
    expect(thrown(() => checkedItem(body({ id: undefined }), requested))).toMatchObject({ code: 'INVALID_RESPONSE', retryable: true });
    expect(thrown(() => checkedItem(body({ fields: 'no list' }), requested))).toMatchObject({ code: 'INVALID_RESPONSE', retryable: true });
  });

  it('another item, an id that is no 1Password id, or another vault is refused for good', () => {
    for (const id of ['jjjjjjjjjjjjjjjjjjjjjjjjjj', '..']) {
      expect(thrown(() => checkedItem(body({ id }), requested))).toMatchObject({ retryable: false, detail: 'Connect returned an item other than the one requested' });
    }
    expect(thrown(() => checkedItem(body({ id: '..' }), { vaultId: VAULT, itemId: '..' }))).toMatchObject({ retryable: false });
    expect(thrown(() => checkedItem(body({ vault: { id: 'wwwwwwwwwwwwwwwwwwwwwwwwww' } }), requested))).toMatchObject({
      detail: 'Connect returned an item of another vault than the one requested',
    });
  });

  it('a version that is not a whole number is refused', () => {
    for (const version of [-1, 1.5, '3']) {
      expect(thrown(() => checkedItem(body({ version }), requested))).toMatchObject({ code: 'INVALID_RESPONSE', retryable: false });
    }
  });

  it('fields or sections whose ids or labels are not strings are refused', () => {
    const malformed = [
      { fields: [{ id: 7, label: 'password' }] },
      { fields: [{ id: 'password', label: ['password'] }] },
      { fields: [{ id: 'password', label: 'password', section: { id: 1 } }] },
      { fields: [null] },
      { sections: [{ id: 's', label: null }] },
    ];
    for (const json of malformed) {
      expect(thrown(() => checkedItem(body(json), requested))).toMatchObject({ detail: 'Connect returned an item whose fields or sections are malformed' });
    }
  });
});

describe('fieldValue', () => {
  it('a string is the value; no value at all is an empty one', () => {
    expect(fieldValue({ value: 's3cr3t-value' }, REFERENCE)).toBe('s3cr3t-value');
    expect(fieldValue({}, REFERENCE)).toBe('');
  });

  it('a number, object, array, boolean or null is INVALID_RESPONSE naming the reference, and never quoted', () => {
    for (const value of [42, { value: 'hidden-value' }, ['hidden-value'], true, null]) {
      const result = fieldValue({ value } as never, REFERENCE);
      expect(result).toBeInstanceOf(ConnectError);
      expect(result).toMatchObject({ code: 'INVALID_RESPONSE', retryable: false, reference: REFERENCE });
      expect((result as ConnectError).message).not.toMatch(/hidden-value|42|true|null/);
    }
  });
});

describe('oneTimeCodeValue', () => {
  it('6 to 10 digits are a code', () => {
    expect(oneTimeCodeValue('123456', REFERENCE)).toBe('123456');
    expect(oneTimeCodeValue('1234567890', REFERENCE)).toBe('1234567890');
  });

  it('no code is FIELD_NOT_FOUND', () => {
    expect(oneTimeCodeValue(undefined, REFERENCE)).toMatchObject({ code: 'FIELD_NOT_FOUND', reference: REFERENCE });
    expect(oneTimeCodeValue('', REFERENCE)).toMatchObject({ code: 'FIELD_NOT_FOUND' });
  });

  it('anything else is INVALID_RESPONSE: letters, spaces, numbers, too few or too many digits', () => {
    for (const code of ['abc123', '123 456', 123456, '12345', '12345678901', ['123456']]) {
      expect(oneTimeCodeValue(code, REFERENCE)).toMatchObject({ code: 'INVALID_RESPONSE', retryable: false, reference: REFERENCE });
    }
  });
});
