/**
 * Bundle cost: minified bytes and `require` time (fresh process) of every function as `cdk synth`
 * builds it, next to comparison handlers bundled the way `NodejsFunction` does by default; which
 * packages the bytes come from; and what leaving axios (unused at run time) out would save.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readCloudAssembly } from '../local/gateway/cloud-assembly';
import { buildEmulationModel } from '../local/gateway/template-model';
import { createRuntimeDir, type RuntimeDir } from '../local/lambda/runtime-dir';
import type { FunctionDefinition } from '../local/lambda/types';
import { AS_SECRETS_FUNCTION, AXIOS_LEFT_OUT, bundleHandler, PROJECT_ROOT, type BuiltBundle, type PackageShare } from './build';
import { comparedSecretNames } from './handlers/catalog';
import { figure, formatBytes, formatMs, type Figure } from './figures';
import { requireTimeMs } from './require-time';
import { median } from './stats';
import { printTable, type Table } from './table';

export interface BundleOptions {
  workDir: string;
  /** Fresh processes per bundle and setting. */
  repetitions: number;
}

/**
 * `bundled`: the AWS SDK is inside the bundle; `runtime`: left to the Lambda runtime (NodejsFunction's
 * default); `signer`: only the SDK's request signer, for op-lambda's own GetSecretValue.
 */
export type SdkPlacement = 'bundled' | 'runtime' | 'signer' | 'unused';

export interface PackageFigure {
  name: string;
  bytes: Figure;
  share: Figure;
}

export interface BundleEntryResult {
  id: string;
  label: string;
  sdk: SdkPlacement;
  bytes: Figure;
  mapBytes?: Figure;
  /** Synthesized functions: size of the rebuild the package breakdown comes from (close to `bytes`). */
  rebuiltBytes?: Figure;
  /** Median `require` time, source maps off (comparable across every bundle). */
  requireMs: Figure;
  /** Median `require` time with `--enable-source-maps`, as SecretsFunction deploys. */
  requireMsSourceMaps?: Figure;
  packages: PackageFigure[];
}

export interface AxiosSaving {
  withAxiosBytes: Figure;
  withoutAxiosBytes: Figure;
  savedBytes: Figure;
  savedShare: Figure;
  withAxiosRequireMs: Figure;
  withoutAxiosRequireMs: Figure;
  savedRequireMs: Figure;
}

export interface BundleResults {
  repetitions: number;
  functions: BundleEntryResult[];
  /** Why the synthesized functions are missing, when they are. */
  synthError?: string;
  comparisons: BundleEntryResult[];
  axios: AxiosSaving;
}

interface Candidate {
  id: string;
  label: string;
  sdk: SdkPlacement;
  file: string;
  bytes: number;
  mapBytes?: number;
  rebuiltBytes?: number;
  packages: PackageShare[];
  env: Record<string, string>;
  /** Also measure with NODE_OPTIONS=--enable-source-maps. */
  withSourceMaps: boolean;
}

interface ComparisonSpec {
  id: string;
  label: string;
  entry: string;
  sdk: SdkPlacement;
  replace?: Record<string, string>;
}

