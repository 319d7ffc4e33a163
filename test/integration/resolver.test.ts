// The Connect resolver over real HTTP against the local Connect server: request counts, matching,
// every fault kind, deadlines, and no value or token in any error.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OnePasswordConnect } from '@1password/connect';
import { ConnectSource, type ConnectSourceOptions } from '../../shared/secrets/connect/connect-source';
import type { ConnectOutcome } from '../../shared/secrets/connect/resolution';
import type { ConnectTokenSource } from '../../shared/secrets/connect/token-source';
import type { FetchReport, ResolveOptions } from '../../shared/secrets/source';
import { ConnectError } from '../../shared/secrets/errors';
import { toConnectError } from '../../shared/secrets/connect/connect-errors';
import { parseReference } from '../../shared/secrets/reference';
import { currentTotp, startConnectServer, type ConnectSeed, type LocalConnect } from '../../local/connect/server';

const OTP_URI = 'otpauth://totp/Example:octo?secret=JBSWY3DPEHPK3PXPSEEDSECRET&issuer=Example';
const ID_TITLE = 'abcdefghijklmnopqrstuvwxyz';
const ID_VAULT_TITLE = 'zyxwvutsrqponmlkjihgfedcba';
const SPECIAL_TITLE = 'R&D #1 + 100%';
const FIELD_ID = 'fieldidfieldidfieldidfield';

/** Every secret value in the seed: none may ever appear in an error. */
const V = {
  stripeTop: 'SEEDVALUE-stripe-top-4f9c2e',
  stripeLive: 'SEEDVALUE-stripe-live-8a1d7b',
  stripeTest: 'SEEDVALUE-stripe-test-3c6e0f',
  stripePub: 'SEEDVALUE-stripe-pub-9b2a4d',
  stripeWebhook: 'SEEDVALUE-stripe-webhook-1e8f5c',
  special: 'SEEDVALUE-special-title-6d3b9a',
  idTitle: 'SEEDVALUE-id-shaped-title-2f7c1e',
  username: 'SEEDVALUE-octo-user-5a0e8d',
  pgUrl: 'SEEDVALUE-postgres-url-7c4b2f',
  pgPassword: 'SEEDVALUE-postgres-password-0d9e6a',
  redisUrl: 'SEEDVALUE-redis-url-4e1a7c',
  idVault: 'SEEDVALUE-id-shaped-vault-8f3d0b',
  twinA: 'SEEDVALUE-twin-a-1b6c9e',
  twinB: 'SEEDVALUE-twin-b-7d2f4a',
  clashA: 'SEEDVALUE-clash-a-3e8b1d',
  clashB: 'SEEDVALUE-clash-b-9c5a2f',
  innerOne: 'SEEDVALUE-inner-one-6f0d3b',
  innerTwo: 'SEEDVALUE-inner-two-2a7e9c',
  dupSection: 'SEEDVALUE-dup-section-5b1c8f',
  byId: 'SEEDVALUE-by-id-0e4f7a',
  byLabel: 'SEEDVALUE-by-label-8d2b6c',
  plain: 'SEEDVALUE-not-otp-3f9a1e',
  staging: 'SEEDVALUE-staging-7a5c0d',
  otpUri: OTP_URI,
} as const;

const SEED: ConnectSeed = {
  tokens: [
    { name: 'dev-read', token: 'opl-test-read-k2v8q4m1x7c9z3b5n6', vaults: ['*'] },
    { name: 'dev-write', token: 'opl-test-write-p9d3f7h1j5l2r8t4w6', vaults: ['*'], write: true },
    { name: 'staging-only', token: 'opl-test-staging-s4g8k2m6q0u3y7b1', vaults: ['Staging'] },
  ],
  vaults: [
    {
      name: 'Payments',
      items: [
        {
          title: 'Stripe',
          category: 'API_CREDENTIAL',
          sections: [{ label: 'live' }, { label: 'test' }],
          fields: [
            { label: 'credential', type: 'CONCEALED', value: V.stripeTop },
            { label: 'credential', type: 'CONCEALED', section: 'live', value: V.stripeLive },
            { label: 'credential', type: 'CONCEALED', section: 'test', value: V.stripeTest },
            { label: 'publishable key', section: 'live', value: V.stripePub },
            { label: 'Webhook Secret', type: 'CONCEALED', value: V.stripeWebhook },
          ],
        },
        { title: SPECIAL_TITLE, category: 'PASSWORD', fields: [{ label: 'password', type: 'CONCEALED', value: V.special }] },
        { title: ID_TITLE, category: 'PASSWORD', fields: [{ label: 'token', type: 'CONCEALED', value: V.idTitle }] },
        {
          title: 'GitHub',
          category: 'LOGIN',
          fields: [
            { label: 'username', purpose: 'USERNAME', value: V.username },
            { label: 'one-time password', type: 'OTP', value: V.otpUri },
            { label: 'plain', value: V.plain },
          ],
        },
        { title: 'Twins', category: 'PASSWORD', fields: [{ label: 'password', value: V.twinA }] },
        { title: 'twins', category: 'PASSWORD', fields: [{ label: 'password', value: V.twinB }] },
        {
          title: 'Clashes',
          category: 'API_CREDENTIAL',
          sections: [{ label: 'one' }, { label: 'two' }, { label: 'Dup' }, { label: 'dup' }],
          fields: [
            { label: 'api key', value: V.clashA },
            { label: 'API KEY', value: V.clashB },
            { label: 'inner', section: 'one', value: V.innerOne },
            { label: 'inner', section: 'two', value: V.innerTwo },
            { label: 'x', section: 'Dup', value: V.dupSection },
          ],
        },
        {
          title: 'Precedence',
          category: 'API_CREDENTIAL',
          fields: [
            { id: FIELD_ID, label: 'primary', value: V.byId },
            { label: FIELD_ID, value: V.byLabel },
          ],
        },
      ],
    },
    {
      name: 'Database',
      items: [
        {
          title: 'postgres',
          category: 'DATABASE',
          fields: [
            { label: 'url', value: V.pgUrl },
            { label: 'password', type: 'CONCEALED', value: V.pgPassword },
          ],
        },
        { title: 'redis', category: 'DATABASE', fields: [{ label: 'url', value: V.redisUrl }] },
      ],
    },
    { name: ID_VAULT_TITLE, items: [{ title: 'app', category: 'PASSWORD', fields: [{ label: 'key', value: V.idVault }] }] },
    { name: 'Staging', items: [{ title: 'stripe', category: 'API_CREDENTIAL', fields: [{ label: 'credential', value: V.staging }] }] },
  ],
};

