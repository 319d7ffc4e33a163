// The early start over real loopback HTTP: requests sent from the environment before the resolver
// exists, each answer taken once by the resolver's transport, failed ones asked again, the token
// read from Secrets Manager handed to the token source, and no token in any error.
import { startConnectServer, type ConnectSeed, type LocalConnect } from '../../local/connect/server';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../../local/secrets-manager/server';
import { ConnectSource } from '../../shared/secrets/connect/connect-source';
import { clearEarlyStart, earlyStart } from '../../shared/secrets/connect/early-responses';
import { startEarlyRequests } from '../../shared/secrets/connect/early-start';
import type { ConnectOutcome } from '../../shared/secrets/connect/resolution';
import type { Environment } from '../../shared/secrets/environment';
import { parseReference } from '../../shared/secrets/reference';
import { expectNoLeaks } from '../helpers/leak-scan';

const TOKEN = 'opl-early-read-t7w2q9x4c1v8b3n6';
const TOKEN_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:op-connect-token-EaRlY1';
const AWS = { accessKeyId: 'AKIDEARLYSTART', secretAccessKey: 'early-start-secret-key', sessionToken: 'early-start-session' };
const VALUES = { stripe: 'SEEDVALUE-early-stripe-4c8e1a', webhook: 'SEEDVALUE-early-webhook-9b3d7f', postgres: 'SEEDVALUE-early-pg-2e6a0c' };

const SEED: ConnectSeed = {
  tokens: [{ name: 'reader', token: TOKEN, vaults: ['*'] }],
  vaults: [
    {
      name: 'Payments',
      items: [
        {
          title: 'Stripe',
          category: 'API_CREDENTIAL',
          fields: [
            { label: 'credential', type: 'CONCEALED', value: VALUES.stripe },
            { label: 'webhook', type: 'CONCEALED', value: VALUES.webhook },
          ],
        },
      ],
    },
    { name: 'Database', items: [{ title: 'postgres', category: 'DATABASE', fields: [{ label: 'password', type: 'CONCEALED', value: VALUES.postgres }] }] },
  ],
};

let connect: LocalConnect;
let secretsManager: SecretsManagerStandIn;

beforeAll(async () => {
  connect = await startConnectServer({ port: 0, seed: SEED });
  secretsManager = await startSecretsManagerStandIn({ secrets: { [TOKEN_SECRET_ARN]: JSON.stringify({ token: TOKEN }) }, credentials: AWS });
});

afterAll(async () => {
  await secretsManager.close();
  await connect.close();
});

beforeEach(() => {
  clearEarlyStart();
  connect.clearFaults();
  connect.resetRequests();
  secretsManager.resetCalls();
});

/** `op://<vault id>/<item id>/<field>`. */
function byId(vault: string, item: string, field: string): string {
  const json = connect.getItem(vault, item);
  return `op://${json.vault.id}/${json.id}/${field}`;
}

function environment(references: Record<string, string>, token: Environment = { OP_CONNECT_TOKEN: TOKEN }): Environment {
  return { OP_CONNECT_HOST: connect.url, ...token, ...references };
}

const AWS_TOKEN: Environment = {
  OP_CONNECT_TOKEN_SECRET_ARN: TOKEN_SECRET_ARN,
  AWS_REGION: 'eu-west-1',
  AWS_ENDPOINT_URL_SECRETS_MANAGER: '',
  AWS_ACCESS_KEY_ID: AWS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: AWS.secretAccessKey,
  AWS_SESSION_TOKEN: AWS.sessionToken,
};

/** Resolves what `env` declares with a source made from `env`, as the store would after INIT. */
async function resolveDeclared(env: Environment): Promise<ConnectOutcome> {
  const source = ConnectSource.fromEnv(env, { maxAttempts: 2, backoffBaseMs: 0 });
  try {
    const references = Object.values(env).filter((value): value is string => value?.startsWith('op://') === true).map(parseReference);
    return await source.resolve(references, { deadline: Date.now() + 5_000 });
  } finally {
    source.closeConnections();
  }
}