const COMPARISONS: readonly ComparisonSpec[] = [
  { id: 'noop', label: 'handler doing nothing', entry: 'bench/handlers/noop.ts', sdk: 'unused' },
  { id: 'bare-middy', label: 'bare Middy', entry: 'bench/handlers/bare-middy.ts', sdk: 'unused' },
  { id: 'middy-secrets-manager', label: '@middy/secrets-manager, 10 secrets', entry: 'bench/handlers/middy-secrets-manager.ts', sdk: 'runtime' },
  { id: 'middy-secrets-manager-sdk-bundled', label: '@middy/secrets-manager, 10 secrets', entry: 'bench/handlers/middy-secrets-manager.ts', sdk: 'bundled' },
  { id: 'powertools-secrets', label: 'Powertools getSecret, 10 secrets', entry: 'bench/handlers/powertools-secrets.ts', sdk: 'runtime' },
  { id: 'op-lambda', label: 'op-lambda (opSecrets), 10 secrets', entry: 'bench/handlers/op-lambda.ts', sdk: 'signer', replace: AXIOS_LEFT_OUT },
  {
    id: 'op-lambda-sdk-token',
    label: 'op-lambda (opSecrets), 10 secrets, token read with the AWS SDK client',
    entry: 'bench/handlers/op-lambda-sdk-token.ts',
    sdk: 'bundled',
    replace: AXIOS_LEFT_OUT,
  },
  {
    id: 'op-lambda-sdk-token-runtime',
    label: 'op-lambda (opSecrets), 10 secrets, token read with the AWS SDK client',
    entry: 'bench/handlers/op-lambda-sdk-token.ts',
    sdk: 'runtime',
    replace: AXIOS_LEFT_OUT,
  },
  { id: 'op-lambda-with-axios', label: 'op-lambda (opSecrets), 10 secrets, axios bundled', entry: 'bench/handlers/op-lambda.ts', sdk: 'signer' },
  { id: 'connect-parallel', label: '@1password/connect by hand, 10 secrets', entry: 'bench/handlers/connect-parallel.ts', sdk: 'unused' },
];

const TOP_PACKAGES = 12;

export async function runBundleBench(options: BundleOptions): Promise<BundleResults> {
  const runtimeDir = await createRuntimeDir();
  try {
    const base = baseEnvironment(runtimeDir);
    const synthesized = await synthesizedCandidates(options.workDir, base);
    const comparisons = await comparisonCandidates(options.workDir, base);
    const all = [...synthesized.candidates, ...comparisons];
    const timings = await measureRequires(all, options.repetitions);
    const resultOf = (candidate: Candidate): BundleEntryResult => toResult(candidate, timings.get(candidate)!);
    const results: BundleResults = {
      repetitions: options.repetitions,
      functions: synthesized.candidates.map(resultOf),
      ...(synthesized.error ? { synthError: synthesized.error } : {}),
      comparisons: comparisons.map(resultOf),
      axios: axiosSaving(comparisons.map(resultOf)),
    };
    for (const table of bundleTables(results)) printTable(table);
    return results;
  } finally {
    await runtimeDir.dispose();
  }
}

/** What every bundle's process starts with: Lambda's NODE_PATH (runtime SDK only) and a region. */
function baseEnvironment(runtimeDir: RuntimeDir): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    NODE_PATH: runtimeDir.nodePath.join(':'),
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
    AWS_EC2_METADATA_DISABLED: 'true',
    TZ: ':UTC',
  };
}

async function synthesizedCandidates(workDir: string, base: Record<string, string>): Promise<{ candidates: Candidate[]; error?: string }> {
  const cdkOut = join(workDir, 'cdk.out');
  try {
    await synth(cdkOut);
  } catch (error) {
    return { candidates: [], error: (error as Error).message };
  }
  const stacks = readCloudAssembly(cdkOut);
  const model = buildEmulationModel(stacks, { stacks: stacks.map((stack) => stack.displayName), region: 'us-east-1', accountId: '000000000000', cdkOut });
  const candidates: Candidate[] = [];
  for (const definition of model.functions) {
    const file = join(definition.codePath, `${definition.handler.split('.')[0] ?? 'index'}.js`);
    const mapBytes = await sizeOrUndefined(`${file}.map`);
    const rebuilt = await rebuild(definition, workDir);
    candidates.push({
      id: definition.name,
      label: definition.name,
      sdk: 'bundled',
      file,
      bytes: (await stat(file)).size,
      ...(mapBytes === undefined ? {} : { mapBytes }),
      ...(rebuilt ? { rebuiltBytes: rebuilt.bytes } : {}),
      packages: rebuilt?.packages ?? [],
      env: { ...base, ...withoutSourceMaps(definition.environment), LAMBDA_TASK_ROOT: definition.codePath },
      withSourceMaps: true,
    });
  }
  return { candidates };
}

/** `cdk synth` into a folder of our own, so a developer's `cdk.out` is left alone. */
function synth(outDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['cdk', 'synth', '--quiet', '-o', outDir], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`cdk synth failed (exit ${code}): ${output.trim().split('\n').slice(-5).join(' | ')}`))));
  });
}

