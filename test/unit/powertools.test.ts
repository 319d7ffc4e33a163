import { GetParameterError } from '@aws-lambda-powertools/parameters';
import { ConnectError, type SecretReference, type SecretSource } from 'op-lambda';
import { OnePasswordProvider } from 'op-lambda/powertools';

const VALUE = 'sk_live_provider_value_0001';

/** A source that answers every reference with VALUE, except field `missing`, and counts its calls. */
function countingSource(): SecretSource & { calls: number } {
  const source = {
    calls: 0,
    resolve(references: readonly SecretReference[]) {
      source.calls += 1;
      const values = new Map();
      const errors = new Map();
      for (const reference of references) {
        if (reference.field === 'missing') errors.set(reference.key, new ConnectError('NOT_FOUND', `${reference.raw}: no such field`, { status: 404 }));
        else values.set(reference.key, { reference, value: VALUE, vaultId: 'v', itemId: 'i', itemVersion: 1, fieldId: 'f' });
      }
      return Promise.resolve({ values, errors });
    },
  };
  return source;
}

describe('OnePasswordProvider', () => {
  it('resolves a reference and serves it from the cache within maxAge', async () => {
    const source = countingSource();
    const provider = new OnePasswordProvider({ source });
    expect(await provider.get('op://app/api/credential')).toBe(VALUE);
    expect(await provider.get('op://app/api/credential', { maxAge: 60 })).toBe(VALUE);
    expect(source.calls).toBe(1);
  });

  it('fetches again with forceFetch', async () => {
    const source = countingSource();
    const provider = new OnePasswordProvider({ source });
    await provider.get('op://app/api/credential');
    await provider.get('op://app/api/credential', { forceFetch: true });
    expect(source.calls).toBe(2);
  });

  it('reports a failed reference as a GetParameterError naming the reference, not the value', async () => {
    const provider = new OnePasswordProvider({ source: countingSource() });
    const error: unknown = await provider.get('op://app/api/missing').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GetParameterError);
    expect((error as Error).message).toContain('op://app/api/missing');
    expect((error as Error).message).not.toContain(VALUE);
  });

  it('rejects a malformed reference without asking the source', async () => {
    const source = countingSource();
    const provider = new OnePasswordProvider({ source });
    await expect(provider.get('op://only-vault')).rejects.toThrow(GetParameterError);
    expect(source.calls).toBe(0);
  });

  it('refuses getMultiple with an error that says why', async () => {
    const provider = new OnePasswordProvider({ source: countingSource() });
    await expect(provider.getMultiple('op://app')).rejects.toThrow(/does not support getMultiple.*get\(\) each one/);
  });
});
