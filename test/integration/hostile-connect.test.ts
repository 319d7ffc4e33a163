// A compromised (or impersonated) Connect server, played by the real local Connect server serving
// hostile answers: ids that are paths, values that are not strings, huge bodies on many items at
// once, redirects. Each case proves a typed, clear error naming the reference, no request to any
// path but the expected ones (the server's request log), no value or token in what the caller
// sees, and, for sizes, the bytes the transport read.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectSource, type ConnectSourceOptions } from '../../shared/secrets/connect/connect-source';
import { ConnectRestClient } from '../../shared/secrets/connect/rest-client';
import type { ConnectOutcome } from '../../shared/secrets/connect/resolution';
import type { ConnectError } from '../../shared/secrets/errors';
import type { FetchReport } from '../../shared/secrets/source';
import { parseReference } from '../../shared/secrets/reference';
import { startConnectServer, type ConnectItemJson, type ConnectSeed, type LocalConnect } from '../../local/connect/server';
import { collectSecretValues, expectNoLeaks } from '../helpers/leak-scan';

const OTP_URI = 'otpauth://totp/Example:octo?secret=JBSWY3DPEHPK3PXPHOSTILE&issuer=Example';
const MANY = ['one', 'two', 'three', 'four', 'five', 'six'] as const;

const SEED: ConnectSeed = {
  tokens: [{ name: 'reader', token: 'opl-hostile-read-w3e8r1t6y0u4', vaults: ['*'] }],
  vaults: [
    {
      name: 'Payments',
      items: [
        {
          title: 'Stripe',
          category: 'API_CREDENTIAL',
          fields: [
            { label: 'credential', type: 'CONCEALED', value: 'HOSTILESEED-stripe-key-5c2e9a' },
            { label: 'publishable', value: 'HOSTILESEED-stripe-pub-1d7f3b' },
          ],
        },
        { title: 'GitHub', category: 'LOGIN', fields: [{ label: 'one-time password', type: 'OTP', value: OTP_URI }] },
        ...MANY.map((name) => ({
          title: `Item ${name}`,
          category: 'PASSWORD',
          fields: [{ label: 'password', type: 'CONCEALED', value: `HOSTILESEED-item-${name}-8b4a0c` }],
        })),
      ],
    },
    { name: 'Elsewhere', items: [{ title: 'Other', category: 'PASSWORD', fields: [{ label: 'password', type: 'CONCEALED', value: 'HOSTILESEED-other-3a9d6e' }] }] },
  ],
};
const SECRETS = collectSecretValues(SEED);

const HOSTILE_IDS = ['..', '../../v1/vaults', '../items', '%2e%2e', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'] as const;
const ITEM_GET = /^\/v1\/vaults\/[^/]+\/items\/[^/]+$/;

let connect: LocalConnect;

beforeAll(async () => {
  connect = await startConnectServer({ port: 0, seed: SEED });
});

afterAll(async () => {
  await connect.close();
});

beforeEach(() => {
  connect.clearFaults();
  connect.resetRequests();
});

function source(options: Partial<ConnectSourceOptions> = {}): ConnectSource {
  return new ConnectSource({ host: connect.url, token: connect.tokens['reader']!, backoffBaseMs: 1, ...options });
}

interface Run extends ConnectOutcome {
  events: FetchReport[];
}

async function resolve(target: ConnectSource, references: readonly string[]): Promise<Run> {
  const events: FetchReport[] = [];
  const outcome = await target.resolve(references.map(parseReference), { deadline: Date.now() + 10_000, onFetch: (event) => events.push(event) });
  return { ...outcome, events };
}

function errorOf(outcome: ConnectOutcome, reference: string): ConnectError | undefined {
  return outcome.errors.get(parseReference(reference).key);
}

/** Everything of a run a caller could log: errors (message, causes, JSON) and fetch reports. */
function expectNothingLeaked(outcome: Run): void {
  const texts: string[] = [];
  for (const error of outcome.errors.values()) {
    texts.push(error.message, String(error.stack), JSON.stringify(error));
    for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) texts.push(cause.message);
  }
  texts.push(...outcome.events.map((event) => JSON.stringify(event)));
  expect(texts.length).toBeGreaterThan(0);
  expectNoLeaks({ 'errors and fetch reports': texts }, SECRETS);
}