/**
 * A synthesized function's entry (`functions/<name>/handler.ts`) rebuilt with SecretsFunction's
 * settings, for its bytes per package: the asset carries no metafile. Undefined when no entry is found.
 */
async function rebuild(definition: FunctionDefinition, workDir: string): Promise<BuiltBundle | undefined> {
  const serviceName = definition.environment['POWERTOOLS_SERVICE_NAME'] ?? '';
  const names = [definition.name.toLowerCase(), serviceName.split('-').pop() ?? ''].filter((name) => name !== '');
  const entry = names.map((name) => join('functions', name, 'handler.ts')).find((path) => existsSync(join(PROJECT_ROOT, path)));
  return entry ? bundleHandler({ entry, outDir: join(workDir, 'rebuilt', definition.name), ...AS_SECRETS_FUNCTION }) : undefined;
}

async function comparisonCandidates(workDir: string, base: Record<string, string>): Promise<Candidate[]> {
  const references = Object.fromEntries(comparedSecretNames().map((name, index) => [name, `op://bench/item-${Math.floor(index / 2)}/field-${index % 2}`]));
  // Nothing listens on port 9: whatever a module starts fetching at load fails after the measurement.
  const env = { ...base, OP_CONNECT_HOST: 'http://127.0.0.1:9', OP_CONNECT_TOKEN: 'bench-token', ...references };
  const candidates: Candidate[] = [];
  for (const spec of COMPARISONS) {
    const built = await bundleHandler({
      entry: spec.entry,
      outDir: join(workDir, 'compare', spec.id),
      external: spec.sdk === 'bundled' ? [] : undefined,
      replace: spec.replace,
    });
    candidates.push({ id: spec.id, label: spec.label, sdk: spec.sdk, file: built.file, bytes: built.bytes, packages: built.packages, env, withSourceMaps: false });
  }
  return candidates;
}

interface Timings {
  plain: number[];
  sourceMaps: number[];
}

/** Round-robin over the bundles, so that a busy moment of the machine hits all of them alike. */
async function measureRequires(candidates: readonly Candidate[], repetitions: number): Promise<Map<Candidate, Timings>> {
  const timings = new Map<Candidate, Timings>(candidates.map((candidate) => [candidate, { plain: [], sourceMaps: [] }]));
  for (let round = 0; round < repetitions; round += 1) {
    for (const candidate of candidates) {
      const timing = timings.get(candidate)!;
      timing.plain.push(await requireTimeMs({ file: candidate.file, env: candidate.env }));
      if (candidate.withSourceMaps) {
        timing.sourceMaps.push(await requireTimeMs({ file: candidate.file, env: { ...candidate.env, NODE_OPTIONS: '--enable-source-maps' } }));
      }
    }
  }
  return timings;
}

function toResult(candidate: Candidate, timing: Timings): BundleEntryResult {
  return {
    id: candidate.id,
    label: candidate.label,
    sdk: candidate.sdk,
    bytes: figure(candidate.bytes, 'bytes'),
    ...(candidate.mapBytes === undefined ? {} : { mapBytes: figure(candidate.mapBytes, 'bytes') }),
    ...(candidate.rebuiltBytes === undefined ? {} : { rebuiltBytes: figure(candidate.rebuiltBytes, 'bytes') }),
    requireMs: figure(median(timing.plain), 'ms'),
    ...(timing.sourceMaps.length > 0 ? { requireMsSourceMaps: figure(median(timing.sourceMaps), 'ms') } : {}),
    packages: topPackages(candidate.packages),
  };
}

function topPackages(packages: readonly PackageShare[]): PackageFigure[] {
  const total = packages.reduce((sum, share) => sum + share.bytes, 0);
  const top = packages.slice(0, TOP_PACKAGES);
  const rest = packages.slice(TOP_PACKAGES).reduce((sum, share) => sum + share.bytes, 0);
  const listed = rest > 0 ? [...top, { name: `${packages.length - TOP_PACKAGES} other packages`, bytes: rest }] : top;
  return listed.map((share) => ({ name: share.name, bytes: figure(share.bytes, 'bytes'), share: figure(total === 0 ? 0 : (share.bytes / total) * 100, 'percent') }));
}