/** Until every early request has its answer (or its failure). */
async function answered(): Promise<void> {
  const early = earlyStart();
  const pending = [...(early?.responses.values() ?? [])].map((entry) => entry.response);
  await Promise.allSettled([...pending, ...(early?.tokenReads.values() ?? [])]);
}

function valuesOf(outcome: ConnectOutcome): string[] {
  return [...outcome.values.values()].map((secret) => secret.value).sort();
}

describe('startEarlyRequests', () => {
  it('sends nothing and publishes nothing without declared references', async () => {
    await startEarlyRequests({ OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN: TOKEN }).sent;
    expect([earlyStart(), connect.countRequests()]).toEqual([undefined, 0]);
  });

  it('sends nothing to a host the resolver would refuse (plain http, not loopback)', async () => {
    await startEarlyRequests({ OP_CONNECT_HOST: 'http://connect.example.com', OP_CONNECT_TOKEN: TOKEN, A: 'op://Payments/Stripe/credential' }).sent;
    expect(earlyStart()).toBeUndefined();
  });

  it('has every request on the wire when `sent` settles: one item GET per item by id, one vault list for names', async () => {
    const env = environment({ A: byId('Payments', 'Stripe', 'credential'), B: byId('Payments', 'Stripe', 'webhook'), C: 'op://Database/postgres/password' });
    await startEarlyRequests(env).sent;
    await answered();
    expect(connect.requests.map((request) => request.path).sort()).toEqual([`/v1/vaults`, `/v1/vaults/${connect.getItem('Payments', 'Stripe').vault.id}/items/${connect.getItem('Payments', 'Stripe').id}`].sort());
  });
});

