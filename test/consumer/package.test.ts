/**
 * The packed package, used from outside the repository as a user would: `npm pack`, install the
 * tarball into a fresh project in the system's temp directory with what a user adds beside it
 * (pinned to this repository's lockfile, so npm serves it from its cache), then run that project's
 * Middy handlers, Powertools reads, jest test and `cdk synth` against op-lambda/testing's server.
 * The project's files are in ./project; seed values are random per run and never printed.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectSeed } from 'op-lambda/testing';
import { scanForLeaks } from '../helpers/leak-scan';

const REPO_ROOT = join(__dirname, '..', '..');
const PROJECT_FILES = join(__dirname, 'project');
/** What a user installs beside op-lambda: Middy, Powertools Parameters, the CDK, esbuild for NodejsFunction, jest. */
const USER_PACKAGES = ['@middy/core', '@aws-lambda-powertools/parameters', 'aws-cdk-lib', 'constructs', 'aws-cdk', 'esbuild', 'jest'];
const ENTRY_POINTS = ['.', './cdk', './testing', './powertools'] as const;
const REFERENCE = 'op://app/api/credential';

interface PackageManifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  exports: Record<string, { import: { types: string; default: string }; require: { types: string; default: string } }>;
}

const apiKey = `ak_${randomBytes(18).toString('hex')}`;
const token = `tok_${randomBytes(24).toString('hex')}`;
const seed: ConnectSeed = {
  tokens: [{ name: 'ci', token, vaults: ['app'] }],
  vaults: [{ name: 'app', items: [{ title: 'api', category: 'API_CREDENTIAL', fields: [{ label: 'credential', type: 'CONCEALED', value: apiKey }] }] }],
};
const apiKeyDigest = createHash('sha256').update(apiKey).digest('hex');

let project: string;
let manifest: PackageManifest;
let tarballName: string;

/** Runs a command to completion; resolves its stderr then its stdout (so stdout's last line ends it). */
function run(command: string, args: readonly string[], cwd: string): Promise<string> {
  // The user's project sees no Connect settings or jest state of this one.
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('OP_CONNECT_') && !name.startsWith('JEST_'));
  const env: NodeJS.ProcessEnv = { ...Object.fromEntries(inherited), CDK_DISABLE_CLI_TELEMETRY: 'true', CI: 'true' };
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const output = `${stdout}\n${stderr}`;
      if (error) reject(new Error(`${command} ${args.join(' ')} failed (${error.code ?? error.signal}):\n${output.slice(-4000)}`));
      else resolve(`${stderr}\n${stdout}`);
    });
  });
}

function npm(args: readonly string[], cwd: string): Promise<string> {
  const npmCli = process.env['npm_execpath'];
  return npmCli ? run(process.execPath, [npmCli, ...args], cwd) : run('npm', args, cwd);
}

function node(args: readonly string[]): Promise<string> {
  return run(process.execPath, args, project);
}

/** The last line of a script's stdout, which each project script prints as JSON. */
function lastJson<T>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

function expectNoLeaks(captured: string): void {
  expect(scanForLeaks({ captured }, [apiKey, token])).toEqual([]);
}

/** The versions this repository's lockfile pins, so the install is served from npm's cache. */
async function lockedVersions(names: readonly string[]): Promise<Record<string, string>> {
  const lock = JSON.parse(await readFile(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
  return Object.fromEntries(names.map((name) => [name, lock.packages[`node_modules/${name}`]!.version]));
}

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'op-lambda-consumer-'));
  manifest = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageManifest;
  tarballName = (await npm(['pack', '--silent', '--pack-destination', project], REPO_ROOT)).trim().split('\n').pop()!;
  await cp(PROJECT_FILES, project, { recursive: true });
  await writeFile(join(project, 'seed.json'), JSON.stringify(seed));
  const userPackage = {
    name: 'consumer-app',
    private: true,
    dependencies: { 'op-lambda': `file:./${tarballName}`, ...(await lockedVersions(USER_PACKAGES)) },
    jest: { testMatch: ['**/*.test.cjs'], testTimeout: 30_000 },
  };
  await writeFile(join(project, 'package.json'), JSON.stringify(userPackage, null, 2));
  await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], project);
}, 300_000);

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('is op-lambda-<version>.tgz, and every entry point has types, an import and a require build', async () => {
    expect(tarballName).toBe(`op-lambda-${manifest.version}.tgz`);
    const installed = join(project, 'node_modules', 'op-lambda');
    const files = new Set((await readdir(join(installed, 'dist'))).map((file) => `./dist/${file}`));
    for (const entry of ENTRY_POINTS) {
      const conditions = manifest.exports[entry]!;
      expect([conditions.import.types, conditions.import.default, conditions.require.types, conditions.require.default].filter((file) => !files.has(file))).toEqual([]);
    }
  });

  it('loads every entry point through require()', async () => {
    const output = await node(['entry-points.cjs']);
    expect(lastJson(output)).toEqual({
      runtime: ['function', 'function', 'function'],
      cdk: ['function', 'function', 'function'],
      testing: ['function'],
      powertools: ['function'],
    });
  });

  it('loads every entry point through import', async () => {
    const output = await node(['entry-points.mjs']);
    expect(lastJson(output)).toEqual({
      runtime: ['function', 'function', 'function'],
      cdk: ['function', 'function', 'function'],
      testing: ['function'],
      powertools: ['function'],
    });
  });

  it('keeps aws-cdk-lib, constructs and every dev dependency out of the runtime entry point', async () => {
    const dist = join(project, 'node_modules', 'op-lambda', 'dist');
    const allowed = new Set([...builtinModules, ...Object.keys(manifest.dependencies ?? {})]);
    const outside: string[] = [];
    for (const file of await runtimeFiles(dist)) {
      const source = await readFile(join(dist, file), 'utf8');
      for (const [, specifier] of source.matchAll(/(?:require\(|import\(|from )"([^"]+)"/g)) {
        if (specifier!.startsWith('./')) continue;
        const name = specifier!.replace(/^node:/, '').split('/').slice(0, specifier!.startsWith('@') ? 2 : 1).join('/');
        if (!allowed.has(name)) outside.push(`${file}: ${specifier}`);
      }
    }
    expect(outside).toEqual([]);
  });
});

