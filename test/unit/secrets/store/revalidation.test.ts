/**
 * Revalidation by version in the store, with an injected clock and a fake source that keeps
 * vault and item versions as 1Password does: when checks happen, what they cost, what a change
 * replaces, and what a failing check leaves in service.
 */
import { ConnectError, SecretsUnavailableError } from '../../../../shared/secrets/errors';
import { parseReference, type SecretReference } from '../../../../shared/secrets/reference';
import type { HeldItem, SecretSource, SourceOutcome, SourcedSecret, VersionCheckOptions, VersionCheckOutcome } from '../../../../shared/secrets/source';
import type { SecretStoreListener } from '../../../../shared/secrets/store/listener';
import { revalidateMsFrom } from '../../../../shared/secrets/store/revalidation';
import { createSecretStore } from '../../../../shared/secrets/store/secret-store';

const VAULT = 'vaultid0000000000000000000';
const STRIPE_ITEM = 'stripeitem0000000000000000';
const DB_ITEM = 'databaseitem00000000000000';
const STRIPE_CURRENT = 'op://payments/stripe/current';
const STRIPE_PREVIOUS = 'op://payments/stripe/previous';
const DATABASE = 'op://payments/database/url';
const INTERVAL = 60_000;

interface FakeItem {
  version: number;
  fields: Record<string, string>;
}

/** A source with 1Password's versions: every write bumps the item's version and its vault's. */
class VersionedSource implements SecretSource {
  contentVersion = 1;
  readonly items = new Map<string, FakeItem>([
    [STRIPE_ITEM, { version: 1, fields: { current: 'whsec_one', previous: 'whsec_zero' } }],
    [DB_ITEM, { version: 1, fields: { url: 'postgres://one' } }],
  ]);
  resolves: string[][] = [];
  checks: VersionCheckOptions[] = [];
  /** When set, checks fail with it. */
  checkFailure?: ConnectError;

  write(itemId: string, field: string, value: string): void {
    const item = this.items.get(itemId)!;
    item.fields[field] = value;
    item.version += 1;
    this.contentVersion += 1;
  }

  resolve(references: readonly SecretReference[]): Promise<SourceOutcome> {
    this.resolves.push(references.map((reference) => reference.key));
    const values = new Map<string, SourcedSecret>();
    for (const reference of references) {
      const itemId = reference.item === 'stripe' ? STRIPE_ITEM : DB_ITEM;
      const item = this.items.get(itemId)!;
      values.set(reference.key, { value: item.fields[reference.field]!, itemVersion: item.version, vaultId: VAULT, itemId });
    }
    return Promise.resolve({ values, errors: new Map() });
  }

  checkVersions(held: readonly HeldItem[], options: VersionCheckOptions): Promise<VersionCheckOutcome> {
    this.checks.push(options);
    if (this.checkFailure) return Promise.reject(this.checkFailure);
    const changed = held.filter((item) => this.items.get(item.itemId)?.version !== item.version);
    return Promise.resolve({ changed, vaults: new Map([[VAULT, this.contentVersion]]) });
  }
}

let now: number;
let source: VersionedSource;
const clock = (): number => now;
const serverDown = (): ConnectError => new ConnectError('NETWORK', 'connection refused');

function storeOf(options: { maxStaleMs?: number; listener?: SecretStoreListener } = {}) {
  return createSecretStore({
    env: {},
    source,
    clock,
    revalidateMs: INTERVAL,
    secrets: { CURRENT: STRIPE_CURRENT, PREVIOUS: STRIPE_PREVIOUS, DATABASE_URL: DATABASE },
    ...options,
  });
}

beforeEach(() => {
  now = 1_700_000_000_000;
  source = new VersionedSource();
});

