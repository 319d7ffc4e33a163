// The local 1Password Connect server, over real HTTP on loopback.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { OnePasswordConnect } from '@1password/connect';
import {
  DEMO_SEED_FILE,
  VERSION_HEADER,
  currentTotp,
  deriveId,
  startConnectServer,
  type ApiRequestJson,
  type ConnectItemJson,
  type ConnectItemSummaryJson,
  type ConnectSeed,
  type ConnectFileJson,
  type ConnectVaultJson,
  type LocalConnect,
} from '../../local/connect/server';

const SPECIAL_VAULT = 'R&D #1 + 100% ops';
const AMP_HASH_ITEM = 'A&B #1';
const PLUS_PERCENT_ITEM = 'x+y 50%';
const OTP_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

const TEST_SEED: ConnectSeed = {
  tokens: [
    { name: 'reader', token: 'test-reader-token-7b1d0c5e9a2f4c68b3', vaults: ['*'] },
    { name: 'writer', token: 'test-writer-token-0e6a9d4f21c84b7a5d', vaults: ['*'], write: true },
    { name: 'alpha-only', token: 'test-alpha-only-token-5c3e8b1a7f0d', vaults: ['alpha'] },
  ],
  vaults: [
    {
      name: 'alpha',
      description: 'test vault',
      items: [
        {
          title: 'stripe',
          category: 'API_CREDENTIAL',
          tags: ['payments', 'webhook'],
          fields: [
            { label: 'credential', type: 'CONCEALED', value: 'seeded-secret-alpha-stripe-credential' },
            { label: 'hostname', value: 'seeded-secret-alpha-stripe-hostname' },
          ],
        },
        {
          title: AMP_HASH_ITEM,
          category: 'PASSWORD',
          fields: [{ label: 'password', type: 'CONCEALED', purpose: 'PASSWORD', value: 'seeded-secret-amp-hash-password' }],
        },
        {
          title: PLUS_PERCENT_ITEM,
          category: 'PASSWORD',
          tags: ['odd'],
          fields: [{ label: 'password', type: 'CONCEALED', value: 'seeded-secret-plus-percent-password' }],
        },
        {
          title: 'otp-login',
          category: 'LOGIN',
          fields: [
            { label: 'username', purpose: 'USERNAME', value: 'seeded-secret-otp-username' },
            { label: 'one-time password', type: 'OTP', value: `otpauth://totp/test:me?secret=${OTP_SECRET}&issuer=test` },
          ],
        },
        {
          title: 'db',
          category: 'DATABASE',
          sections: [{ label: 'connection' }],
          fields: [{ label: 'url', type: 'CONCEALED', section: 'connection', value: 'seeded-secret-db-url' }],
          files: [{ name: 'ca.pem', section: 'connection', content: 'seeded-secret-file-content' }],
        },
      ],
    },
    {
      name: SPECIAL_VAULT,
      items: [{ title: 'inside', category: 'PASSWORD', fields: [{ label: 'password', value: 'seeded-secret-special-vault' }] }],
    },
    {
      name: 'beta',
      items: [{ title: 'stripe', category: 'API_CREDENTIAL', fields: [{ label: 'credential', value: 'seeded-secret-beta-stripe' }] }],
    },
  ],
};

const SEEDED_VALUES = [
  ...TEST_SEED.tokens.map((token) => token.token),
  ...TEST_SEED.vaults.flatMap((vault) =>
    vault.items.flatMap((item) => [...item.fields.map((field) => field.value ?? ''), ...(item.files ?? []).map((f) => f.content)]),
  ),
].filter((value) => value.length > 0);

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

interface CallOptions {
  token?: string | null;
  method?: string;
  body?: unknown;
  rawBody?: string;
}

const errorBodies: string[] = [];

async function call(server: LocalConnect, path: string, options: CallOptions = {}): Promise<Answer> {
  const token = options.token === undefined ? server.tokens['reader'] : options.token;
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token !== null && token !== undefined) headers['Authorization'] = `Bearer ${token}`;
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await fetch(`${server.url}${path}`, { method: options.method ?? 'GET', headers, body });
  const text = await response.text();
  if (response.status >= 400) errorBodies.push(text);
  return { status: response.status, headers: response.headers, text };
}