function paths(): string[] {
  return connect.requests.map((request) => request.path);
}

function item(vault: string, title: string): ConnectItemJson {
  return connect.getItem(vault, title);
}

function itemPath(json: ConnectItemJson): string {
  return `/v1/vaults/${json.vault.id}/items/${json.id}`;
}

function byId(json: ConnectItemJson, field: string): string {
  return `op://${json.vault.id}/${json.id}/${field}`;
}

/** Rewrites the objects of a JSON list whose `key` is `value`. */
function rewriteListed(key: string, value: string, change: Record<string, unknown>): (body: unknown) => unknown {
  return (body) => (body as Record<string, unknown>[]).map((entry) => (entry[key] === value ? { ...entry, ...change } : entry));
}

function rewriteField(label: string, change: Record<string, unknown>): (body: unknown) => unknown {
  return (body) => {
    const json = body as { fields: Record<string, unknown>[] };
    return { ...json, fields: json.fields.map((field) => (field['label'] === label ? { ...field, ...change } : field)) };
  };
}

describe('ids from Connect must be 1Password ids before they go into a path', () => {
  it.each(HOSTILE_IDS)('a vault listed with id %j fails the reference, and no request leaves for another path', async (hostile) => {
    connect.addFault({ method: 'GET', path: '/v1/vaults', spec: { kind: 'tamper', edit: rewriteListed('name', 'Payments', { id: hostile }) } });
    const outcome = await resolve(source(), ['op://Payments/Stripe/credential']);
    expect(errorOf(outcome, 'op://Payments/Stripe/credential')).toMatchObject({
      code: 'INVALID_RESPONSE',
      retryable: false,
      reference: 'op://Payments/Stripe/credential',
      message: "Connect's vault list holds an id that is not a 1Password id (op://Payments/Stripe/credential)",
    });
    expect(paths()).toEqual(['/v1/vaults']);
    expectNothingLeaked(outcome);
  });

  it.each(HOSTILE_IDS)('an item listed with id %j fails the reference, and no request leaves for another path', async (hostile) => {
    const vaultId = item('Payments', 'Stripe').vault.id;
    const itemList = `/v1/vaults/${vaultId}/items`;
    connect.addFault({ method: 'GET', path: itemList, spec: { kind: 'tamper', edit: rewriteListed('title', 'Stripe', { id: hostile }) } });
    const outcome = await resolve(source(), ['op://Payments/Stripe/credential']);
    expect(errorOf(outcome, 'op://Payments/Stripe/credential')).toMatchObject({
      code: 'INVALID_RESPONSE',
      retryable: false,
      message: "Connect's item list holds an id that is not a 1Password id (op://Payments/Stripe/credential)",
    });
    expect(paths()).toEqual(['/v1/vaults', itemList]);
    expectNothingLeaked(outcome);
  });

  it('the REST client of the operations functions refuses a listed id that is not a 1Password id too', async () => {
    connect.addFault({ method: 'GET', path: '/v1/vaults', spec: { kind: 'tamper', edit: rewriteListed('name', 'Payments', { id: '..' }) } });
    const client = new ConnectRestClient({ host: connect.url, token: connect.tokens['reader']! });
    await expect(client.vaultId('Payments', Date.now() + 5_000)).rejects.toMatchObject({ code: 'INVALID_RESPONSE', retryable: false });
    expect(paths()).toEqual(['/v1/vaults']);
  });

  it('an item body naming another id, or another vault, is refused: its values are not taken', async () => {
    const stripe = item('Payments', 'Stripe');
    const other = item('Elsewhere', 'Other');
    connect.addFault({ method: 'GET', path: itemPath(stripe), times: 1, spec: { kind: 'tamper', edit: (body) => ({ ...(body as object), id: '..' }) } });
    const wrongId = await resolve(source(), [byId(stripe, 'credential')]);
    expect(errorOf(wrongId, byId(stripe, 'credential'))).toMatchObject({ code: 'INVALID_RESPONSE', retryable: false, detail: 'Connect returned an item other than the one requested' });
    connect.addFault({ method: 'GET', path: itemPath(stripe), times: 1, spec: { kind: 'tamper', edit: (body) => ({ ...(body as object), vault: { id: other.vault.id } }) } });
    const wrongVault = await resolve(source(), [byId(stripe, 'credential')]);
    expect(errorOf(wrongVault, byId(stripe, 'credential'))).toMatchObject({ code: 'INVALID_RESPONSE', detail: 'Connect returned an item of another vault than the one requested' });
    expect(wrongId.values.size + wrongVault.values.size).toBe(0);
    expect(paths()).toEqual([itemPath(stripe), itemPath(stripe)]);
    expectNothingLeaked(wrongId);
    expectNothingLeaked(wrongVault);
  });

  it('a field label that is not a string fails the item cleanly instead of crashing the match', async () => {
    const stripe = item('Payments', 'Stripe');
    connect.addFault({ method: 'GET', path: itemPath(stripe), spec: { kind: 'tamper', edit: rewriteField('publishable', { label: 7 }) } });
    const outcome = await resolve(source(), ['op://Payments/Stripe/credential']);
    expect(errorOf(outcome, 'op://Payments/Stripe/credential')).toMatchObject({ code: 'INVALID_RESPONSE', detail: 'Connect returned an item whose fields or sections are malformed' });
    expectNothingLeaked(outcome);
  });
});