describe('the resolver after an early start', () => {
  it('takes the early answers instead of asking again: by id, one request per item in all', async () => {
    const env = environment({ A: byId('Payments', 'Stripe', 'credential'), B: byId('Payments', 'Stripe', 'webhook'), C: byId('Database', 'postgres', 'password') });
    await startEarlyRequests(env).sent;
    const outcome = await resolveDeclared(env);
    expect(valuesOf(outcome)).toEqual([VALUES.stripe, VALUES.webhook, VALUES.postgres].sort());
    expect(connect.countRequests()).toBe(2);
  });

  it('takes each early answer once: the next resolve asks Connect again', async () => {
    const env = environment({ A: byId('Payments', 'Stripe', 'credential') });
    await startEarlyRequests(env).sent;
    await resolveDeclared(env);
    const again = await resolveDeclared(env);
    expect([valuesOf(again), connect.countRequests()]).toEqual([[VALUES.stripe], 2]);
  });

  it('by name, takes the early vault list: the minimum of vault list, item lists and item GETs', async () => {
    const env = environment({ A: 'op://Payments/Stripe/credential', C: 'op://database/POSTGRES/password' });
    await startEarlyRequests(env).sent;
    const outcome = await resolveDeclared(env);
    expect(valuesOf(outcome)).toEqual([VALUES.stripe, VALUES.postgres].sort());
    expect([connect.countRequests({ path: '/v1/vaults' }), connect.countRequests()]).toEqual([1, 5]);
  });

  it('reports the latency of an early answer from when its request left', async () => {
    const env = environment({ A: byId('Payments', 'Stripe', 'credential') });
    await startEarlyRequests(env).sent;
    const sentAt = earlyStart()!.startedAt;
    const latencies: number[] = [];
    // A clock stopped 1000 ms after the early start: the latency is that, not the 0 ms the resolver waited.
    const source = ConnectSource.fromEnv(env, { clock: () => sentAt + 1_000 });
    await source.resolve([parseReference(env['A']!)], { deadline: sentAt + 5_000, onFetch: (report) => latencies.push(report.latencyMs) });
    source.closeConnections();
    expect(latencies).toEqual([1_000]);
  });

  it('asks again when the early request failed, and serves the value', async () => {
    const path = `/v1/vaults/${connect.getItem('Payments', 'Stripe').vault.id}/items/${connect.getItem('Payments', 'Stripe').id}`;
    connect.addFault({ path, times: 1, spec: { kind: 'reset' } });
    const env = environment({ A: byId('Payments', 'Stripe', 'credential') });
    await startEarlyRequests(env).sent;
    const reports: number[] = [];
    const source = ConnectSource.fromEnv(env, { maxAttempts: 1 });
    const outcome = await source.resolve([parseReference(env['A']!)], { deadline: Date.now() + 5_000, onFetch: (report) => reports.push(report.attempts) });
    source.closeConnections();
    // One attempt of its own: the early failure is neither an attempt nor a remembered failure.
    expect([valuesOf(outcome), reports, connect.countRequests({ path })]).toEqual([[VALUES.stripe], [1], 2]);
  });

  it('runs an early error answer through the retry path like any other (a 503, then a fresh request)', async () => {
    connect.addFault({ path: /\/items\//, times: 1, spec: { kind: 'status', status: 503 } });
    const env = environment({ A: byId('Payments', 'Stripe', 'credential') });
    await startEarlyRequests(env).sent;
    const outcome = await resolveDeclared(env);
    expect([valuesOf(outcome), connect.countRequests()]).toEqual([[VALUES.stripe], 2]);
  });

  it('does not serve an answer sent with another token', async () => {
    const env = environment({ A: byId('Payments', 'Stripe', 'credential') });
    await startEarlyRequests({ ...env, OP_CONNECT_TOKEN: 'opl-some-other-token-0000' }).sent;
    const outcome = await resolveDeclared(env);
    expect([valuesOf(outcome), connect.countRequests(), connect.requests.map((request) => request.tokenName ?? 'unknown').sort()]).toEqual([
      [VALUES.stripe],
      2,
      ['reader', 'unknown'],
    ]);
  });

  it('on the AWS path, reads the token once: the early read seeds the token source', async () => {
    const env = environment({ A: byId('Payments', 'Stripe', 'credential') }, { ...AWS_TOKEN, AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url });
    await startEarlyRequests(env).sent;
    const outcome = await resolveDeclared(env);
    expect([valuesOf(outcome), secretsManager.calls.length, connect.countRequests()]).toEqual([[VALUES.stripe], 1, 1]);
  });

  it('reads the token again when the early read failed', async () => {
    secretsManager.setFault({ status: 500, type: 'InternalServiceError' });
    const env = environment({ A: byId('Payments', 'Stripe', 'credential') }, { ...AWS_TOKEN, AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url });
    await startEarlyRequests(env).sent;
    await answered();
    secretsManager.setFault(undefined);
    const outcome = await resolveDeclared(env);
    expect([valuesOf(outcome), secretsManager.calls.length]).toEqual([[VALUES.stripe], 2]);
  });

  it('puts the token in no error, whether the early answer was refused or broken', async () => {
    const wrongToken = 'opl-early-wrong-token-h3k8m2p6';
    connect.addFault({ path: '/v1/vaults', times: 1, spec: { kind: 'reset' } });
    const captured: string[] = [];
    for (const token of [wrongToken, TOKEN]) {
      clearEarlyStart();
      const env = environment({ A: byId('Payments', 'Stripe', 'credential'), C: 'op://Database/postgres/nope' }, { OP_CONNECT_TOKEN: token });
      await startEarlyRequests(env).sent;
      const outcome = await resolveDeclared(env);
      for (const error of outcome.errors.values()) captured.push(error.message, String(error.cause), JSON.stringify(error), error.stack ?? '');
    }
    expect(captured.length).toBeGreaterThan(0);
    expectNoLeaks({ errors: captured }, [TOKEN, wrongToken, ...Object.values(VALUES)]);
  });
});