/** Sends the path byte for byte (fetch would re-encode some characters). */
function rawGet(server: LocalConnect, path: string, token: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${server.url}${path}`, { headers: { Authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value);
        resolve({ status: res.statusCode ?? 0, headers, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const json = <T>(answer: Answer): T => JSON.parse(answer.text) as T;

function expectConnectError(answer: Answer, status: number): void {
  expect(answer.status).toBe(status);
  const body = json<{ status: number; message: string }>(answer);
  expect(body).toEqual({ status, message: expect.any(String) });
  expect(body.message.length).toBeGreaterThan(0);
}

function vaultId(name: string): string {
  return deriveId('vault', name);
}

async function itemIdByTitle(server: LocalConnect, vault: string, title: string): Promise<string> {
  const items = json<ConnectItemSummaryJson[]>(await call(server, `/v1/vaults/${vaultId(vault)}/items`));
  const found = items.find((item) => item.title === title);
  if (!found) throw new Error(`test setup: no item ${title}`);
  return found.id;
}

describe('local Connect server', () => {
  let server: LocalConnect;

  beforeAll(async () => {
    server = await startConnectServer({ seed: TEST_SEED });
  });

  afterAll(async () => {
    await server.close();
  });

  describe('vaults', () => {
    it('lists every vault for an all-vault token, with derived 26-character ids and the version header', async () => {
      const answer = await call(server, '/v1/vaults');
      expect(answer.status).toBe(200);
      expect(answer.headers.get(VERSION_HEADER)).toBe('1.7.1');
      const vaults = json<ConnectVaultJson[]>(answer);
      expect(vaults.map((vault) => vault.name)).toEqual(['alpha', SPECIAL_VAULT, 'beta']);
      for (const vault of vaults) {
        expect(vault.id).toMatch(/^[a-z0-9]{26}$/);
        expect(vault.id).toBe(vaultId(vault.name));
      }
      expect(vaults[0]).toMatchObject({ description: 'test vault', items: 5, type: 'USER_CREATED' });
    });

    it('filters by name and by title, encoded or sent raw as the SDK does', async () => {
      const byName = json<ConnectVaultJson[]>(await call(server, `/v1/vaults?filter=${encodeURIComponent(`name eq "${SPECIAL_VAULT}"`)}`));
      expect(byName.map((vault) => vault.name)).toEqual([SPECIAL_VAULT]);
      const form = new URLSearchParams({ filter: `title eq "${SPECIAL_VAULT}"` }).toString();
      expect(form).toContain('+');
      expect(json<ConnectVaultJson[]>(await call(server, `/v1/vaults?${form}`)).map((v) => v.name)).toEqual([SPECIAL_VAULT]);
      const raw = `/v1/vaults/?filter=title%20eq%20%22R&D%20`; // what the SDK sends: the `#` starts a fragment
      expect(json<ConnectVaultJson[]>(await rawGet(server, raw, server.tokens['reader']!)).map((v) => v.name)).toEqual([SPECIAL_VAULT]);
      const none = json<ConnectVaultJson[]>(await call(server, `/v1/vaults?filter=${encodeURIComponent('name eq "nope"')}`));
      expect(none).toEqual([]);
    });

    it('answers 400 for a filter it cannot read', async () => {
      expectConnectError(await call(server, `/v1/vaults?filter=${encodeURIComponent('name ne "alpha"')}`), 400);
      expectConnectError(await call(server, '/v1/vaults?filter=garbage'), 400);
    });

    it('gets one vault by id and 404s an unknown one', async () => {
      const vault = json<ConnectVaultJson>(await call(server, `/v1/vaults/${vaultId('beta')}`));
      expect(vault.name).toBe('beta');
      expectConnectError(await call(server, `/v1/vaults/${'z'.repeat(26)}`), 404);
    });
  });

  describe('items', () => {
    it('lists summaries without fields', async () => {
      const items = json<ConnectItemSummaryJson[]>(await call(server, `/v1/vaults/${vaultId('alpha')}/items`));
      expect(items.map((item) => item.title)).toEqual(['stripe', AMP_HASH_ITEM, PLUS_PERCENT_ITEM, 'otp-login', 'db']);
      for (const item of items) {
        expect(item).not.toHaveProperty('fields');
        expect(item.vault.id).toBe(vaultId('alpha'));
      }
    });

    it('filters by title (encoded and raw) and by tag', async () => {
      const alpha = `/v1/vaults/${vaultId('alpha')}/items`;
      const titles = async (answer: Promise<Answer>): Promise<string[]> =>
        json<ConnectItemSummaryJson[]>(await answer).map((item) => item.title);
      expect(await titles(call(server, `${alpha}?filter=${encodeURIComponent(`title eq "${AMP_HASH_ITEM}"`)}`))).toEqual([AMP_HASH_ITEM]);
      expect(await titles(call(server, `${alpha}?filter=${encodeURIComponent(`title eq "${PLUS_PERCENT_ITEM}"`)}`))).toEqual([PLUS_PERCENT_ITEM]);
      const token = server.tokens['reader']!;
      expect(await titles(rawGet(server, `${alpha}/?filter=title%20eq%20%22x+y%2050%%22`, token))).toEqual([PLUS_PERCENT_ITEM]);
      expect(await titles(rawGet(server, `${alpha}/?filter=title%20eq%20%22A&B%20`, token))).toEqual([AMP_HASH_ITEM]);
      // The SDK's query for a title that does not exist, cut at its `#`: no match rather than a 400.
      expect(await titles(rawGet(server, `${alpha}/?filter=title%20eq%20%22A&C%20`, token))).toEqual([]);
      expect(await titles(call(server, `${alpha}?filter=${encodeURIComponent('tag eq "payments"')}`))).toEqual(['stripe']);
      const both = encodeURIComponent('title eq "stripe" and tag eq "odd"');
      expect(await titles(call(server, `${alpha}?filter=${both}`))).toEqual([]);
    });

    it('gets a full item by id, with sections, fields and files', async () => {
      const id = await itemIdByTitle(server, 'alpha', 'db');
      const item = json<ConnectItemJson>(await call(server, `/v1/vaults/${vaultId('alpha')}/items/${id}`));
      expect(item).toMatchObject({ id, title: 'db', category: 'DATABASE', version: 1, vault: { id: vaultId('alpha') } });
      const section = item.sections?.[0];
      expect(section?.label).toBe('connection');
      expect(item.fields).toEqual([
        { id: expect.stringMatching(/^[a-z0-9]{26}$/), type: 'CONCEALED', label: 'url', value: 'seeded-secret-db-url', section: { id: section?.id } },
      ]);
      expect(item.files?.[0]).toMatchObject({ name: 'ca.pem', size: 'seeded-secret-file-content'.length });
      expect(item.files?.[0]).not.toHaveProperty('content');
      expect(item.createdAt).toEqual(expect.any(String));
      expect(item.lastEditedBy).toMatch(/^[a-z0-9]{26}$/);
    });

    it('carries the current 6-digit code of an OTP field in `totp`', async () => {
      const id = await itemIdByTitle(server, 'alpha', 'otp-login');
      const before = Date.now();
      const item = json<ConnectItemJson>(await call(server, `/v1/vaults/${vaultId('alpha')}/items/${id}`));
      const after = Date.now();
      const otp = item.fields.find((field) => field.type === 'OTP');
      expect(otp?.value).toMatch(/^otpauth:\/\/totp\//);
      expect(otp?.totp).toMatch(/^\d{6}$/);
      expect([currentTotp(otp!.value!, before), currentTotp(otp!.value!, after)]).toContain(otp?.totp);
    });

    it('404s an unknown item', async () => {
      expectConnectError(await call(server, `/v1/vaults/${vaultId('alpha')}/items/${'q'.repeat(26)}`), 404);
    });

    it('serves trailing-slash paths like the plain ones', async () => {
      const plain = await call(server, `/v1/vaults/${vaultId('alpha')}/items`);
      const slashed = await call(server, `/v1/vaults/${vaultId('alpha')}/items/`);
      expect(slashed.status).toBe(200);
      expect(json<unknown>(slashed)).toEqual(json<unknown>(plain));
      expect((await call(server, '/v1/vaults/')).status).toBe(200);
    });
  });

  describe('files', () => {
    it('lists, inlines, describes and downloads files', async () => {
      const id = await itemIdByTitle(server, 'alpha', 'db');
      const base = `/v1/vaults/${vaultId('alpha')}/items/${id}/files`;
      const [file] = json<ConnectFileJson[]>(await call(server, base));
      expect(file).toMatchObject({ name: 'ca.pem', content_path: `v1/vaults/${vaultId('alpha')}/items/${id}/files/${file!.id}/content` });
      expect(file).not.toHaveProperty('content');
      const [inline] = json<ConnectFileJson[]>(await call(server, `${base}?inline_files=true`));
      expect(Buffer.from(inline!.content!, 'base64').toString('utf8')).toBe('seeded-secret-file-content');
      expect(json<ConnectFileJson>(await call(server, `${base}/${file!.id}`)).name).toBe('ca.pem');
      const content = await call(server, `${base}/${file!.id}/content`);
      expect(content.headers.get('content-type')).toBe('application/octet-stream');
      expect(content.headers.get('content-disposition')).toBe('attachment; filename="ca.pem"');
      expect(content.text).toBe('seeded-secret-file-content');
      expectConnectError(await call(server, `${base}/${'f'.repeat(26)}`), 404);
    });
  });

  describe('auth and scope', () => {
    it('401s a missing or unknown token', async () => {
      expectConnectError(await call(server, '/v1/vaults', { token: null }), 401);
      expectConnectError(await call(server, '/v1/vaults', { token: 'not-a-known-token' }), 401);
      expectConnectError(await call(server, '/v1/activity', { token: null }), 401);
    });

    it('401s every write made with a read-only token and leaves the item alone', async () => {
      const id = await itemIdByTitle(server, 'alpha', 'stripe');
      const path = `/v1/vaults/${vaultId('alpha')}/items/${id}`;
      const before = json<ConnectItemJson>(await call(server, path));
      expectConnectError(await call(server, path, { method: 'PUT', body: { ...before, title: 'changed' } }), 401);
      expectConnectError(await call(server, path, { method: 'PATCH', body: [{ op: 'replace', path: '/title', value: 'x' }] }), 401);
      expectConnectError(await call(server, path, { method: 'DELETE' }), 401);
      const create = { title: 'new', category: 'PASSWORD', fields: [] };
      expectConnectError(await call(server, `/v1/vaults/${vaultId('alpha')}/items`, { method: 'POST', body: create }), 401);
      expect(json<ConnectItemJson>(await call(server, path))).toMatchObject({ title: 'stripe', version: before.version });
    });

    it('hides out-of-scope vaults and 403s access to them', async () => {
      const token = server.tokens['alpha-only'];
      const listed = json<ConnectVaultJson[]>(await call(server, '/v1/vaults', { token }));
      expect(listed.map((vault) => vault.name)).toEqual(['alpha']);
      const filtered = await call(server, `/v1/vaults?filter=${encodeURIComponent('name eq "beta"')}`, { token });
      expect(json<unknown[]>(filtered)).toEqual([]);
      expectConnectError(await call(server, `/v1/vaults/${vaultId('beta')}`, { token }), 403);
      expectConnectError(await call(server, `/v1/vaults/${vaultId('beta')}/items`, { token }), 403);
      const betaItem = await itemIdByTitle(server, 'beta', 'stripe');
      expectConnectError(await call(server, `/v1/vaults/${vaultId('beta')}/items/${betaItem}`, { token }), 403);
      expect((await call(server, `/v1/vaults/${vaultId('alpha')}/items`, { token })).status).toBe(200);
    });
  });

  describe('health endpoints', () => {
    it('answers /heartbeat, /health and /metrics without a token', async () => {
      const beat = await call(server, '/heartbeat', { token: null });
      expect([beat.status, beat.text]).toEqual([200, '.']);
      const health = json<{ name: string; version: string; dependencies: unknown[] }>(await call(server, '/health', { token: null }));
      expect(health).toMatchObject({ name: '1Password Connect API', version: '1.7.1' });
      expect(health.dependencies.length).toBeGreaterThan(0);
      const metrics = await call(server, '/metrics', { token: null });
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(metrics.text).toMatch(/^op_connect_http_requests_total\{method="GET",route="\/v1\/vaults",status="200"\} [1-9]/m);
      expect(metrics.text).toContain('# TYPE op_connect_http_requests_total counter');
    });

    it('404s an unknown route and 405s a wrong method, as JSON', async () => {
      expectConnectError(await call(server, '/v1/nothing'), 404);
      const wrong = await call(server, '/v1/vaults', { method: 'DELETE' });
      expectConnectError(wrong, 405);
      expect(wrong.headers.get('allow')).toBe('GET');
    });
  });
});