describe('a user project', () => {
  it('runs an ESM Middy handler that receives its secret, fetched once', async () => {
    const output = await node(['run-handler.mjs', 'mjs']);
    const result = lastJson<{ first: { body: string }; second: { body: string }; itemGets: number }>(output);
    expect(JSON.parse(result.first.body)).toEqual({ digest: apiKeyDigest });
    expect(JSON.parse(result.second.body)).toEqual({ digest: apiKeyDigest });
    expect(result.itemGets).toBe(1);
    expectNoLeaks(output);
  });

  it('runs a CommonJS Middy handler whose secret is declared by environment', async () => {
    const output = await node(['run-handler.mjs', 'cjs']);
    const result = lastJson<{ first: { body: string }; itemGets: number }>(output);
    expect(JSON.parse(result.first.body)).toEqual({ digest: apiKeyDigest });
    expect(result.itemGets).toBe(1);
    expectNoLeaks(output);
  });

  it('reads the Powertools way: get caches, maxAge reuses, forceFetch fetches again', async () => {
    const output = await node(['powertools-read.mjs']);
    const steps = lastJson<Record<string, { digest?: string; itemGets?: number; name?: string; message?: string }>>(output);
    expect(steps['first']).toEqual({ digest: apiKeyDigest, itemGets: 1 });
    expect(steps['cached']).toEqual({ digest: apiKeyDigest, itemGets: 1 });
    expect(steps['forced']).toEqual({ digest: apiKeyDigest, itemGets: 2 });
    expect(steps['getMultiple']?.message).toMatch(/does not support getMultiple/);
    expect(steps['missingField']).toMatchObject({ name: 'GetParameterError', message: expect.stringContaining('op://app/api/nothing') });
    expectNoLeaks(output);
  });

  it("passes the project's own jest test", async () => {
    const output = await node([join('node_modules', 'jest', 'bin', 'jest.js'), '--ci', '--colors=false']);
    expect(output).toMatch(/Tests:\s+2 passed, 2 total/);
    expectNoLeaks(output);
  }, 120_000);

  it('synthesizes a stack with a SecretsFunction whose bundle resolves its secret', async () => {
    const cli = join('node_modules', 'aws-cdk', 'bin', 'cdk');
    const synth = await node([cli, 'synth', '--app', 'node app.mjs', '--output', 'cdk.out', '--quiet', '--no-notices', '--no-version-reporting']);
    const template = JSON.parse(await readFile(join(project, 'cdk.out', 'ConsumerStack.template.json'), 'utf8')) as CfnTemplate;
    const fn = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::Lambda::Function')!;
    expect(fn.Properties).toMatchObject({
      FunctionName: 'consumer-api',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: { Variables: { API_KEY: REFERENCE, OP_CONNECT_HOST: 'https://connect.example.com', POWERTOOLS_METRICS_NAMESPACE: 'OpLambda' } },
    });

    const bundle = join(project, 'cdk.out', `asset.${(fn.Properties['Code'] as { S3Key: string }).S3Key.replace(/\.zip$/, '')}`, 'index.js');
    const invoked = await node(['invoke-asset.cjs', bundle]);
    expect(JSON.parse(lastJson<{ body: string }>(invoked).body)).toEqual({ digest: apiKeyDigest });
    expectNoLeaks([synth, invoked, JSON.stringify(template), await readFile(bundle, 'utf8')].join('\n'));
  }, 120_000);
});

interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

/** dist files the runtime entry loads: index.js, index.mjs and the chunks index.mjs imports. */
async function runtimeFiles(dist: string): Promise<string[]> {
  const esm = await readFile(join(dist, 'index.mjs'), 'utf8');
  const chunks = [...esm.matchAll(/from "\.\/([^"]+)"/g)].map(([, chunk]) => chunk!);
  return ['index.js', 'index.mjs', ...chunks];
}
