/**
 * The secret store used as a plain object, without Middy, with a fake SecretSource plugged in:
 * what a Lambda handler that does not use Middy (or a Powertools provider) calls.
 */
import { ConnectError, SecretDeclarationError, SecretsUnavailableError } from '../../../../shared/secrets/errors';
import { parseReference } from '../../../../shared/secrets/reference';
import type { FetchReport } from '../../../../shared/secrets/source';
import type { SecretStoreListener } from '../../../../shared/secrets/store/listener';
import { createSecretStore } from '../../../../shared/secrets/store/secret-store';
import { FakeSource } from '../../../helpers/middleware-fakes';

const STRIPE = 'op://payments/stripe/credential';
const STRIPE_PREVIOUS = 'op://payments/stripe/previous';
const GITHUB = 'op://payments/github/secret';

let source: FakeSource;

beforeEach(() => {
  source = new FakeSource().set(STRIPE, 'sk_live_store_stripe').set(STRIPE_PREVIOUS, 'sk_live_store_previous').set(GITHUB, 'ghs_store_github');
});

describe('createSecretStore', () => {
  it('get() answers every declared value by name, from one resolve started at creation', async () => {
    const store = createSecretStore({ env: {}, source, secrets: { STRIPE_KEY: STRIPE, GITHUB_SECRET: GITHUB } });
    expect(source.requestCount).toBe(1);
    await expect(store.get()).resolves.toEqual({ STRIPE_KEY: 'sk_live_store_stripe', GITHUB_SECRET: 'ghs_store_github' });
    await store.get();
    expect(source.requestCount).toBe(1);
  });

  it('get(name) answers one value, undefined for an optional one that cannot be had', async () => {
    source.fail(GITHUB, new ConnectError('FORBIDDEN', 'vault out of scope', { status: 403 }));
    const store = createSecretStore({ env: {}, source, secrets: { STRIPE_KEY: STRIPE, GITHUB_SECRET: { reference: GITHUB, required: false } } });
    await expect(store.get('STRIPE_KEY')).resolves.toBe('sk_live_store_stripe');
    await expect(store.get('GITHUB_SECRET')).resolves.toBeUndefined();
  });

  it('get() rejects with SecretsUnavailableError naming a required secret that cannot be had', async () => {
    source.fail(STRIPE, new ConnectError('SERVER', 'bad gateway', { status: 502 }));
    const store = createSecretStore({ env: {}, source, secrets: { STRIPE_KEY: STRIPE, GITHUB_SECRET: GITHUB } });
    const error: unknown = await store.get().catch((rejection: unknown) => rejection);
    expect(error).toBeInstanceOf(SecretsUnavailableError);
    expect((error as SecretsUnavailableError).names).toEqual(['STRIPE_KEY']);
  });

  it('fetches nothing before the first read when prefetch is disabled', async () => {
    const store = createSecretStore({ env: {}, source, disablePrefetch: true, secrets: { STRIPE_KEY: STRIPE } });
    expect(source.requestCount).toBe(0);
    await store.get('STRIPE_KEY');
    expect(source.requestCount).toBe(1);
  });

  it('refresh(name) fetches again now, with the other declared secrets of the same item', async () => {
    const store = createSecretStore({ env: {}, source, secrets: { STRIPE_KEY: STRIPE, STRIPE_PREVIOUS: STRIPE_PREVIOUS, GITHUB_SECRET: GITHUB } });
    await store.get();
    source.set(STRIPE, 'sk_live_store_rotated');
    await expect(store.refresh('STRIPE_KEY')).resolves.toBe('sk_live_store_rotated');
    expect(source.calls.at(-1)?.sort()).toEqual([parseReference(STRIPE).key, parseReference(STRIPE_PREVIOUS).key].sort());
    await expect(store.get('STRIPE_KEY')).resolves.toBe('sk_live_store_rotated');
  });

  it('refresh(names) answers by name and rejects when a required one fails', async () => {
    const store = createSecretStore({ env: {}, source, secrets: { STRIPE_KEY: STRIPE, GITHUB_SECRET: GITHUB } });
    await expect(store.refresh(['STRIPE_KEY', 'GITHUB_SECRET'])).resolves.toEqual({ STRIPE_KEY: 'sk_live_store_stripe', GITHUB_SECRET: 'ghs_store_github' });
    source.fail(GITHUB, new ConnectError('NETWORK', 'connection refused'));
    await expect(store.refresh(['STRIPE_KEY', 'GITHUB_SECRET'])).rejects.toBeInstanceOf(SecretsUnavailableError);
  });

  it('refuses a name that is not declared', async () => {
    const store = createSecretStore({ env: {}, source, secrets: { STRIPE_KEY: STRIPE } });
    await expect(store.refresh('GITHUB_SECRET')).rejects.toBeInstanceOf(SecretDeclarationError);
  });

  it('status() says which secrets are ready and how old, never a value', async () => {
    let now = 1_000_000;
    const store = createSecretStore({ env: {}, source, clock: () => now, secrets: { STRIPE_KEY: STRIPE } });
    expect(store.status()).toEqual({ STRIPE_KEY: { ready: false } });
    await store.get();
    now += 250;
    expect(store.status()).toEqual({ STRIPE_KEY: { ready: true, itemVersion: 1, ageMs: 250 } });
    expect(JSON.stringify(store.status())).not.toContain('sk_live_store_stripe');
  });

  it('clearCache() forgets values and what the source learnt', async () => {
    const store = createSecretStore({ env: {}, source, secrets: { STRIPE_KEY: STRIPE } });
    await store.get();
    store.clearCache();
    expect(source.forgotten).toBe(1);
    expect(store.status()['STRIPE_KEY']?.ready).toBe(false);
    await store.get();
    expect(source.requestCount).toBe(2);
  });

  it('warm() hands back the last values while they hold, and nothing once ttlMs has passed', async () => {
    let now = 1_000_000;
    const store = createSecretStore({ env: {}, source, ttlMs: 60_000, clock: () => now, secrets: { STRIPE_KEY: STRIPE } });
    expect(store.warm()).toBeUndefined();
    await store.fetch();
    expect(store.warm()?.byName).toEqual({ STRIPE_KEY: 'sk_live_store_stripe' });
    now += 60_000;
    expect(store.warm()).toBeUndefined();
  });

  it('reports fetches and failures to its listener, by declared name', async () => {
    const fetched: FetchReport[] = [];
    const failed: string[][] = [];
    const listener: SecretStoreListener = {
      fetched: (report) => fetched.push(report),
      failed: (names, _reference, info) => failed.push([...names, info.error.code]),
    };
    source.fail(GITHUB, new ConnectError('FORBIDDEN', 'vault out of scope', { status: 403 }));
    const store = createSecretStore({ env: {}, source, listener, secrets: { STRIPE_KEY: STRIPE, GITHUB_SECRET: { reference: GITHUB, required: false } } });
    await store.get();
    expect(fetched.map((report) => report.outcome).sort()).toEqual(['failure', 'success']);
    expect(failed).toEqual([['GITHUB_SECRET', 'FORBIDDEN']]);
  });

  it('fails at creation on a misspelt option', () => {
    expect(() => createSecretStore({ env: {}, source, ttl: 5 } as never)).toThrow('createSecretStore: unknown option(s) "ttl"');
  });
});