describe('writes', () => {
  let server: LocalConnect;
  const alpha = `/v1/vaults/${vaultId('alpha')}/items`;
  const writer = (): string => server.tokens['writer']!;

  beforeEach(async () => {
    server = await startConnectServer({ seed: TEST_SEED });
  });

  afterEach(async () => {
    await server.close();
  });

  it('PUT replaces the item and bumps its version', async () => {
    const id = await itemIdByTitle(server, 'alpha', 'stripe');
    const item = json<ConnectItemJson>(await call(server, `${alpha}/${id}`));
    const fields = item.fields.map((field) => (field.label === 'credential' ? { ...field, value: 'rotated-value' } : field));
    const answer = await call(server, `${alpha}/${id}`, { token: writer(), method: 'PUT', body: { ...item, fields } });
    expect(answer.status).toBe(200);
    const updated = json<ConnectItemJson>(answer);
    expect(updated.version).toBe(item.version + 1);
    expect(updated.fields.find((field) => field.label === 'credential')?.value).toBe('rotated-value');
    expect(server.getItem('alpha', 'stripe').version).toBe(item.version + 1);
  });

  it('PUT with a stale version is refused with 409 and changes nothing', async () => {
    const id = await itemIdByTitle(server, 'alpha', 'stripe');
    const item = json<ConnectItemJson>(await call(server, `${alpha}/${id}`));
    expect((await call(server, `${alpha}/${id}`, { token: writer(), method: 'PUT', body: { ...item, title: 'first' } })).status).toBe(200);
    const stale = await call(server, `${alpha}/${id}`, { token: writer(), method: 'PUT', body: { ...item, title: 'second' } });
    expectConnectError(stale, 409);
    expect(server.getItem('alpha', id)).toMatchObject({ title: 'first', version: item.version + 1 });
    const { version: _version, ...unversioned } = item;
    const forced = await call(server, `${alpha}/${id}`, { token: writer(), method: 'PUT', body: { ...unversioned, title: 'third' } });
    expect(json<ConnectItemJson>(forced)).toMatchObject({ title: 'third', version: item.version + 2 });
  });

  it('PATCH applies add, remove and replace, bumps the version once, and leaves it for an empty patch', async () => {
    const id = await itemIdByTitle(server, 'alpha', 'stripe');
    const before = server.getItem('alpha', id);
    const credential = before.fields.find((field) => field.label === 'credential')!;
    const hostname = before.fields.find((field) => field.label === 'hostname')!;
    const patch = [
      { op: 'replace', path: `/fields/${credential.id}/value`, value: 'patched-value' },
      { op: 'remove', path: `/fields/${hostname.id}` },
      { op: 'add', path: '/fields', value: { label: 'region', type: 'STRING', value: 'eu-west-1' } },
      { op: 'replace', path: '/title', value: 'stripe-renamed' },
      { op: 'remove', path: '/tags/0' },
    ];
    const answer = await call(server, `${alpha}/${id}`, { token: writer(), method: 'PATCH', body: patch });
    expect(answer.status).toBe(200);
    const after = json<ConnectItemJson>(answer);
    expect(after.version).toBe(before.version + 1);
    expect(after.title).toBe('stripe-renamed');
    expect(after.tags).toEqual(['webhook']);
    expect(after.fields.map((field) => [field.label, field.value])).toEqual([
      ['credential', 'patched-value'],
      ['region', 'eu-west-1'],
    ]);
    const empty = json<ConnectItemJson>(await call(server, `${alpha}/${id}`, { token: writer(), method: 'PATCH', body: [] }));
    expect(empty.version).toBe(after.version);
    const bad = [{ op: 'move', path: '/title' }];
    expectConnectError(await call(server, `${alpha}/${id}`, { token: writer(), method: 'PATCH', body: bad }), 400);
    const unknownField = [{ op: 'replace', path: `/fields/${'u'.repeat(26)}/value`, value: 'x' }];
    expectConnectError(await call(server, `${alpha}/${id}`, { token: writer(), method: 'PATCH', body: unknownField }), 400);
  });

  it('POST creates an item and DELETE removes it', async () => {
    const body = { title: 'created', category: 'PASSWORD', fields: [{ label: 'password', type: 'CONCEALED', generate: true }] };
    const created = json<ConnectItemJson>(await call(server, alpha, { token: writer(), method: 'POST', body }));
    expect(created.id).toMatch(/^[a-z0-9]{26}$/);
    expect(created.version).toBe(1);
    expect(created.fields[0]?.value).toMatch(/^[A-Za-z0-9]{32}$/);
    const deleted = await call(server, `${alpha}/${created.id}`, { token: writer(), method: 'DELETE' });
    expect([deleted.status, deleted.text]).toEqual([204, '']);
    expectConnectError(await call(server, `${alpha}/${created.id}`), 404);
  });

  it('bumps the vault contentVersion on every write (create, replace, patch, delete, setField), as both lists report', async () => {
    const vaultVersion = async (): Promise<number> =>
      json<{ id: string; contentVersion: number }[]>(await call(server, '/v1/vaults')).find((vault) => vault.id === vaultId('alpha'))!.contentVersion;
    const listedVersion = async (id: string): Promise<number | undefined> =>
      json<{ id: string; version: number }[]>(await call(server, alpha)).find((item) => item.id === id)?.version;
    const start = await vaultVersion();
    const body = { title: 'versioned', category: 'PASSWORD', fields: [{ label: 'password', type: 'CONCEALED', value: 'v1-value' }] };
    const created = json<ConnectItemJson>(await call(server, alpha, { token: writer(), method: 'POST', body }));
    expect([await vaultVersion(), await listedVersion(created.id)]).toEqual([start + 1, 1]);
    await call(server, `${alpha}/${created.id}`, { token: writer(), method: 'PUT', body: { ...created, title: 'versioned-2' } });
    expect([await vaultVersion(), await listedVersion(created.id)]).toEqual([start + 2, 2]);
    const patch = [{ op: 'replace', path: '/title', value: 'versioned-3' }];
    await call(server, `${alpha}/${created.id}`, { token: writer(), method: 'PATCH', body: patch });
    expect([await vaultVersion(), await listedVersion(created.id)]).toEqual([start + 3, 3]);
    server.setField('alpha', created.id, 'password', 'v4-value');
    expect([await vaultVersion(), await listedVersion(created.id)]).toEqual([start + 4, 4]);
    await call(server, `${alpha}/${created.id}`, { token: writer(), method: 'DELETE' });
    expect([await vaultVersion(), await listedVersion(created.id)]).toEqual([start + 5, undefined]);
  });

  it('400s bad bodies', async () => {
    const id = await itemIdByTitle(server, 'alpha', 'stripe');
    expectConnectError(await call(server, `${alpha}/${id}`, { token: writer(), method: 'PUT', rawBody: '{"title": ' }), 400);
    expectConnectError(await call(server, alpha, { token: writer(), method: 'POST', body: { title: 't', category: 'NOPE' } }), 400);
    const wrongId = { id: 'w'.repeat(26), category: 'PASSWORD' };
    expectConnectError(await call(server, `${alpha}/${id}`, { token: writer(), method: 'PUT', body: wrongId }), 400);
  });

  it('setField changes a value by names and bumps the version, visible over HTTP', async () => {
    const before = server.getItem('alpha', 'STRIPE');
    server.setField('Alpha', 'stripe', 'Credential', 'set-by-test');
    const id = await itemIdByTitle(server, 'alpha', 'stripe');
    const item = json<ConnectItemJson>(await call(server, `${alpha}/${id}`));
    expect(item.version).toBe(before.version + 1);
    expect(item.fields.find((field) => field.label === 'credential')?.value).toBe('set-by-test');
    expect(() => server.setField('alpha', 'stripe', 'missing', 'x')).toThrow(/missing/);
    expect(() => server.getItem('nope', 'stripe')).toThrow(/nope/);
  });

  it('getItem returns a copy that cannot change the server', async () => {
    const copy = server.getItem('alpha', 'stripe');
    copy.fields[0]!.value = 'tampered';
    expect(server.getItem('alpha', 'stripe').fields[0]?.value).toBe('seeded-secret-alpha-stripe-credential');
  });
});

