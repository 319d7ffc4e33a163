import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stageConfig } from '../../../infra/config';
import { DEMO_SEED_FILE, startConnectServer, type ConnectSeed, type LocalConnect } from '../../../local/connect/server';
import { formatReport, functionTokenVariable, main, runSecretsCheck, type ConnectAccess } from '../../../local/secrets-check';
import { tokenScopes } from '../../../infra/token-scopes';
import { buildManifest } from '../../../shared/ops/manifest';

const ROOT = resolve(__dirname, '../../..');
const demoSeed = (): ConnectSeed => JSON.parse(readFileSync(DEMO_SEED_FILE, 'utf8')) as ConnectSeed;

/** The demo vaults with prod's payments-api lacking `hostname` and prod lacking webhook-github. */
function driftedSeed(): ConnectSeed {
  const seed = demoSeed();
  const vault = (name: string) => seed.vaults.find((candidate) => candidate.name === name)!;
  const webhooks = vault('op-lambda-prod-webhooks');
  webhooks.items = webhooks.items.filter((item) => item.title !== 'webhook-github');
  const payments = vault('op-lambda-prod-payments').items.find((item) => item.title === 'payments-api')!;
  payments.fields = payments.fields.filter((field) => field.label !== 'hostname');
  return seed;
}

/** Every function's own demo token of a stage, as OP_CONNECT_TOKEN_<STAGE>_<FUNCTION> variables. */
function functionTokens(server: LocalConnect, stage: 'staging' | 'prod'): Record<string, string> {
  return Object.fromEntries(
    tokenScopes(stageConfig(stage)).map(({ functionName }) => [functionTokenVariable(stage, functionName), server.tokens[`op-lambda-${stage}-${functionName}`]!]),
  );
}

/** Every field value of the seed: none may appear in anything the check prints. */
function seededValues(seed: ConnectSeed): string[] {
  return seed.vaults.flatMap((vault) => vault.items.flatMap((item) => item.fields.map((field) => field.value ?? ''))).filter((value) => value.length >= 6);
}

const stages = (): { stage: string; manifest: ReturnType<typeof buildManifest> }[] =>
  (['staging', 'prod'] as const).map((stage) => ({ stage, manifest: buildManifest(stageConfig(stage).functions) }));

let connect: LocalConnect | undefined;

afterEach(async () => {
  await connect?.close();
  connect = undefined;
});

function accessTo(server: LocalConnect): ConnectAccess {
  return { allowHttp: false, hostFor: () => server.url, tokenFor: () => server.tokens['dev-read']! };
}