describe('a field value that is not a string is never the secret', () => {
  const hostileValues: [string, unknown][] = [
    ['a number', 42],
    ['an object holding another secret', { value: 'HOSTILESEED-other-3a9d6e' }],
    ['an array', ['HOSTILESEED-stripe-pub-1d7f3b']],
    ['null', null],
    ['a boolean', true],
  ];

  it.each(hostileValues)('%s: INVALID_RESPONSE for that reference; the item\'s string fields still resolve', async (_name, hostile) => {
    const stripe = item('Payments', 'Stripe');
    connect.addFault({ method: 'GET', path: itemPath(stripe), spec: { kind: 'tamper', edit: rewriteField('credential', { value: hostile }) } });
    const outcome = await resolve(source(), [byId(stripe, 'credential'), byId(stripe, 'publishable')]);
    expect(errorOf(outcome, byId(stripe, 'credential'))).toMatchObject({
      code: 'INVALID_RESPONSE',
      retryable: false,
      message: `Connect returned a field value that is not a string (${byId(stripe, 'credential')})`,
    });
    expect(outcome.values.get(parseReference(byId(stripe, 'publishable')).key)?.value).toBe('HOSTILESEED-stripe-pub-1d7f3b');
    expect(paths()).toEqual([itemPath(stripe)]);
    expectNothingLeaked(outcome);
  });

  it.each([['letters', 'abc123'], ['spaced digits', '123 456'], ['a number', 123456], ['too many digits', '12345678901']] as const)(
    'a one-time code of %s is INVALID_RESPONSE, never handed over as the code',
    async (_name, hostile) => {
      const github = item('Payments', 'GitHub');
      const reference = `${byId(github, 'one-time password')}?attribute=otp`;
      connect.addFault({ method: 'GET', path: itemPath(github), spec: { kind: 'tamper', edit: rewriteField('one-time password', { totp: hostile }) } });
      const outcome = await resolve(source(), [reference]);
      expect(errorOf(outcome, reference)).toMatchObject({ code: 'INVALID_RESPONSE', detail: 'Connect returned a one-time code that is not 6 to 10 digits' });
      expect(outcome.values.size).toBe(0);
      expectNothingLeaked(outcome);
    },
  );
});