describe('activity', () => {
  let server: LocalConnect;

  beforeAll(async () => {
    server = await startConnectServer({ seed: TEST_SEED });
  });

  afterAll(async () => {
    await server.close();
  });

  it('records item reads, writes and denials, paged with limit and offset', async () => {
    const id = await itemIdByTitle(server, 'alpha', 'stripe');
    const path = `/v1/vaults/${vaultId('alpha')}/items/${id}`;
    await call(server, path);
    await call(server, path, { token: server.tokens['writer'], method: 'PATCH', body: [{ op: 'replace', path: '/title', value: 'stripe' }] });
    const betaItem = await itemIdByTitle(server, 'beta', 'stripe');
    await call(server, `/v1/vaults/${vaultId('beta')}/items/${betaItem}`, { token: server.tokens['alpha-only'] });

    const all = await call(server, '/v1/activity');
    const entries = json<ApiRequestJson[]>(all);
    expect(entries.map((entry) => [entry.action, entry.result])).toEqual([
      ['READ', 'SUCCESS'],
      ['UPDATE', 'SUCCESS'],
      ['READ', 'DENY'],
    ]);
    expect(all.headers.get('content-range')).toBe('1-3/3');
    expect(entries[1]).toMatchObject({
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      timestamp: expect.any(String),
      actor: { id: expect.any(String), account: expect.any(String), jti: expect.stringMatching(/^[a-z0-9]{26}$/), requestIp: '127.0.0.1' },
      resource: { type: 'ITEM', vault: { id: vaultId('alpha') }, item: { id }, itemVersion: 2 },
    });

    const page = await call(server, '/v1/activity/?limit=2&offset=1');
    expect(json<ApiRequestJson[]>(page).map((entry) => entry.action)).toEqual(['UPDATE', 'READ']);
    expect(page.headers.get('content-range')).toBe('2-3/3');
    expect(json<unknown[]>(await call(server, '/v1/activity?offset=10'))).toEqual([]);
    expectConnectError(await call(server, '/v1/activity?limit=-1'), 400);
    expect(JSON.stringify(entries)).not.toContain(server.tokens['reader']);
  });
});