describe('revalidation by version', () => {
  it('checks nothing before the interval, then once per interval, re-reading nothing while nothing changed', async () => {
    const store = storeOf();
    await store.get();
    now += INTERVAL - 1;
    await store.get();
    expect(source.checks).toHaveLength(0);
    now += 1;
    await store.get();
    await store.get();
    expect(source.checks).toHaveLength(1);
    now += INTERVAL;
    await store.get();
    expect(source.checks).toHaveLength(2);
    expect(source.resolves).toHaveLength(1);
  });

  it('stops the warm path when a check is due', async () => {
    const store = storeOf();
    await store.get();
    expect(store.warm()).toBeDefined();
    now += INTERVAL;
    expect(store.warm()).toBeUndefined();
  });

  it('re-reads a changed item, all of its values together, and leaves other items alone', async () => {
    const store = storeOf();
    await store.get();
    source.write(STRIPE_ITEM, 'previous', 'whsec_one');
    source.write(STRIPE_ITEM, 'current', 'whsec_two');
    now += INTERVAL;
    const values = await store.get();
    expect(values).toMatchObject({ CURRENT: 'whsec_two', PREVIOUS: 'whsec_one', DATABASE_URL: 'postgres://one' });
    expect(source.resolves.at(-1)!.sort()).toEqual([parseReference(STRIPE_CURRENT).key, parseReference(STRIPE_PREVIOUS).key].sort());
  });

  it('passes the vault versions learnt by the last check, so an unchanged vault costs no item list', async () => {
    const store = storeOf();
    await store.get();
    now += INTERVAL;
    await store.get();
    expect(source.checks[0]!.knownVaults.size).toBe(0);
    now += INTERVAL;
    await store.get();
    expect(source.checks[1]!.knownVaults.get(VAULT)).toBe(source.contentVersion);
  });

  it('reports a change as one secret.refresh per reference, with versions and how it was noticed', async () => {
    const refreshed = jest.fn();
    const store = storeOf({ listener: { refreshed } });
    await store.get();
    source.write(DB_ITEM, 'url', 'postgres://two');
    now += INTERVAL;
    await store.get();
    expect(refreshed).toHaveBeenCalledTimes(1);
    expect(refreshed).toHaveBeenCalledWith(['DATABASE_URL'], DATABASE, { previousItemVersion: 1, itemVersion: 2, changed: true, noticedBy: 'revalidation' });
  });

  it('keeps serving the values when a check fails, reporting them stale, and checks again only after the backoff', async () => {
    const stale = jest.fn();
    const store = storeOf({ listener: { stale } });
    await store.get();
    source.checkFailure = serverDown();
    now += INTERVAL;
    await expect(store.get()).resolves.toMatchObject({ CURRENT: 'whsec_one' });
    expect(stale).toHaveBeenCalledTimes(3);
    expect(stale.mock.calls[0]![2]).toMatchObject({ error: { code: 'NETWORK' } });
    await store.get();
    expect(source.checks).toHaveLength(1);
    now += 1000;
    await store.get();
    expect(source.checks).toHaveLength(2);
  });

  it('drops the held values when a check is refused for good (the token revoked), as a failed fetch would', async () => {
    const failed = jest.fn();
    const store = storeOf({ listener: { failed } });
    await store.get();
    source.checkFailure = new ConnectError('UNAUTHORIZED', 'token rejected', { status: 401 });
    now += INTERVAL;
    await expect(store.get('CURRENT')).rejects.toBeInstanceOf(SecretsUnavailableError);
    expect(failed).toHaveBeenCalledWith(['CURRENT'], STRIPE_CURRENT, expect.objectContaining({ servingStale: false, error: expect.objectContaining({ code: 'UNAUTHORIZED' }) }));
  });

  it('stops serving a value maxStaleMs past the check that should have confirmed it', async () => {
    const store = storeOf({ maxStaleMs: 30_000 });
    await store.get();
    source.checkFailure = serverDown();
    source.resolve = () => Promise.resolve({ values: new Map(), errors: new Map([[parseReference(STRIPE_CURRENT).key, serverDown()]]) });
    now += INTERVAL + 29_999;
    await expect(store.get('CURRENT')).resolves.toBe('whsec_one');
    now += 1;
    await expect(store.get('CURRENT')).rejects.toBeInstanceOf(SecretsUnavailableError);
  });

  it('picks up a rotation made during an outage at the first check after the source is back', async () => {
    const store = storeOf();
    await store.get();
    source.checkFailure = serverDown();
    now += INTERVAL;
    await store.get();
    source.write(STRIPE_ITEM, 'current', 'whsec_during_outage');
    source.checkFailure = undefined;
    now += 1000;
    await expect(store.get('CURRENT')).resolves.toBe('whsec_during_outage');
  });
});