const ITEM_GET = /^\/v1\/vaults\/[^/]+\/items\/[^/]+$/;
const ITEM_INDEX = /^\/v1\/vaults\/[^/]+\/items$/;
const VAULT_INDEX = '/v1/vaults';

let connect: LocalConnect;
/** Every error and event any test saw, scanned for values and tokens at the end. */
const captured: unknown[] = [];

beforeAll(async () => {
  connect = await startConnectServer({ port: 0, seed: SEED });
});

afterAll(async () => {
  await connect.close();
});

beforeEach(() => {
  connect.clearFaults();
  connect.setLatency(0);
  connect.resetRequests();
});

function resolver(options: Partial<ConnectSourceOptions> = {}): ConnectSource {
  return new ConnectSource({ host: connect.url, token: connect.tokens['dev-read']!, backoffBaseMs: 5, ...options });
}

interface Run extends ConnectOutcome {
  events: FetchReport[];
}

async function run(target: ConnectSource, references: readonly string[], options: Partial<ResolveOptions> = {}): Promise<Run> {
  const events: FetchReport[] = [];
  const outcome = await target.resolve(references.map(parseReference), {
    deadline: Date.now() + 10_000,
    onFetch: (event) => events.push(event),
    ...options,
  });
  captured.push(...outcome.errors.values(), ...events);
  // Every requested reference is in exactly one map.
  const keys = new Set(references.map((reference) => parseReference(reference).key));
  expect(new Set([...outcome.values.keys(), ...outcome.errors.keys()])).toEqual(keys);
  for (const key of outcome.values.keys()) expect(outcome.errors.has(key)).toBe(false);
  return { ...outcome, events };
}

function valueOf(outcome: ConnectOutcome, reference: string): string | undefined {
  return outcome.values.get(parseReference(reference).key)?.value;
}

function errorOf(outcome: ConnectOutcome, reference: string): ConnectError | undefined {
  return outcome.errors.get(parseReference(reference).key);
}

function counts(): { vaultIndex: number; itemIndex: number; itemGets: number; total: number } {
  return {
    vaultIndex: connect.countRequests({ method: 'GET', path: VAULT_INDEX }),
    itemIndex: connect.countRequests({ method: 'GET', path: ITEM_INDEX }),
    itemGets: connect.countRequests({ method: 'GET', path: ITEM_GET }),
    total: connect.requests.length,
  };
}

/** op://<vault id>/<item id>/<field> for a seeded item. */
function byId(vault: string, item: string, field: string): string {
  const json = connect.getItem(vault, item);
  return `op://${json.vault.id}/${json.id}/${field}`;
}

const TEN_BY_NAME = [
  'op://Payments/Stripe/credential',
  'op://payments/stripe/live/credential',
  'op://Payments/Stripe/test/credential',
  'op://Payments/Stripe/publishable key',
  'op://Payments/Stripe/webhook secret',
  'op://Payments/GitHub/username',
  'op://Payments/GitHub/one-time password?attribute=otp',
  'op://Database/postgres/url',
  'op://DATABASE/Postgres/password',
  'op://Database/redis/url',
];