describe('secrets:check', () => {
  it('passes a clean staging/prod pair', async () => {
    connect = await startConnectServer({ port: 0, seed: demoSeed() });
    const report = await runSecretsCheck(stages(), accessTo(connect));
    expect(report.ok).toBe(true);
    expect(report.drift).toEqual([]);
    expect(report.stages.map(({ checks }) => checks.length)).toEqual([6, 6]);
  });

  it('reports a missing item and a missing field, without printing a value', async () => {
    const seed = driftedSeed();
    connect = await startConnectServer({ port: 0, seed });
    const report = await runSecretsCheck(stages(), accessTo(connect));
    expect(report.ok).toBe(false);

    const prodFailures = report.stages[1]!.checks.filter((check) => !check.ok);
    expect(prodFailures.map((check) => [check.name, check.code])).toEqual([
      ['WEBHOOK_GITHUB_CURRENT', 'NOT_FOUND'],
      ['WEBHOOK_GITHUB_PREVIOUS', 'NOT_FOUND'],
    ]);
    expect(report.stages[0]!.checks.every((check) => check.ok)).toBe(true);
    expect(report.drift).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'missing-item', stage: 'prod', functionName: 'webhooks', item: 'op-lambda-prod-webhooks/webhook-github' }),
        expect.objectContaining({ kind: 'missing-field', stage: 'prod', functionName: 'payments', item: 'op-lambda-prod-payments/payments-api', field: 'hostname' }),
      ]),
    );
    expect(report.drift).toHaveLength(2);

    const printed = formatReport(report) + JSON.stringify(report);
    expect(printed).toContain('missing-field');
    for (const value of seededValues(seed)) expect(printed).not.toContain(value);
  });

  it('reports a secret name declared by one stage only', async () => {
    connect = await startConnectServer({ port: 0, seed: demoSeed() });
    const [staging, prod] = stages();
    const extended = { stage: 'prod', manifest: { ...prod!.manifest, payments: { ...prod!.manifest['payments'], PAYMENTS_WEBHOOK: 'op://op-lambda-prod-payments/payments-api/credential' } } };
    const report = await runSecretsCheck([staging!, extended], accessTo(connect));
    expect(report.drift).toEqual([expect.objectContaining({ kind: 'missing-secret', stage: 'staging', functionName: 'payments', name: 'PAYMENTS_WEBHOOK' })]);
    expect(report.ok).toBe(false);
  });

  it('reads each stage through its own Connect server (OP_CONNECT_HOST_<STAGE>, OP_CONNECT_TOKEN_<STAGE>)', async () => {
    const onlyStage = (stage: string): ConnectSeed => {
      const seed = demoSeed();
      const vaults = seed.vaults.filter((vault) => vault.name.startsWith(`op-lambda-${stage}-`));
      const tokens = seed.tokens.filter((token) => token.vaults.every((ref) => ref === '*' || vaults.some((vault) => vault.name === ref || vault.id === ref)));
      return { ...seed, vaults, tokens };
    };
    const staging = await startConnectServer({ port: 0, seed: onlyStage('staging') });
    const prod = await startConnectServer({ port: 0, seed: onlyStage('prod') });
    try {
      const out: string[] = [];
      const io = { out: (text: string) => out.push(text), err: (text: string) => out.push(text) };
      const env = {
        OP_CONNECT_HOST_STAGING: staging.url,
        OP_CONNECT_TOKEN_STAGING: staging.tokens['dev-read']!,
        OP_CONNECT_HOST_PROD: prod.url,
        OP_CONNECT_TOKEN_PROD: prod.tokens['dev-read']!,
      };
      expect(await main(['--stage', 'staging', '--compare', 'prod'], env, io)).toBe(0);
      expect(out.join('\n')).toContain('OK: 12 references resolved, no drift');
      // One shared host for both would not find prod's vaults on staging's server.
      expect(await main(['--stage', 'staging', '--compare', 'prod'], { ...env, OP_CONNECT_HOST_PROD: '', OP_CONNECT_HOST: staging.url, OP_CONNECT_TOKEN_PROD: staging.tokens['dev-read']! }, io)).toBe(1);
    } finally {
      await Promise.all([staging.close(), prod.close()]);
    }
  });

  it('passes when each function\'s own demo token sees exactly the vaults it declares', async () => {
    connect = await startConnectServer({ port: 0, seed: demoSeed() });
    const server = connect;
    const tokens = { ...functionTokens(server, 'staging'), ...functionTokens(server, 'prod') };
    const access = { ...accessTo(server), functionTokenFor: (stage: string, fn: string) => tokens[functionTokenVariable(stage, fn)] };
    const report = await runSecretsCheck(
      stages().map((stage) => ({ ...stage, tokenScopes: tokenScopes(stageConfig(stage.stage as 'staging' | 'prod')) })),
      access,
    );
    expect(report.ok).toBe(true);
    expect(report.stages.map(({ tokens: checked }) => checked.map((token) => [token.functionName, token.ok]))).toEqual(
      ['staging', 'prod'].map(() => ['health', 'webhooks', 'payments', 'canary', 'rotate', 'activity'].map((name) => [name, true])),
    );
  });

  it('fails a function whose token sees a vault it does not declare, and one whose token misses a vault it needs', async () => {
    connect = await startConnectServer({ port: 0, seed: demoSeed() });
    const server = connect;
    const tokens: Record<string, string> = {
      ...functionTokens(server, 'staging'),
      // The webhooks function holding the all-vaults operator token; payments holding health's.
      [functionTokenVariable('staging', 'webhooks')]: server.tokens['dev-read']!,
      [functionTokenVariable('staging', 'payments')]: server.tokens['op-lambda-staging-health']!,
    };
    const access = { ...accessTo(server), functionTokenFor: (stage: string, fn: string) => tokens[functionTokenVariable(stage, fn)] };
    const [staging] = stages();
    const report = await runSecretsCheck([{ ...staging!, tokenScopes: tokenScopes(stageConfig('staging')) }], access);
    expect(report.ok).toBe(false);
    const byFunction = Object.fromEntries(report.stages[0]!.tokens.map((token) => [token.functionName, token]));
    expect(byFunction['webhooks']).toMatchObject({
      ok: false,
      undeclared: expect.arrayContaining(['op-lambda-staging-payments', 'op-lambda-staging-database', 'op-lambda-prod-payments']),
      missing: [],
    });
    expect(byFunction['payments']).toMatchObject({ ok: false, undeclared: ['op-lambda-staging-database'], missing: ['op-lambda-staging-payments'] });
    expect(byFunction['health']!.ok).toBe(true);
    const printed = formatReport(report);
    expect(printed).toMatch(/^staging\s+webhooks\s+FAIL sees undeclared vault\(s\) .*op-lambda-staging-payments/m);
    expect(printed).toContain('2 token(s) badly scoped');
    for (const token of Object.values(tokens)) expect(printed).not.toContain(token);
  });

  it('refuses to run without a stage or a Connect host', async () => {
    const errors: string[] = [];
    const io = { out: () => undefined, err: (text: string) => errors.push(text) };
    expect(await main([], {}, io)).toBe(2);
    expect(await main(['--stage', 'staging'], { OP_CONNECT_TOKEN: 't' }, io)).toBe(2);
    expect(await main(['--stage', 'staging', '--compare', 'staging'], {}, io)).toBe(2);
    expect(errors.join('\n')).toMatch(/--stage must be one of staging, prod[\s\S]*no Connect host for staging: set OP_CONNECT_HOST_STAGING \(or OP_CONNECT_HOST for every stage\)[\s\S]*--compare must name another stage/);
  });
});