describe('refresh() checks first', () => {
  it('answers the held values without re-reading anything when nothing changed', async () => {
    const store = storeOf();
    await store.get();
    await expect(store.refresh('CURRENT')).resolves.toBe('whsec_one');
    expect(source.checks).toHaveLength(1);
    expect(source.checks[0]!.singleAttempt).toBe(true);
    expect(source.resolves).toHaveLength(1);
  });

  it('re-reads only the changed item, reported as noticed by refresh', async () => {
    const refreshed = jest.fn();
    const store = storeOf({ listener: { refreshed } });
    await store.get();
    source.write(STRIPE_ITEM, 'current', 'whsec_two');
    await expect(store.refresh('CURRENT')).resolves.toBe('whsec_two');
    expect(source.resolves.at(-1)).not.toContain(parseReference(DATABASE).key);
    expect(refreshed).toHaveBeenCalledWith(['CURRENT'], STRIPE_CURRENT, expect.objectContaining({ noticedBy: 'refresh', changed: true }));
  });

  it('during an outage makes one request per transient hold, however many refreshes are asked for', async () => {
    const store = storeOf();
    await store.get();
    source.checkFailure = serverDown();
    for (let miss = 0; miss < 20; miss++) await expect(store.refresh('CURRENT')).rejects.toBeInstanceOf(SecretsUnavailableError);
    expect(source.checks).toHaveLength(1);
    now += 1000;
    await expect(store.refresh('CURRENT')).rejects.toMatchObject({ retryAfterSeconds: expect.any(Number) });
    expect(source.checks).toHaveLength(2);
  });

  it('is a plain forced fetch for a source that cannot check versions, which keeps ttlMs', async () => {
    const plain: SecretSource = { resolve: (references) => source.resolve(references) };
    const store = createSecretStore({ env: {}, source: plain, clock, ttlMs: 1000, secrets: { CURRENT: STRIPE_CURRENT } });
    await store.get();
    source.write(STRIPE_ITEM, 'current', 'whsec_two');
    await expect(store.refresh('CURRENT')).resolves.toBe('whsec_two');
    await store.get();
    expect(store.warm()).toBeDefined();
    now += 1000;
    expect(store.warm()).toBeUndefined();
    expect(source.checks).toHaveLength(0);
  });
});

describe('revalidateMsFrom', () => {
  it('takes the option, else OP_REVALIDATE_MS, else 60 s', () => {
    expect(revalidateMsFrom(5000, { OP_REVALIDATE_MS: '2000' })).toBe(5000);
    expect(revalidateMsFrom(undefined, { OP_REVALIDATE_MS: '2000' })).toBe(2000);
    expect(revalidateMsFrom(undefined, {})).toBe(60_000);
  });

  it('refuses an OP_REVALIDATE_MS that is not a positive whole number, naming the variable', () => {
    expect(() => revalidateMsFrom(undefined, { OP_REVALIDATE_MS: '1m' })).toThrow(/OP_REVALIDATE_MS/);
    expect(() => revalidateMsFrom(undefined, { OP_REVALIDATE_MS: '0' })).toThrow(RangeError);
  });
});