function axiosSaving(comparisons: readonly BundleEntryResult[]): AxiosSaving {
  const withAxios = comparisons.find((entry) => entry.id === 'op-lambda-with-axios')!;
  const without = comparisons.find((entry) => entry.id === 'op-lambda')!;
  const saved = withAxios.bytes.value - without.bytes.value;
  return {
    withAxiosBytes: withAxios.bytes,
    withoutAxiosBytes: without.bytes,
    savedBytes: figure(saved, 'bytes'),
    savedShare: figure((saved / withAxios.bytes.value) * 100, 'percent'),
    withAxiosRequireMs: withAxios.requireMs,
    withoutAxiosRequireMs: without.requireMs,
    savedRequireMs: figure(withAxios.requireMs.value - without.requireMs.value, 'ms'),
  };
}

/** The template's NODE_OPTIONS (source maps) is applied per measurement instead. */
function withoutSourceMaps(environment: Record<string, string>): Record<string, string> {
  const { NODE_OPTIONS: _nodeOptions, ...rest } = environment;
  return rest;
}

async function sizeOrUndefined(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

function topNames(entry: BundleEntryResult, count: number): string {
  return entry.packages.slice(0, count).map((share) => `${share.name} ${share.share.value.toFixed(0)}%`).join(', ');
}

export function bundleTables(results: BundleResults): Table[] {
  const sdkLabel: Record<SdkPlacement, string> = { bundled: 'bundled', runtime: 'from runtime', signer: 'signer only', unused: '-' };
  const tables: Table[] = [];
  tables.push({
    title: `Functions as cdk synth bundles them (require: median of ${results.repetitions} fresh processes)`,
    headers: ['function', 'index.js', 'source map', 'require ms (map read on a stack trace)', 'require ms, --enable-source-maps', 'largest packages'],
    align: ['left', 'right', 'right', 'right', 'right', 'left'],
    rows: results.functions.length > 0
      ? results.functions.map((entry) => [
        entry.label,
        formatBytes(entry.bytes.value),
        entry.mapBytes ? formatBytes(entry.mapBytes.value) : '-',
        formatMs(entry.requireMs.value),
        entry.requireMsSourceMaps ? formatMs(entry.requireMsSourceMaps.value) : '-',
        topNames(entry, 4),
      ])
      : [[`(not measured: ${results.synthError ?? 'no functions'})`, '', '', '', '', '']],
  });
  tables.push({
    title: 'Comparison handlers (esbuild: minify, platform node, target node24, cjs)',
    headers: ['handler', 'AWS SDK', 'index.js', 'require ms', 'largest packages'],
    align: ['left', 'left', 'right', 'right', 'left'],
    rows: results.comparisons.map((entry) => [entry.label, sdkLabel[entry.sdk], formatBytes(entry.bytes.value), formatMs(entry.requireMs.value), topNames(entry, 4)]),
  });
  const opLambda = results.comparisons.find((entry) => entry.id === 'op-lambda');
  if (opLambda) {
    tables.push({
      title: 'Where the bytes of an op-lambda handler come from (everything bundled, axios left out, as SecretsFunction does)',
      headers: ['package', 'bytes', 'share'],
      rows: opLambda.packages.map((share) => [share.name, formatBytes(share.bytes.value), `${share.share.value.toFixed(1)}%`]),
    });
  }
  const axios = results.axios;
  tables.push({
    title: 'Leaving axios out, as SecretsFunction does (the resolver brings its own node:http transport; axios would be loaded, never called)',
    headers: ['op-lambda handler', 'index.js', 'require ms'],
    rows: [
      ['axios bundled', formatBytes(axios.withAxiosBytes.value), formatMs(axios.withAxiosRequireMs.value)],
      ['axios aliased to a stub (SecretsFunction)', formatBytes(axios.withoutAxiosBytes.value), formatMs(axios.withoutAxiosRequireMs.value)],
      ['saved', `${formatBytes(axios.savedBytes.value)} (${axios.savedShare.value.toFixed(1)}%)`, formatMs(axios.savedRequireMs.value)],
    ],
  });
  return tables;
}