describe('request counts', () => {
  it('10 references in 4 items across 2 vaults by name: 1 vault index + 2 item indexes + 4 item GETs', async () => {
    const outcome = await run(resolver(), TEN_BY_NAME);
    expect(outcome.errors.size).toBe(0);
    expect(outcome.values.size).toBe(10);
    expect(counts()).toEqual({ vaultIndex: 1, itemIndex: 2, itemGets: 4, total: 7 });
    expect(valueOf(outcome, 'op://Payments/Stripe/credential')).toBe(V.stripeTop);
    expect(valueOf(outcome, 'op://Database/postgres/password')).toBe(V.pgPassword);
    expect(valueOf(outcome, 'op://Database/redis/url')).toBe(V.redisUrl);
  });

  it('the same references by ID cost exactly one GET per item and nothing else', async () => {
    const references = [
      byId('Payments', 'Stripe', 'credential'),
      byId('Payments', 'Stripe', 'live/credential'),
      byId('Payments', 'Stripe', 'test/credential'),
      byId('Payments', 'Stripe', 'publishable key'),
      byId('Payments', 'Stripe', 'webhook secret'),
      byId('Payments', 'GitHub', 'username'),
      `${byId('Payments', 'GitHub', 'one-time password')}?attribute=otp`,
      byId('Database', 'postgres', 'url'),
      byId('Database', 'postgres', 'password'),
      byId('Database', 'redis', 'url'),
    ];
    const outcome = await run(resolver(), references);
    expect(outcome.errors.size).toBe(0);
    expect(counts()).toEqual({ vaultIndex: 0, itemIndex: 0, itemGets: 4, total: 4 });
    expect(valueOf(outcome, references[1]!)).toBe(V.stripeLive);
  });

  it('a second resolve with the same resolver reuses the indexes: only the item GETs again', async () => {
    const shared = resolver();
    await run(shared, TEN_BY_NAME);
    connect.resetRequests();
    const again = await run(shared, TEN_BY_NAME);
    expect(again.values.size).toBe(10);
    expect(counts()).toEqual({ vaultIndex: 0, itemIndex: 0, itemGets: 4, total: 4 });
  });

  it('forget() forgets the indexes', async () => {
    const shared = resolver();
    await run(shared, ['op://Payments/Stripe/credential']);
    shared.forget();
    connect.resetRequests();
    await run(shared, ['op://Payments/Stripe/credential']);
    expect(counts()).toEqual({ vaultIndex: 1, itemIndex: 1, itemGets: 1, total: 3 });
  });

  it('one GET for an item named both by title and by ID in one batch, and one entry per key', async () => {
    const outcome = await run(resolver(), [
      'op://Payments/Stripe/credential',
      'op://PAYMENTS/STRIPE/CREDENTIAL',
      byId('Payments', 'Stripe', 'webhook secret'),
    ]);
    expect(outcome.values.size).toBe(2);
    expect(counts().itemGets).toBe(1);
    expect(outcome.events).toHaveLength(1);
  });

  it('a vault by ID needs no vault index; an item by ID needs no item index', async () => {
    const stripe = connect.getItem('Payments', 'Stripe');
    const redis = connect.getItem('Database', 'redis');
    const outcome = await run(resolver(), [`op://${stripe.vault.id}/Stripe/credential`, `op://Database/${redis.id}/url`]);
    expect(outcome.errors.size).toBe(0);
    expect(counts()).toEqual({ vaultIndex: 1, itemIndex: 1, itemGets: 2, total: 4 });
    expect(connect.countRequests({ path: `/v1/vaults/${stripe.vault.id}/items` })).toBe(1);
  });

  it('concurrent resolves on one resolver share the index loads', async () => {
    const shared = resolver();
    const [first, second] = await Promise.all([run(shared, TEN_BY_NAME.slice(0, 5)), run(shared, TEN_BY_NAME.slice(5))]);
    expect(first.values.size + second.values.size).toBe(10);
    expect(counts()).toEqual({ vaultIndex: 1, itemIndex: 2, itemGets: 4, total: 7 });
  });

  it('reports one fetch event per item GET, with the keys it served, ids, version and attempts', async () => {
    const outcome = await run(resolver(), TEN_BY_NAME);
    expect(outcome.events).toHaveLength(4);
    const stripe = connect.getItem('Payments', 'Stripe');
    const event = outcome.events.find((candidate) => candidate.itemId === stripe.id)!;
    expect(event).toMatchObject({ vaultId: stripe.vault.id, itemVersion: stripe.version, attempts: 1, outcome: 'success' });
    expect([...event.references].sort()).toEqual(TEN_BY_NAME.slice(0, 5).map((reference) => parseReference(reference).key).sort());
    expect(event.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('an onFetch observer that throws changes nothing', async () => {
    const outcome = await resolver().resolve([parseReference('op://Database/redis/url')], {
      deadline: Date.now() + 5_000,
      onFetch: () => {
        throw new Error('observer failed');
      },
    });
    expect(outcome.values.size).toBe(1);
  });

  it('caps requests in flight at `concurrency`', async () => {
    const spans: { start: number; end: number }[] = [];
    const observed = await startConnectServer({
      port: 0,
      seed: SEED,
      latencyMs: 100,
      onRequestLogged: (entry, durationMs) => spans.push({ start: entry.at, end: entry.at + durationMs }),
    });
    try {
      const capped = new ConnectSource({ host: observed.url, token: observed.tokens['dev-read']!, concurrency: 2 });
      const references = TEN_BY_NAME.map((reference) => {
        const parsed = parseReference(reference);
        const item = observed.getItem(parsed.vault, parsed.item);
        return `op://${item.vault.id}/${item.id}/${reference.split('/').slice(4).join('/')}`;
      });
      const outcome = await capped.resolve(references.map(parseReference), { deadline: Date.now() + 20_000 });
      expect(outcome.values.size).toBe(10);
      expect(spans).toHaveLength(4);
      // At the start of each request, how many were in flight (a 2 ms allowance for clock granularity)?
      const inFlight = spans.map((span) => spans.filter((other) => other.start <= span.start && span.start < other.end - 2).length);
      expect(Math.max(...inFlight)).toBeLessThanOrEqual(2);
    } finally {
      await observed.close();
    }
  });
});

describe('matching', () => {
  it('resolves titles with & # + % through %XX references, case-insensitively', async () => {
    const outcome = await run(resolver(), ['op://Payments/R%26D %231 %2B 100%25/password', 'op://payments/r%26d %231 %2b 100%25/PASSWORD']);
    expect(valueOf(outcome, 'op://Payments/R%26D %231 %2B 100%25/password')).toBe(V.special);
    expect(outcome.values.size).toBe(1);
  });

  it('resolves a 26-char lowercase item TITLE: the GET by id 404s, then the title index finds it', async () => {
    const outcome = await run(resolver(), [`op://Payments/${ID_TITLE}/token`]);
    expect(valueOf(outcome, `op://Payments/${ID_TITLE}/token`)).toBe(V.idTitle);
    expect(counts()).toEqual({ vaultIndex: 1, itemIndex: 1, itemGets: 2, total: 4 });
  });

  it('resolves a 26-char lowercase vault TITLE: its item list 404s, then the vault index finds it', async () => {
    const outcome = await run(resolver(), [`op://${ID_VAULT_TITLE}/app/key`]);
    expect(valueOf(outcome, `op://${ID_VAULT_TITLE}/app/key`)).toBe(V.idVault);
    expect(counts()).toEqual({ vaultIndex: 1, itemIndex: 2, itemGets: 1, total: 4 });
  });

  it('prefers a field outside sections, and reads fields inside a section named by label or id', async () => {
    const sectionId = connect.getItem('Payments', 'Stripe').sections!.find((section) => section.label === 'test')!.id;
    const references = ['op://Payments/Stripe/credential', 'op://Payments/Stripe/LIVE/credential', `op://Payments/Stripe/${sectionId}/credential`];
    const outcome = await run(resolver(), references);
    expect(references.map((reference) => valueOf(outcome, reference))).toEqual([V.stripeTop, V.stripeLive, V.stripeTest]);
    expect(valueOf(await run(resolver(), ['op://Payments/Stripe/publishable key']), 'op://Payments/Stripe/publishable key')).toBe(V.stripePub);
  });

  it('matches a field by id before label, and reports ids and the item version', async () => {
    const item = connect.getItem('Payments', 'Precedence');
    const outcome = await run(resolver(), [`op://Payments/Precedence/${FIELD_ID}`, 'op://Payments/Precedence/PRIMARY']);
    const byFieldId = outcome.values.get(parseReference(`op://Payments/Precedence/${FIELD_ID}`).key)!;
    expect(byFieldId).toMatchObject({ value: V.byId, fieldId: FIELD_ID, itemId: item.id, vaultId: item.vault.id, itemVersion: item.version });
    expect(valueOf(outcome, 'op://Payments/Precedence/primary')).toBe(V.byId);
  });

  it('reads the current one-time code of an OTP field with ?attribute=otp, and the otpauth URI without', async () => {
    const reference = 'op://Payments/GitHub/one-time password?attribute=totp';
    const before = currentTotp(V.otpUri, Date.now());
    const outcome = await run(resolver(), [reference, 'op://Payments/GitHub/one-time password']);
    const after = currentTotp(V.otpUri, Date.now());
    expect([before, after]).toContain(valueOf(outcome, reference));
    expect(valueOf(outcome, reference)).toMatch(/^\d{6}$/);
    expect(valueOf(outcome, 'op://Payments/GitHub/one-time password')).toBe(V.otpUri);
  });

  it('reports ambiguity and absence as permanent errors naming the reference', async () => {
    const cases: [string, string][] = [
      ['op://Payments/twins/password', 'AMBIGUOUS'],
      ['op://Payments/Clashes/api key', 'AMBIGUOUS'],
      ['op://Payments/Clashes/inner', 'AMBIGUOUS'],
      ['op://Payments/Clashes/dup/x', 'AMBIGUOUS'],
      ['op://Payments/Stripe/missing', 'FIELD_NOT_FOUND'],
      ['op://Payments/Stripe/nosuchsection/credential', 'FIELD_NOT_FOUND'],
      ['op://Payments/GitHub/plain?attribute=otp', 'FIELD_NOT_FOUND'],
      ['op://Payments/No Such Item/password', 'NOT_FOUND'],
      ['op://No Such Vault/Stripe/credential', 'NOT_FOUND'],
    ];
    const outcome = await run(resolver(), cases.map(([reference]) => reference));
    for (const [reference, code] of cases) {
      const error = errorOf(outcome, reference);
      expect(error).toBeInstanceOf(ConnectError);
      expect(error).toMatchObject({ code, retryable: false, reference });
      expect(error!.message).toContain(reference);
    }
    expect(outcome.values.size).toBe(0);
  });

  it('resolves within the named section even where the field name is ambiguous across sections', async () => {
    const outcome = await run(resolver(), ['op://Payments/Clashes/one/inner', 'op://Payments/Clashes/TWO/inner']);
    expect(valueOf(outcome, 'op://Payments/Clashes/one/inner')).toBe(V.innerOne);
    expect(valueOf(outcome, 'op://Payments/Clashes/two/inner')).toBe(V.innerTwo);
  });

  it('sees a rotated value (and the new item version) on the next resolve', async () => {
    const shared = resolver();
    const first = await run(shared, ['op://Database/redis/url']);
    const version = first.values.get(parseReference('op://Database/redis/url').key)!.itemVersion;
    const rotated = 'SEEDVALUE-redis-url-rotated-9e2d';
    connect.setField('Database', 'redis', 'url', rotated);
    try {
      const second = await run(shared, ['op://Database/redis/url']);
      expect(second.values.get(parseReference('op://Database/redis/url').key)).toMatchObject({ value: rotated, itemVersion: version + 1 });
    } finally {
      connect.setField('Database', 'redis', 'url', V.redisUrl);
    }
  });

  it('reloads an item index learnt by an earlier resolve when a title is missing from it', async () => {
    const shared = resolver();
    await run(shared, ['op://Database/postgres/url']);
    const vaultId = connect.getItem('Database', 'postgres').vault.id;
    const created = await fetch(`${connect.url}/v1/vaults/${vaultId}/items`, {
      method: 'POST',
      headers: { authorization: `Bearer ${connect.tokens['dev-write']!}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'created later', category: 'PASSWORD', vault: { id: vaultId }, fields: [{ label: 'password', value: 'SEEDVALUE-created-later-4c1f' }] }),
    });
    expect(created.status).toBe(200);
    connect.resetRequests();
    const outcome = await run(shared, ['op://Database/created later/password']);
    expect(valueOf(outcome, 'op://Database/created later/password')).toBe('SEEDVALUE-created-later-4c1f');
    expect(counts()).toEqual({ vaultIndex: 0, itemIndex: 1, itemGets: 1, total: 2 });
  });
});

describe('transient faults are retried inside the deadline', () => {
  it.each([
    [500, 'json'],
    [503, 'text'],
    [502, 'empty'],
    [429, 'json'],
  ] as const)('status %d with a %s body: retried until it succeeds', async (status, body) => {
    connect.addFault({ method: 'GET', path: ITEM_GET, times: 2, spec: { kind: 'status', status, body } });
    const outcome = await run(resolver(), [byId('Database', 'redis', 'url')]);
    expect(outcome.errors.size).toBe(0);
    expect(outcome.events).toEqual([expect.objectContaining({ attempts: 3, outcome: 'success' })]);
    expect(counts().itemGets).toBe(3);
  });

  it.each(['reset', 'reset-mid-body', 'malformed'] as const)('%s: retried until it succeeds', async (kind) => {
    connect.addFault({ method: 'GET', path: ITEM_GET, times: 1, spec: { kind } });
    const outcome = await run(resolver(), [byId('Database', 'redis', 'url')]);
    expect(valueOf(outcome, byId('Database', 'redis', 'url'))).toBe(V.redisUrl);
    expect(outcome.events[0]).toMatchObject({ attempts: 2, outcome: 'success' });
  });

  it.each([
    [{ kind: 'status', status: 500, body: 'json' }, 'SERVER', 500],
    [{ kind: 'status', status: 503, body: 'text' }, 'SERVER', 503],
    [{ kind: 'status', status: 429, body: 'empty' }, 'RATE_LIMITED', 429],
    [{ kind: 'reset' }, 'NETWORK', undefined],
    [{ kind: 'reset-mid-body' }, 'NETWORK', undefined],
    [{ kind: 'malformed' }, 'INVALID_RESPONSE', 200],
  ] as const)('%j every time: maxAttempts requests, then a retryable %s', async (spec, code, status) => {
    connect.addFault({ method: 'GET', path: ITEM_GET, spec });
    const reference = byId('Database', 'redis', 'url');
    const outcome = await run(resolver({ maxAttempts: 3 }), [reference]);
    expect(errorOf(outcome, reference)).toMatchObject({ code, status, retryable: true, reference });
    expect(outcome.events).toEqual([expect.objectContaining({ attempts: 3, outcome: 'failure' })]);
    expect(counts().itemGets).toBe(3);
  });

  it('honours Retry-After in seconds: waits at least that long, then succeeds', async () => {
    connect.addFault({ method: 'GET', path: ITEM_GET, times: 1, spec: { kind: 'status', status: 429, retryAfter: '1' } });
    const started = Date.now();
    const outcome = await run(resolver(), [byId('Database', 'redis', 'url')], { deadline: Date.now() + 10_000 });
    expect(outcome.errors.size).toBe(0);
    expect(outcome.events[0]!.attempts).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('fails at once with RATE_LIMITED when Retry-After (seconds) exceeds the time left', async () => {
    connect.addFault({ method: 'GET', path: ITEM_GET, spec: { kind: 'status', status: 429, retryAfter: '30' } });
    const reference = byId('Database', 'redis', 'url');
    const deadline = Date.now() + 3_000;
    const outcome = await run(resolver(), [reference], { deadline });
    expect(Date.now()).toBeLessThan(deadline);
    expect(errorOf(outcome, reference)).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfterMs: 30_000, retryable: true });
    expect(counts().itemGets).toBe(1);
  });

  it('understands Retry-After as an HTTP date', async () => {
    const retryAfter = new Date(Date.now() + 120_000).toUTCString();
    connect.addFault({ method: 'GET', path: ITEM_GET, spec: { kind: 'status', status: 503, body: 'text', retryAfter } });
    const reference = byId('Database', 'redis', 'url');
    const outcome = await run(resolver(), [reference], { deadline: Date.now() + 3_000 });
    const error = errorOf(outcome, reference)!;
    expect(error).toMatchObject({ code: 'SERVER', status: 503 });
    expect(error.retryAfterMs).toBeGreaterThan(100_000);
    expect(counts().itemGets).toBe(1);
  });

  it('cuts a hanging request off at the deadline and reports TIMEOUT', async () => {
    connect.addFault({ method: 'GET', path: ITEM_GET, spec: { kind: 'hang' } });
    const reference = byId('Database', 'redis', 'url');
    const deadline = Date.now() + 700;
    const outcome = await run(resolver(), [reference], { deadline });
    expect(Date.now()).toBeLessThan(deadline + 1_500);
    expect(errorOf(outcome, reference)).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(counts().itemGets).toBe(1);
  });

  it('gives up on a hung attempt after attemptTimeoutMs and retries within the deadline', async () => {
    connect.addFault({ method: 'GET', path: ITEM_GET, times: 1, spec: { kind: 'hang' } });
    const outcome = await run(resolver({ attemptTimeoutMs: 200 }), [byId('Database', 'redis', 'url')], { deadline: Date.now() + 8_000 });
    expect(outcome.errors.size).toBe(0);
    expect(outcome.events[0]).toMatchObject({ attempts: 2, outcome: 'success' });
  });

  it('stops when the caller aborts', async () => {
    connect.addFault({ method: 'GET', path: ITEM_GET, spec: { kind: 'hang' } });
    const reference = byId('Database', 'redis', 'url');
    const deadline = Date.now() + 20_000;
    const outcome = await run(resolver(), [reference], { deadline, signal: AbortSignal.timeout(200) });
    expect(Date.now()).toBeLessThan(deadline - 10_000);
    expect(errorOf(outcome, reference)).toMatchObject({ code: 'TIMEOUT' });
  });

  it('makes no request at all once the deadline has passed', async () => {
    const outcome = await run(resolver(), ['op://Payments/Stripe/credential', byId('Database', 'redis', 'url')], { deadline: Date.now() - 1 });
    expect([...outcome.errors.values()].map((error) => error.code)).toEqual(['TIMEOUT', 'TIMEOUT']);
    expect(counts().total).toBe(0);
  });

  it('never caches a failed index: the next resolve loads it again', async () => {
    connect.addFault({ method: 'GET', path: VAULT_INDEX, spec: { kind: 'status', status: 500 } });
    const shared = resolver({ maxAttempts: 2 });
    const failed = await run(shared, ['op://Payments/Stripe/credential', 'op://Database/redis/url']);
    expect([...failed.errors.values()].map((error) => error.code)).toEqual(['SERVER', 'SERVER']);
    expect(counts()).toMatchObject({ vaultIndex: 2, itemGets: 0 });
    connect.clearFaults();
    connect.resetRequests();
    const recovered = await run(shared, ['op://Payments/Stripe/credential', 'op://Database/redis/url']);
    expect(recovered.values.size).toBe(2);
    expect(counts()).toEqual({ vaultIndex: 1, itemIndex: 2, itemGets: 2, total: 5 });
  });
});

describe('permanent failures are not retried', () => {
  it('401: a bad token', async () => {
    const outcome = await run(resolver({ token: 'opl-not-a-real-token-zq81' }), [byId('Database', 'redis', 'url'), 'op://Payments/Stripe/credential']);
    for (const error of outcome.errors.values()) expect(error).toMatchObject({ code: 'UNAUTHORIZED', status: 401, retryable: false });
    expect(outcome.errors.size).toBe(2);
    expect(counts()).toMatchObject({ vaultIndex: 1, itemGets: 1 });
  });

  it('403: a vault outside the token scope, by ID; by name it is simply not visible', async () => {
    const byIdReference = byId('Payments', 'Stripe', 'credential');
    const outcome = await run(resolver({ token: connect.tokens['staging-only']! }), [byIdReference, 'op://Payments/Stripe/credential', 'op://Staging/stripe/credential']);
    expect(errorOf(outcome, byIdReference)).toMatchObject({ code: 'FORBIDDEN', status: 403, retryable: false, reference: byIdReference });
    expect(errorOf(outcome, 'op://Payments/Stripe/credential')).toMatchObject({ code: 'NOT_FOUND', retryable: false });
    expect(valueOf(outcome, 'op://Staging/stripe/credential')).toBe(V.staging);
    expect(connect.countRequests({ method: 'GET', path: ITEM_GET })).toBe(2);
  });

  it('404: an unknown item id costs its GET and one look at the title index, nothing more', async () => {
    const vaultId = connect.getItem('Database', 'redis').vault.id;
    const reference = `op://${vaultId}/00000000000000000000000000/url`;
    const outcome = await run(resolver(), [reference]);
    expect(errorOf(outcome, reference)).toMatchObject({ code: 'NOT_FOUND', status: 404, retryable: false });
    expect(counts()).toEqual({ vaultIndex: 0, itemIndex: 1, itemGets: 1, total: 2 });
  });

  it('400 from Connect is BAD_REQUEST, one request', async () => {
    connect.addFault({ method: 'GET', path: ITEM_GET, spec: { kind: 'status', status: 400 } });
    const reference = byId('Database', 'redis', 'url');
    const outcome = await run(resolver(), [reference]);
    expect(errorOf(outcome, reference)).toMatchObject({ code: 'BAD_REQUEST', status: 400, retryable: false });
    expect(counts().itemGets).toBe(1);
  });
});

/** A token source reading with `get`, counting invalidations. */
function tokenSource(get: () => Promise<string>): ConnectTokenSource & { invalidated: number } {
  const source = { invalidated: 0, get, invalidate: () => void source.invalidated++ };
  return source;
}

describe('the token', () => {
  it('is read again after Connect answers 401 (it may have been rotated), and not after other failures', async () => {
    const rejected = tokenSource(() => Promise.resolve('opl-not-a-real-token-zq81'));
    await run(resolver({ token: rejected }), ['op://Database/redis/url']);
    expect(rejected.invalidated).toBe(1);
    const accepted = tokenSource(() => Promise.resolve(connect.tokens['dev-read']!));
    const outcome = await run(resolver({ token: accepted }), ['op://Database/no-such-item/url']);
    expect(errorOf(outcome, 'op://Database/no-such-item/url')?.code).toBe('NOT_FOUND');
    expect(accepted.invalidated).toBe(0);
  });

  it('is obtained once per resolve, and only when there is work', async () => {
    let calls = 0;
    const shared = resolver({ token: tokenSource(() => Promise.resolve(connect.tokens['dev-read']!).finally(() => calls++)) });
    await shared.resolve([], { deadline: Date.now() + 1_000 });
    expect(calls).toBe(0);
    await run(shared, TEN_BY_NAME);
    await run(shared, TEN_BY_NAME);
    expect(calls).toBe(2);
  });

  it('a failing token source is TOKEN_UNAVAILABLE for every reference, with no request', async () => {
    const outcome = await run(resolver({ token: tokenSource(() => Promise.reject(new Error('AccessDeniedException: not authorized'))) }), TEN_BY_NAME.slice(0, 3));
    expect([...outcome.errors.values()].map((error) => error.code)).toEqual(['TOKEN_UNAVAILABLE', 'TOKEN_UNAVAILABLE', 'TOKEN_UNAVAILABLE']);
    expect(counts().total).toBe(0);
  });

  it('a token source that never answers is cut off by the deadline', async () => {
    const deadline = Date.now() + 300;
    const outcome = await run(resolver({ token: tokenSource(() => new Promise<string>(() => undefined)) }), ['op://Payments/Stripe/credential'], { deadline });
    expect(Date.now()).toBeLessThan(deadline + 1_500);
    expect(errorOf(outcome, 'op://Payments/Stripe/credential')).toMatchObject({ code: 'TIMEOUT' });
  });
});

describe('malformed but parseable answers and duplicate vault names', () => {
  // The local Connect server refuses duplicate vault names, which real accounts allow; this small
  // HTTP server answers with fixed bodies to cover those shapes.
  let fixed: Server;
  let url: string;
  const hits: string[] = [];
  beforeAll(async () => {
    fixed = createServer((request, response) => {
      hits.push(request.url ?? '');
      response.setHeader('content-type', 'application/json');
      if (request.url === '/v1/vaults/' || request.url === '/v1/vaults') {
        response.end(JSON.stringify([
          { id: 'aaaaaaaaaaaaaaaaaaaaaaaaaa', name: 'Shared' },
          { id: 'bbbbbbbbbbbbbbbbbbbbbbbbbb', name: 'shared' },
          { id: 'cccccccccccccccccccccccccc', name: 'Odd' },
        ]));
      } else if (request.url === '/v1/vaults/cccccccccccccccccccccccccc/items') {
        response.end(JSON.stringify({ not: 'a list' }));
      } else {
        response.end(JSON.stringify({ status: 'not an item' }));
      }
    });
    await new Promise<void>((resolve) => fixed.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(fixed.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => fixed.close(() => resolve()));
  });

  it('two vaults with one name (case-insensitively) are AMBIGUOUS', async () => {
    const outcome = await run(new ConnectSource({ host: url, token: 'opl-fixed-token-1' }), ['op://SHARED/item/field']);
    expect(errorOf(outcome, 'op://SHARED/item/field')).toMatchObject({ code: 'AMBIGUOUS', retryable: false, reference: 'op://SHARED/item/field' });
  });

  it('JSON of the wrong shape is INVALID_RESPONSE, retried like any malformed answer', async () => {
    hits.length = 0;
    const target = new ConnectSource({ host: url, token: 'opl-fixed-token-1', maxAttempts: 2, backoffBaseMs: 1 });
    const outcome = await run(target, ['op://Odd/item/field', 'op://dddddddddddddddddddddddddd/eeeeeeeeeeeeeeeeeeeeeeeeee/field']);
    expect(errorOf(outcome, 'op://Odd/item/field')).toMatchObject({ code: 'INVALID_RESPONSE', retryable: true });
    expect(errorOf(outcome, 'op://dddddddddddddddddddddddddd/eeeeeeeeeeeeeeeeeeeeeeeeee/field')).toMatchObject({ code: 'INVALID_RESPONSE' });
    expect(hits.filter((hit) => hit === '/v1/vaults/cccccccccccccccccccccccccc/items')).toHaveLength(2);
    expect(hits.filter((hit) => hit === '/v1/vaults/dddddddddddddddddddddddddd/items/eeeeeeeeeeeeeeeeeeeeeeeeee')).toHaveLength(2);
  });
});

describe('toConnectError over the SDK\'s own transport and rejections', () => {
  // The SDK's default (axios) client against the same server produces each rejection shape for real.
  function sdk(token = connect.tokens['dev-read']!): ReturnType<typeof OnePasswordConnect> {
    return OnePasswordConnect({ serverURL: connect.url, token });
  }

  async function rejectionOf(work: Promise<unknown>): Promise<unknown> {
    try {
      await work;
    } catch (error) {
      return error;
    }
    throw new Error('expected a rejection');
  }

  it('Connect\'s {status, message} body (404) becomes NOT_FOUND', async () => {
    const vaultId = connect.getItem('Database', 'redis').vault.id;
    const raw = await rejectionOf(sdk().getItemById(vaultId, '00000000000000000000000000'));
    expect(raw).toMatchObject({ status: 404 });
    const error = toConnectError(raw, 'op://Database/x/y');
    captured.push(error);
    expect(error).toMatchObject({ code: 'NOT_FOUND', status: 404, retryable: false, reference: 'op://Database/x/y' });
  });

  it('the SDK\'s own {status, message} for a title it cannot find becomes NOT_FOUND', async () => {
    const error = toConnectError(await rejectionOf(sdk().getVaultByTitle('No Such Vault')));
    captured.push(error);
    expect(error).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  it('a bare string (a text error body) becomes a retryable INVALID_RESPONSE', async () => {
    connect.addFault({ method: 'GET', path: ITEM_GET, spec: { kind: 'status', status: 502, body: 'text' } });
    const raw = await rejectionOf(sdk().getItemById(connect.getItem('Database', 'redis').vault.id, connect.getItem('Database', 'redis').id));
    expect(typeof raw).toBe('string');
    const error = toConnectError(raw);
    captured.push(error);
    expect(error).toMatchObject({ code: 'INVALID_RESPONSE', retryable: true });
  });

  it('an AxiosError (connection reset) becomes NETWORK, without its config or headers', async () => {
    connect.addFault({ method: 'GET', path: ITEM_GET, spec: { kind: 'reset' } });
    const token = connect.tokens['dev-read']!;
    const raw = await rejectionOf(sdk(token).getItemById(connect.getItem('Database', 'redis').vault.id, connect.getItem('Database', 'redis').id));
    expect(raw).toMatchObject({ isAxiosError: true });
    const error = toConnectError(raw, 'op://Database/redis/url');
    captured.push(error);
    expect(error).toMatchObject({ code: 'NETWORK', retryable: true });
    expect(error.cause).toBeInstanceOf(Error);
    expect(Object.keys(error.cause as object)).toEqual([]);
    expect(JSON.stringify(error)).not.toMatch(/authorization|bearer|config/i);
  });

  it('an Error (fetch refused by a closed port) becomes NETWORK', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const raw = await rejectionOf(fetch(`http://127.0.0.1:${port}/v1/vaults`));
    expect(raw).toMatchObject({ name: 'TypeError' });
    const error = toConnectError(raw);
    expect(error).toMatchObject({ code: 'NETWORK', retryable: true });
    expect(error.message).toContain('ECONNREFUSED');
    const refused = await run(new ConnectSource({ host: `http://127.0.0.1:${port}`, token: 'opl-t', maxAttempts: 2, backoffBaseMs: 1 }), ['op://a/b/c']);
    expect(errorOf(refused, 'op://a/b/c')).toMatchObject({ code: 'NETWORK' });
  });
});

describe('hosts', () => {
  const token = 'opl-host-check-token';
  it.each(['http://127.0.0.1:8080', 'http://127.1.2.3', 'http://localhost:8080', 'http://[::1]:8080', 'https://connect.example.com', 'https://connect.example.com/prefix'])(
    'accepts %s',
    (host) => {
      expect(() => new ConnectSource({ host, token })).not.toThrow();
    },
  );

  it.each(['http://connect.example.com', 'http://10.0.0.8:8080', 'ftp://127.0.0.1', 'not a url', '', 'https://user:pass@connect.example.com'])('refuses %j with INSECURE_HOST', (host) => {
    expect(() => new ConnectSource({ host, token })).toThrow(expect.objectContaining({ code: 'INSECURE_HOST', retryable: false }) as Error);
  });

  it('allows plain http to any host with allowHttp / OP_CONNECT_ALLOW_HTTP=true, never naming the host', () => {
    expect(() => new ConnectSource({ host: 'http://connect.internal:8080', token, allowHttp: true })).not.toThrow();
    expect(() => ConnectSource.fromEnv({ OP_CONNECT_HOST: 'http://connect.internal:8080', OP_CONNECT_ALLOW_HTTP: 'true', OP_CONNECT_TOKEN: token })).not.toThrow();
    expect(() => ConnectSource.fromEnv({ OP_CONNECT_HOST: 'http://connect.internal:8080', OP_CONNECT_ALLOW_HTTP: 'false', OP_CONNECT_TOKEN: token })).toThrow(
      expect.objectContaining({ code: 'INSECURE_HOST' }) as Error,
    );
    expect(() => ConnectSource.fromEnv({ OP_CONNECT_TOKEN: token })).toThrow(expect.objectContaining({ code: 'INSECURE_HOST' }) as Error);
    try {
      ConnectSource.fromEnv({ OP_CONNECT_HOST: 'http://connect.internal:8080', OP_CONNECT_TOKEN: token });
    } catch (error) {
      expect((error as Error).message).not.toContain('connect.internal');
    }
  });

  it('fromEnv resolves against OP_CONNECT_HOST', async () => {
    const outcome = await run(ConnectSource.fromEnv({ OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN: connect.tokens['dev-read']! }), ['op://Database/redis/url']);
    expect(valueOf(outcome, 'op://Database/redis/url')).toBe(V.redisUrl);
  });
});

describe('secrecy', () => {
  it('no captured error or event carries a seeded value, a token or an Authorization header', () => {
    expect(captured.length).toBeGreaterThan(40);
    const forbidden = [...Object.values(V), 'SEEDVALUE', 'JBSWY3DPEHPK3PXP', ...Object.values(connect.tokens), 'opl-not-a-real-token-zq81', 'Bearer'];
    for (const entry of captured) {
      const texts = [JSON.stringify(entry)];
      for (let error: unknown = entry instanceof Error ? entry : (entry as FetchReport).error; error instanceof Error; error = error.cause) {
        texts.push(error.message, String(error), JSON.stringify(error), error.stack ?? '');
      }
      for (const text of texts) {
        for (const secret of forbidden) expect(text).not.toContain(secret);
        expect(text).not.toMatch(/authorization/i);
      }
    }
  });
});