describe('one resolve reads at most its byte budget, all responses together', () => {
  /** A read is abandoned on the chunk that crosses the budget: a socket hands over at most 64 KiB at once. */
  const CHUNK = 64 * 1024;
  const MIB = 1024 * 1024;
  const references = (): string[] => MANY.map((name) => byId(item('Payments', `Item ${name}`), 'password'));
  const itemPaths = (): string[] => MANY.map((name) => itemPath(item('Payments', `Item ${name}`)));

  it('six items answering 4 MiB each (no Content-Length) at once: the reads stop near 1 MiB in all, every reference fails', async () => {
    connect.addFault({ method: 'GET', path: ITEM_GET, spec: { kind: 'oversized', bytes: 4 * MIB } });
    const outcome = await resolve(source({ maxBytesPerResolve: MIB, concurrency: 6 }), references());
    expect(outcome.bytesRead).toBeGreaterThan(MIB);
    expect(outcome.bytesRead).toBeLessThanOrEqual(MIB + MANY.length * CHUNK);
    for (const reference of references()) {
      expect(errorOf(outcome, reference)).toMatchObject({
        code: 'INVALID_RESPONSE',
        retryable: false,
        status: 200,
        message: `Connect's answers to one resolve exceeded its budget of ${MIB} bytes (${reference})`,
      });
    }
    // No retries of an answer that would be as large again, and no other path.
    expect(paths().length).toBeLessThanOrEqual(MANY.length);
    expect(itemPaths()).toEqual(expect.arrayContaining(paths()));
    expectNothingLeaked(outcome);
  });

  it('with the default budget (8 MiB), six 4 MiB answers are cut off near 8 MiB, not read to 24 MiB', async () => {
    connect.addFault({ method: 'GET', path: ITEM_GET, spec: { kind: 'oversized', bytes: 4 * MIB } });
    const outcome = await resolve(source({ concurrency: 6 }), references());
    expect(outcome.bytesRead).toBeLessThanOrEqual(8 * MIB + MANY.length * CHUNK);
    expect(outcome.errors.size).toBe(MANY.length);
    expectNothingLeaked(outcome);
  });

  it('an answer whose Content-Length is over what is left of the budget is not read at all', async () => {
    connect.addFault({ method: 'GET', path: ITEM_GET, spec: { kind: 'oversized', bytes: 2 * MIB, declareLength: true } });
    const [first] = references();
    const outcome = await resolve(source({ maxBytesPerResolve: MIB }), [first!]);
    expect(outcome.bytesRead).toBe(0);
    expect(errorOf(outcome, first!)).toMatchObject({ code: 'INVALID_RESPONSE', retryable: false });
    expect(paths()).toHaveLength(1);
  });

  it('ordinary answers stay far below the budget and resolve', async () => {
    const outcome = await resolve(source({ maxBytesPerResolve: 64 * 1024 }), [...references(), 'op://Payments/Stripe/credential']);
    expect(outcome.errors.size).toBe(0);
    expect(outcome.bytesRead).toBeGreaterThan(0);
    expect(outcome.bytesRead).toBeLessThan(16 * 1024);
  });
});

describe('redirects from Connect are not followed', () => {
  let elsewhere: Server;
  let elsewhereUrl: string;
  const elsewhereHits: string[] = [];

  beforeAll(async () => {
    elsewhere = createServer((request, response) => {
      elsewhereHits.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((listening) => elsewhere.listen(0, '127.0.0.1', listening));
    elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    elsewhere.closeAllConnections();
    await new Promise<void>((closed) => elsewhere.close(() => closed()));
  });

  it.each([301, 302, 303, 307, 308] as const)('a %i to another origin is INVALID_RESPONSE; that origin sees nothing', async (status) => {
    const stripe = item('Payments', 'Stripe');
    elsewhereHits.length = 0;
    connect.addFault({ method: 'GET', path: itemPath(stripe), spec: { kind: 'redirect', status, location: `${elsewhereUrl}${itemPath(stripe)}` } });
    const outcome = await resolve(source({ maxAttempts: 2 }), [byId(stripe, 'credential')]);
    expect(errorOf(outcome, byId(stripe, 'credential'))).toMatchObject({ code: 'INVALID_RESPONSE', status });
    expect(elsewhereHits).toEqual([]);
    expect(new Set(paths())).toEqual(new Set([itemPath(stripe)]));
    expectNothingLeaked(outcome);
  });

  it('a redirect to another item of the same server is not followed either', async () => {
    const stripe = item('Payments', 'Stripe');
    const other = item('Elsewhere', 'Other');
    connect.addFault({ method: 'GET', path: itemPath(stripe), spec: { kind: 'redirect', status: 307, location: itemPath(other) } });
    const outcome = await resolve(source({ maxAttempts: 1 }), [byId(stripe, 'credential')]);
    expect(errorOf(outcome, byId(stripe, 'credential'))).toMatchObject({ code: 'INVALID_RESPONSE', status: 307 });
    expect(paths()).toEqual([itemPath(stripe)]);
    expectNothingLeaked(outcome);
  });
});
