/**
 * Revalidation over real HTTP: the store with the Connect source against the local Connect server,
 * its clock moved forward by hand. What each check costs in requests, what a write in Connect
 * costs the next check, and what a check meeting a failing Connect (down, 429, malformed) leaves.
 */
import { startConnectServer, type ConnectSeed, type LocalConnect } from '../../local/connect/server';
import { ConnectSource } from '../../shared/secrets/connect/connect-source';
import { SecretsUnavailableError } from '../../shared/secrets/errors';
import type { SecretStoreListener } from '../../shared/secrets/store/listener';
import { createSecretStore, type SecretStore } from '../../shared/secrets/store/secret-store';

const INTERVAL = 60_000;
const VALUES = { current: 'whsec_reval_current_5f2a9c', previous: 'whsec_reval_previous_8d1e4b', url: 'postgres://reval:7c3f0a@db/app', other: 'other_reval_2b6d8e' };
const SEED: ConnectSeed = {
  tokens: [{ name: 'reader', token: 'opl-reval-read-q8w2e6r4t1y9', vaults: ['*'] }],
  vaults: [
    {
      name: 'app',
      items: [
        { title: 'webhook', category: 'API_CREDENTIAL', fields: [{ label: 'current', value: VALUES.current }, { label: 'previous', value: VALUES.previous }] },
        { title: 'unrelated', category: 'PASSWORD', fields: [{ label: 'password', value: VALUES.other }] },
      ],
    },
    { name: 'data', items: [{ title: 'database', category: 'DATABASE', fields: [{ label: 'url', value: VALUES.url }] }] },
  ],
};
const VAULT_LIST = '/v1/vaults';
const ITEM_LIST = /^\/v1\/vaults\/[^/]+\/items$/;
const ITEM_GET = /^\/v1\/vaults\/[^/]+\/items\/[^/]+$/;

let connect: LocalConnect;
let offset: number;
const clock = (): number => Date.now() + offset;

// Each test writes to the vault: each gets a server of its own.
beforeEach(async () => {
  offset = 0;
  connect = await startConnectServer({ seed: SEED });
});

afterEach(async () => {
  await connect.close();
});

const SECRETS = { CURRENT: 'op://app/webhook/current', PREVIOUS: 'op://app/webhook/previous', DATABASE_URL: 'op://data/database/url' } as const;
type RevalidatedStore = SecretStore<typeof SECRETS>;

function storeOf(listener: SecretStoreListener = {}): RevalidatedStore {
  const source = new ConnectSource({ host: connect.url, token: connect.tokens['reader']!, clock, backoffBaseMs: 1 });
  return createSecretStore({
    env: {},
    source,
    clock,
    listener,
    revalidateMs: INTERVAL,
    secrets: SECRETS,
  });
}

function counts(): { vaultList: number; itemList: number; itemGet: number; total: number } {
  return {
    vaultList: connect.countRequests({ method: 'GET', path: VAULT_LIST }),
    itemList: connect.countRequests({ method: 'GET', path: ITEM_LIST }),
    itemGet: connect.countRequests({ method: 'GET', path: ITEM_GET }),
    total: connect.requests.length,
  };
}

/** A store past its cold start and its first check (which lists each vault's items once to learn their versions). */
async function settledStore(listener?: SecretStoreListener): Promise<RevalidatedStore> {
  const store = storeOf(listener);
  await store.get();
  offset += INTERVAL;
  await store.get();
  connect.resetRequests();
  return store;
}

test('steady state: one vault list per interval whatever the number of items and vaults, nothing in between', async () => {
  const store = await settledStore();
  for (let invocation = 0; invocation < 5; invocation++) await store.get();
  expect(counts().total).toBe(0);
  offset += INTERVAL;
  for (let invocation = 0; invocation < 5; invocation++) await store.get();
  expect(counts()).toEqual({ vaultList: 1, itemList: 0, itemGet: 0, total: 1 });
});

test('a write costs the next check one item list and one GET of the changed item, all its values replaced together', async () => {
  const refreshed = jest.fn();
  const store = await settledStore({ refreshed });
  const newCurrent = 'whsec_reval_rotated_1a9f3e';
  connect.setField('app', 'webhook', 'previous', VALUES.current);
  connect.setField('app', 'webhook', 'current', newCurrent);
  offset += INTERVAL;

  await expect(store.get()).resolves.toEqual({ CURRENT: newCurrent, PREVIOUS: VALUES.current, DATABASE_URL: VALUES.url });

  expect(counts()).toEqual({ vaultList: 1, itemList: 1, itemGet: 1, total: 3 });
  const version = connect.getItem('app', 'webhook').version;
  expect(refreshed).toHaveBeenCalledWith(['CURRENT'], 'op://app/webhook/current', { previousItemVersion: version - 2, itemVersion: version, changed: true, noticedBy: 'revalidation' });
});

test('a write to another item of the vault costs an item list, and no GET', async () => {
  const store = await settledStore();
  connect.setField('app', 'unrelated', 'password', 'other_reval_rotated_4c8e2a');
  offset += INTERVAL;
  await store.get();
  expect(counts()).toEqual({ vaultList: 1, itemList: 1, itemGet: 0, total: 2 });
});

describe.each([
  ['down (connection reset)', { kind: 'reset' } as const],
  ['rate limiting (429)', { kind: 'status', status: 429, retryAfter: '1' } as const],
  ['answering a malformed vault list', { kind: 'malformed' } as const],
])('Connect %s during a check', (_name, spec) => {
  test('serves the held values, reports them stale, and recovers at a later check', async () => {
    const stale = jest.fn();
    const store = await settledStore({ stale });
    connect.addFault({ method: 'GET', path: VAULT_LIST, spec });
    offset += INTERVAL;

    await expect(store.get()).resolves.toEqual({ CURRENT: VALUES.current, PREVIOUS: VALUES.previous, DATABASE_URL: VALUES.url });
    expect(stale).toHaveBeenCalledTimes(3);

    connect.clearFaults();
    connect.resetRequests();
    offset += 2000;
    await store.get();
    expect(counts()).toEqual({ vaultList: 1, itemList: 0, itemGet: 0, total: 1 });
  });
});

test('a rotation during an outage is used at the first check after Connect is back', async () => {
  const store = await settledStore();
  connect.addFault({ path: /^\/v1\//, spec: { kind: 'reset' } });
  offset += INTERVAL;
  await store.get();
  const rotated = 'postgres://reval:rotated-during-outage@db/app';
  connect.setField('data', 'database', 'url', rotated);
  connect.clearFaults();
  offset += 2000;
  await expect(store.get('DATABASE_URL')).resolves.toBe(rotated);
});

test('a forced refresh during an outage makes a single attempt, then waits out the hold without a request', async () => {
  const store = await settledStore();
  connect.addFault({ path: /^\/v1\//, spec: { kind: 'status', status: 503 } });
  for (let miss = 0; miss < 10; miss++) await expect(store.refresh('CURRENT')).rejects.toBeInstanceOf(SecretsUnavailableError);
  expect(counts().total).toBe(1);
});