describe('request log and counters', () => {
  it('logs method, normalized path, raw query, status and token name, and counts by filter', async () => {
    const server = await startConnectServer({ seed: TEST_SEED });
    try {
      await call(server, '/v1/vaults/');
      await call(server, `/v1/vaults?filter=${encodeURIComponent('name eq "alpha"')}`);
      await call(server, `/v1/vaults/${vaultId('alpha')}/items`, { token: null });
      expect(server.requests).toEqual([
        { method: 'GET', path: '/v1/vaults', query: '', status: 200, tokenName: 'reader', at: expect.any(Number) },
        { method: 'GET', path: '/v1/vaults', query: 'filter=name%20eq%20%22alpha%22', status: 200, tokenName: 'reader', at: expect.any(Number) },
        { method: 'GET', path: `/v1/vaults/${vaultId('alpha')}/items`, query: '', status: 401, at: expect.any(Number) },
      ]);
      expect(server.countRequests()).toBe(3);
      expect(server.countRequests({ path: '/v1/vaults' })).toBe(2);
      expect(server.countRequests({ path: /\/items$/ })).toBe(1);
      expect(server.countRequests({ method: 'post' })).toBe(0);
      server.resetRequests();
      expect(server.countRequests()).toBe(0);
      expect(server.requests).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('fault injection', () => {
  let server: LocalConnect;
  const ITEM_PATH = /^\/v1\/vaults\/[^/]+\/items\/[^/]+$/;

  beforeEach(async () => {
    server = await startConnectServer({ seed: TEST_SEED });
  });

  afterEach(async () => {
    await server.close();
  });

  it('answers an injected status as JSON with Retry-After', async () => {
    server.addFault({ path: '/v1/vaults', spec: { kind: 'status', status: 429, retryAfter: '2' } });
    const answer = await call(server, '/v1/vaults');
    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toBe('2');
    expect(answer.headers.get(VERSION_HEADER)).toBe('1.7.1');
    expect(json<unknown>(answer)).toEqual({ status: 429, message: 'Too Many Requests' });
    expect(server.requests[0]?.status).toBe(429);
  });

  it('injects faults into the list calls a version check makes, and only those', async () => {
    server.addFault({ method: 'GET', path: '/v1/vaults', spec: { kind: 'malformed' } });
    server.addFault({ method: 'GET', path: /^\/v1\/vaults\/[^/]+\/items$/, spec: { kind: 'status', status: 503 } });
    const vaultList = (await call(server, '/v1/vaults')).text;
    expect(() => JSON.parse(vaultList) as unknown).toThrow(SyntaxError);
    expect((await call(server, `/v1/vaults/${vaultId('alpha')}/items`)).status).toBe(503);
    const itemId = server.getItem('alpha', 'stripe').id;
    expect((await call(server, `/v1/vaults/${vaultId('alpha')}/items/${itemId}`)).status).toBe(200);
    expect((await call(server, `/v1/vaults/${vaultId('alpha')}`)).status).toBe(200);
  });

  it('answers an injected status with a text or an empty body', async () => {
    server.addFault({ path: '/v1/vaults', times: 1, spec: { kind: 'status', status: 503, body: 'text' } });
    server.addFault({ path: '/v1/vaults', times: 1, spec: { kind: 'status', status: 502, body: 'empty' } });
    const text = await call(server, '/v1/vaults');
    expect([text.status, text.headers.get('content-type'), text.text]).toEqual([503, 'text/plain; charset=utf-8', 'Service Unavailable']);
    const empty = await call(server, '/v1/vaults');
    expect([empty.status, empty.text]).toEqual([502, '']);
    expect((await call(server, '/v1/vaults')).status).toBe(200);
  });

  it('honours `times`, method and path', async () => {
    server.addFault({ method: 'GET', path: ITEM_PATH, times: 2, spec: { kind: 'status', status: 500 } });
    const id = await itemIdByTitle(server, 'alpha', 'stripe');
    const path = `/v1/vaults/${vaultId('alpha')}/items/${id}`;
    expect((await call(server, `/v1/vaults/${vaultId('alpha')}/items`)).status).toBe(200);
    expect((await call(server, path)).status).toBe(500);
    expect((await call(server, path)).status).toBe(500);
    expect((await call(server, path)).status).toBe(200);
  });

  it('clearFaults removes every fault', async () => {
    server.addFault({ spec: { kind: 'status', status: 500 } });
    expect((await call(server, '/heartbeat')).status).toBe(500);
    server.clearFaults();
    expect((await call(server, '/heartbeat')).status).toBe(200);
  });

  it('resets the connection without a response', async () => {
    server.addFault({ path: '/v1/vaults', times: 1, spec: { kind: 'reset' } });
    await expect(call(server, '/v1/vaults')).rejects.toThrow();
    expect(server.countRequests({ path: '/v1/vaults' })).toBe(1);
    expect(server.requests[0]?.status).toBe(0);
    expect((await call(server, '/v1/vaults')).status).toBe(200);
  });

  it('resets mid-body after sending the headers', async () => {
    server.addFault({ path: '/v1/vaults', times: 1, spec: { kind: 'reset-mid-body' } });
    const response = await fetch(`${server.url}/v1/vaults`, { headers: { Authorization: `Bearer ${server.tokens['reader']}` } });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });

  it('answers 200 with a body that is not JSON', async () => {
    server.addFault({ path: '/v1/vaults', spec: { kind: 'malformed' } });
    const answer = await call(server, '/v1/vaults');
    expect(answer.status).toBe(200);
    expect(() => JSON.parse(answer.text)).toThrow(SyntaxError);
  });

  it('delays an answer by an injected or global latency', async () => {
    server.addFault({ path: '/heartbeat', times: 1, spec: { kind: 'latency', latencyMs: 200 } });
    let started = Date.now();
    expect((await call(server, '/heartbeat')).text).toBe('.');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    server.setLatency(200);
    started = Date.now();
    expect((await call(server, '/heartbeat')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    server.setLatency(0);
  });

  it('hangs until the server closes', async () => {
    server.addFault({ path: '/v1/vaults', spec: { kind: 'hang' } });
    const pending = call(server, '/v1/vaults');
    pending.catch(() => undefined);
    while (server.countRequests({ path: '/v1/vaults' }) === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await server.close();
    await expect(pending).rejects.toThrow();
  });
});

describe('@1password/connect SDK against the local server', () => {
  let server: LocalConnect;

  beforeAll(async () => {
    server = await startConnectServer({ seed: TEST_SEED });
  });

  afterAll(async () => {
    await server.close();
  });

  const client = (token = 'writer') => OnePasswordConnect({ serverURL: server.url, token: server.tokens[token]!, keepAlive: false });

  it('lists vaults and finds one by a title with & # + %', async () => {
    const op = client();
    expect((await op.listVaults()).map((vault) => vault.name)).toEqual(['alpha', SPECIAL_VAULT, 'beta']);
    expect((await op.getVaultByTitle(SPECIAL_VAULT)).id).toBe(vaultId(SPECIAL_VAULT));
    expect((await op.getVaultByTitle('alpha')).id).toBe(vaultId('alpha'));
  });

  it('gets items by title (with & and #, + and %) and by id, OTP included', async () => {
    const op = client();
    const alpha = vaultId('alpha');
    const ampHash = await op.getItemByTitle(alpha, AMP_HASH_ITEM);
    expect(ampHash.title).toBe(AMP_HASH_ITEM);
    expect(ampHash.fields?.[0]?.value).toBe('seeded-secret-amp-hash-password');
    expect((await op.getItemByTitle(alpha, PLUS_PERCENT_ITEM)).title).toBe(PLUS_PERCENT_ITEM);
    const byId = await op.getItem(alpha, ampHash.id!);
    expect(byId.id).toBe(ampHash.id);
    const otp = await op.getItemByTitle(alpha, 'otp-login');
    expect(otp.extractOTP()).toMatch(/^\d{6}$/);
  });

  it('updates an item', async () => {
    const op = client();
    const item = await op.getItemByTitle(vaultId('beta'), 'stripe');
    const version = item.version!;
    item.fields![0]!.value = 'updated-through-sdk';
    const updated = await op.updateItem(vaultId('beta'), item);
    expect(updated.version).toBe(version + 1);
    expect(server.getItem('beta', 'stripe').fields[0]?.value).toBe('updated-through-sdk');
  });

  it('rejects with Connect errors the SDK passes through as {status, message}', async () => {
    const readOnly = client('reader');
    const item = await readOnly.getItemByTitle(vaultId('alpha'), 'stripe');
    await expect(readOnly.updateItem(vaultId('alpha'), item)).rejects.toEqual({ status: 401, message: expect.any(String) });
    await expect(client('alpha-only').getVaultById(vaultId('beta'))).rejects.toEqual({ status: 403, message: expect.any(String) });
  });
});

describe('the demo vault', () => {
  it('defines the dev tokens, a token per function and, in both stages, the items the reference functions read', async () => {
    const server = await startConnectServer();
    try {
      const functionTokens = ['staging', 'prod'].flatMap((stage) => ['health', 'webhooks', 'payments', 'canary', 'rotate', 'activity'].map((fn) => `op-lambda-${stage}-${fn}`));
      expect(Object.keys(server.tokens).sort()).toEqual(['dev-read', 'dev-write', 'staging-only', ...functionTokens].sort());
      const staging = server.getItem('op-lambda-staging-webhooks', 'webhook-stripe');
      const prod = server.getItem('op-lambda-prod-webhooks', 'webhook-stripe');
      expect(staging.fields.map((field) => field.label)).toEqual(['current', 'previous', 'rotatedAt']);
      expect(staging.fields[0]?.value).not.toBe(prod.fields[0]?.value);
      for (const vault of ['op-lambda-staging', 'op-lambda-prod']) {
        expect(server.getItem(`${vault}-webhooks`, 'webhook-github').fields.map((f) => f.label)).toEqual(['current', 'previous', 'rotatedAt']);
        expect(server.getItem(`${vault}-payments`, 'payments-api').fields.map((f) => [f.label, f.type])).toContainEqual(['credential', 'CONCEALED']);
        const database = server.getItem(`${vault}-database`, 'database');
        const connection = database.sections?.find((section) => section.label === 'connection');
        expect(database.fields.find((f) => f.label === 'url')?.section?.id).toBe(connection?.id);
        const otp = server.getItem(`${vault}-admin`, 'admin-otp').fields.find((f) => f.label === 'one-time password');
        expect(otp).toMatchObject({ type: 'OTP', value: expect.stringMatching(/^otpauth:\/\/totp\//), totp: expect.stringMatching(/^\d{6}$/) });
      }
      const scoped = json<ConnectVaultJson[]>(await call(server, '/v1/vaults', { token: server.tokens['staging-only'] }));
      expect(scoped.map((vault) => vault.name).sort()).toEqual(['admin', 'database', 'payments', 'webhooks'].map((purpose) => `op-lambda-staging-${purpose}`));
      // Each function's token sees the vaults of its own secrets and no other.
      const visible = async (token: string): Promise<string[]> => json<ConnectVaultJson[]>(await call(server, '/v1/vaults', { token: server.tokens[token] })).map((vault) => vault.name);
      expect(await visible('op-lambda-staging-payments')).toEqual(['op-lambda-staging-payments']);
      expect(await visible('op-lambda-prod-health')).toEqual(['op-lambda-prod-database']);
      expect(await visible('op-lambda-staging-activity')).toEqual([]);
      const seed = JSON.parse(readFileSync(DEMO_SEED_FILE, 'utf8')) as ConnectSeed;
      expect(seed.tokens.find((token) => token.name === 'dev-write')?.write).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('gets the same ids on every start', async () => {
    const first = await startConnectServer();
    const second = await startConnectServer();
    try {
      expect(second.getItem('op-lambda-prod-database', 'database').id).toBe(first.getItem('op-lambda-prod-database', 'database').id);
      expect(second.getItem('op-lambda-prod-database', 'database').fields).toEqual(first.getItem('op-lambda-prod-database', 'database').fields);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe('TOTP (RFC 6238 test vectors, SHA-1, 6 digits)', () => {
  it.each([
    [59, '287082'],
    [1111111109, '081804'],
    [1234567890, '005924'],
    [2000000000, '279037'],
  ])('at %i s the code is %s', (seconds, code) => {
    expect(currentTotp(`otpauth://totp/x?secret=${OTP_SECRET}`, seconds * 1000)).toBe(code);
    expect(currentTotp(OTP_SECRET, seconds * 1000)).toBe(code);
  });

  it('gives no code for a value that is not a secret', () => {
    expect(currentTotp('otpauth://totp/x?secret=not*base32', 0)).toBeUndefined();
  });
});

describe('secrecy', () => {
  it('no error body quoted a seeded value or token', async () => {
    const server = await startConnectServer({ seed: TEST_SEED });
    try {
      const id = await itemIdByTitle(server, 'alpha', 'stripe');
      const writer = server.tokens['writer'];
      const leakyBody = `{"category": "PASSWORD", "fields": [{"value": ${JSON.stringify(SEEDED_VALUES[3])}, "type": 7}]}`;
      await call(server, `/v1/vaults/${vaultId('alpha')}/items/${id}`, { token: writer, method: 'PUT', rawBody: leakyBody });
      await call(server, `/v1/vaults/${vaultId('alpha')}/items/${id}`, { token: writer, method: 'PUT', rawBody: `{"x": "${SEEDED_VALUES[4]}` });
      await call(server, `/v1/vaults?filter=${encodeURIComponent(`value eq "${SEEDED_VALUES[5]}"`)}`);
      await call(server, '/v1/vaults', { token: `${SEEDED_VALUES[0]}x` });
    } finally {
      await server.close();
    }
    expect(errorBodies.length).toBeGreaterThan(20);
    for (const body of errorBodies) {
      for (const value of SEEDED_VALUES) expect(body).not.toContain(value);
    }
  });
});