describe('secrets:check as a command', () => {
  let directory: string;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'secrets-check-'));
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'local/secrets-check.ts', ...args], {
        cwd: ROOT,
        env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', fail);
      child.on('close', (code) => done({ code, stdout, stderr }));
    });
  }

  it('exits 1 on drift with a readable table, and 0 on a clean pair', async () => {
    const seed = driftedSeed();
    writeFileSync(join(directory, 'seed.json'), JSON.stringify(seed));
    connect = await startConnectServer({ port: 0, seedFile: join(directory, 'seed.json') });
    const env = { OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN: connect.tokens['dev-read']! };

    const drifted = await runCli(['--stage', 'staging', '--compare', 'prod'], env);
    expect(drifted.stderr).toBe('');
    expect(drifted.code).toBe(1);
    expect(drifted.stdout).toMatch(/^prod\s+webhooks\s+WEBHOOK_GITHUB_CURRENT\s+op:\/\/op-lambda-prod-webhooks\/webhook-github\/current\s+FAIL NOT_FOUND/m);
    expect(drifted.stdout).toMatch(/^missing-field\s+prod\s+payments\s+PAYMENTS_API_KEY\s+op-lambda-prod-payments\/payments-api\s+hostname/m);
    for (const value of [...seededValues(seed), env.OP_CONNECT_TOKEN]) expect(drifted.stdout + drifted.stderr).not.toContain(value);

    const stagingOnly = await runCli(['--stage', 'staging'], env);
    expect(stagingOnly.code).toBe(0);
    expect(stagingOnly.stdout).toContain('OK: 6 references resolved');

    await connect.close();
    connect = await startConnectServer({ port: 0, seed: demoSeed() });
    const clean = await runCli(['--stage', 'staging', '--compare', 'prod'], { OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN: connect.tokens['dev-read']! });
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('OK: 12 references resolved, no drift');
    expect(clean.stdout).toContain('not checked: give a function\'s own token as OP_CONNECT_TOKEN_<STAGE>_<FUNCTION>');
  }, 60_000);

  it('checks each function\'s own token: 0 on the demo tokens, 1 with an over-broad one', async () => {
    connect = await startConnectServer({ port: 0, seed: demoSeed() });
    const env = { OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN: connect.tokens['dev-read']!, ...functionTokens(connect, 'staging') };

    const scoped = await runCli(['--stage', 'staging'], env);
    expect(scoped.stderr).toBe('');
    expect(scoped.code).toBe(0);
    expect(scoped.stdout).toMatch(/^staging\s+payments\s+ok$/m);
    expect(scoped.stdout).toContain('OK: 6 references resolved, 6 token(s) scoped to their vaults');

    const overBroad = await runCli(['--stage', 'staging'], { ...env, OP_CONNECT_TOKEN_STAGING_HEALTH: connect.tokens['staging-only']! });
    expect(overBroad.code).toBe(1);
    expect(overBroad.stdout).toMatch(/^staging\s+health\s+FAIL sees undeclared vault\(s\) op-lambda-staging-admin, op-lambda-staging-payments, op-lambda-staging-webhooks$/m);
    for (const token of Object.values(connect.tokens)) expect(scoped.stdout + overBroad.stdout + overBroad.stderr).not.toContain(token);
  }, 60_000);
});
