/**
 * Cold start: time from process start to the first response, through the local Lambda emulation
 * (a fresh `aws-lambda-ric` process per cold start), against the local Connect server with a
 * fixed latency on every request. op-lambda against two hand-written handlers that use
 * `@1password/connect` directly, for 1, 10 and 50 secrets, by name and by id; each against the
 * lower bound: a handler that does nothing, plus the slowest request chain the references need.
 */
import { join } from 'node:path';
import { startConnectServer, type LocalConnect } from '../local/connect/server';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../local/secrets-manager/server';
import { LambdaContainer } from '../local/lambda/container';
import { createRuntimeDir, type RuntimeDir } from '../local/lambda/runtime-dir';
import type { FunctionDefinition } from '../local/lambda/types';
import { AS_SECRETS_FUNCTION, bundleHandler, type BundleRequest } from './build';
import { comparedSecretIds } from './handlers/catalog';
import { buildFixture, layoutFor, minimalRequests, referenceEnvironment, vaultId, itemId, type Addressing, type ColdFixture } from './cold-fixture';
import { figure, formatMs, samples, type Figure, type Samples } from './figures';
import { measureFirstRequest, type FirstRequestCost } from './first-request';
import { maximum, median, minimum } from './stats';
import { printTable, type Table } from './table';

export type ColdApproachId =
  | 'noop'
  | 'op-lambda'
  | 'op-lambda-source-maps-at-load'
  | 'op-lambda-with-axios'
  | 'op-lambda-concurrency-8'
  | 'sdk-parallel'
  | 'sdk-sequential'
  | 'op-lambda-late'
  | 'op-lambda-aws'
  | 'op-lambda-aws-late'
  | 'op-lambda-aws-sdk-token'
  | 'middy-secrets-manager-aws'
  | 'powertools-aws';

/**
 * Where the secrets come from. `connect`: 1Password Connect, the token from `OP_CONNECT_TOKEN`;
 * `connect-token-from-aws`: the same, the token first read from Secrets Manager, as on AWS;
 * `secrets-manager`: the compared secrets kept in Secrets Manager itself (no 1Password).
 */
type SecretsPath = 'connect' | 'connect-token-from-aws' | 'secrets-manager';

interface ColdApproach {
  id: ColdApproachId;
  label: string;
  entry: string;
  /** How esbuild builds it; default: as SecretsFunction does (axios left out). */
  build?: Pick<BundleRequest, 'external' | 'keepNames' | 'sourcemap' | 'replace' | 'inject' | 'earlyStart'>;
  /** Secret counts to run; default: every count of the run. */
  counts?: readonly number[];
  /** @default 'connect' */
  path?: SecretsPath;
  /** Variables added to the function's environment. */
  environment?: Readonly<Record<string, string>>;
  /** Whose cold start with no secret is this approach's INIT (for max(INIT, round trips)); default its own. */
  initOf?: ColdApproachId;
}

/** The hand-written handlers call axios (the SDK's default transport): it stays in their bundles. */
const WITH_AXIOS = { ...AS_SECRETS_FUNCTION, replace: undefined, earlyStart: false };
/** SecretsFunction with `earlyStart: false`: the requests leave once the whole bundle is evaluated. */
const WITHOUT_EARLY_START = { ...AS_SECRETS_FUNCTION, earlyStart: false };
/** As NodejsFunction bundles by default: the AWS SDK left to the runtime, no source map. */
const NODEJS_FUNCTION_DEFAULT = {};
/** The secrets @middy/secrets-manager and Powertools read: as many as the middle count of a run. */
const SECRETS_MANAGER_COUNT = 10;

const APPROACHES: readonly ColdApproach[] = [
  { id: 'noop', label: 'handler doing nothing (process INIT)', entry: 'bench/handlers/noop.ts', counts: [0] },
  { id: 'op-lambda', label: 'op-lambda (opSecrets)', entry: 'bench/handlers/op-lambda.ts' },
  { id: 'op-lambda-late', label: 'op-lambda, no early start', entry: 'bench/handlers/op-lambda.ts', build: WITHOUT_EARLY_START },
  { id: 'sdk-parallel', label: '@1password/connect, Promise.all', entry: 'bench/handlers/connect-parallel.ts', build: WITH_AXIOS },
  { id: 'sdk-sequential', label: '@1password/connect, sequential', entry: 'bench/handlers/connect-sequential.ts', build: WITH_AXIOS },
  { id: 'op-lambda-with-axios', label: 'op-lambda, axios bundled', entry: 'bench/handlers/op-lambda.ts', build: WITH_AXIOS, counts: [0, 10] },
  { id: 'op-lambda-concurrency-8', label: 'op-lambda, 8 requests in flight (default 32)', entry: 'bench/handlers/op-lambda-narrow.ts', counts: [50] },
  {
    id: 'op-lambda-source-maps-at-load',
    label: 'op-lambda, source maps read at load (--enable-source-maps)',
    entry: 'bench/handlers/op-lambda.ts',
    counts: [0, 10],
    environment: { NODE_OPTIONS: '--enable-source-maps' },
  },
  { id: 'op-lambda-aws', label: 'op-lambda, token from Secrets Manager', entry: 'bench/handlers/op-lambda.ts', path: 'connect-token-from-aws', initOf: 'op-lambda' },
  {
    id: 'op-lambda-aws-late',
    label: 'op-lambda, token from Secrets Manager, no early start',
    entry: 'bench/handlers/op-lambda.ts',
    build: WITHOUT_EARLY_START,
    path: 'connect-token-from-aws',
    initOf: 'op-lambda-late',
  },
  {
    id: 'op-lambda-aws-sdk-token',
    label: 'op-lambda, token from Secrets Manager with the AWS SDK client',
    entry: 'bench/handlers/op-lambda-sdk-token.ts',
    path: 'connect-token-from-aws',
    counts: [10],
  },
  {
    id: 'middy-secrets-manager-aws',
    label: '@middy/secrets-manager (secrets in Secrets Manager)',
    entry: 'bench/handlers/middy-secrets-manager.ts',
    build: NODEJS_FUNCTION_DEFAULT,
    path: 'secrets-manager',
    counts: [SECRETS_MANAGER_COUNT],
  },
  {
    id: 'powertools-aws',
    label: 'Powertools getSecret (secrets in Secrets Manager)',
    entry: 'bench/handlers/powertools-secrets.ts',
    build: NODEJS_FUNCTION_DEFAULT,
    path: 'secrets-manager',
    counts: [SECRETS_MANAGER_COUNT],
  },
];

/** The Connect token's secret, as SecretsFunction names it to the function. */
const TOKEN_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:op-connect-token-BeNcH0';
/** What Lambda hands a function: its role's temporary credentials (checked by the stand-in). */
const AWS_CREDENTIALS = { accessKeyId: 'AKIDOPLAMBDABENCH', secretAccessKey: 'bench-not-a-secret-key', sessionToken: 'bench-session-token' };
/** Values of the compared secrets kept in Secrets Manager. */
const SECRETS_MANAGER_VALUES = comparedSecretIds().map((id, index) => [id, `sm-value-${index}-${'x'.repeat(24)}`] as const);

/** Round trips on the slowest request path: one GET by id; vault list, item list, GET by name. */
const CHAIN_LENGTH: Record<Addressing, number> = { id: 1, name: 3 };

export interface ColdOptions {
  secretCounts: readonly number[];
  repetitions: number;
  latencyMs: number;
  /** Scratch folder for the bundles. */
  workDir: string;
  /** Only these approaches (the handler doing nothing always runs: every bound starts from it). Default: all. */
  approaches?: readonly ColdApproachId[];
}

export interface ColdScenarioResult {
  approach: ColdApproachId;
  label: string;
  addressing: Addressing;
  secrets: number;
  items: number;
  vaults: number;
  /** Median wall time from spawning the process to the first response. */
  timeMs: Figure;
  minMs: Figure;
  maxMs: Figure;
  /** Medians of the emulator's INIT (spawn until the runtime asks for work) and of the invoke. */
  initMs: Figure;
  invokeMs: Figure;
  /** Connect requests of one cold start (median). */
  requests: Figure;
  /** What a perfect client needs. */
  minimalRequests: Figure;
  /** INIT of a handler doing nothing plus the chained round trips (Secrets Manager, then Connect). */
  lowerBoundMs: Figure;
  overLowerBoundMs: Figure;
  /** max(this approach's INIT, INIT of a handler doing nothing + round trips): the bound when requests overlap INIT. */
  overlapBoundMs?: Figure;
  /** Every cold start that succeeded, process start to first response. */
  samples: Samples;
  failures: number;
  failure?: string;
}

export interface ColdResults {
  latencyPerRequestMs: Figure;
  /** Median of one request to the local Connect server, latency included, from a warm client. */
  roundTripMs: Figure;
  /** Median cold start of the handler that does nothing: the INIT every lower bound starts from. */
  processInitMs: Figure;
  repetitions: number;
  memory: Figure;
  /** First and second request of a fresh process, fetch against node:http, no added latency. */
  firstRequest: FirstRequestCost;
  scenarios: ColdScenarioResult[];
}

interface Scenario {
  approach: ColdApproach;
  addressing: Addressing;
  secrets: number;
  codePath: string;
}

interface Sample {
  wallMs: number;
  initMs: number;
  invokeMs: number;
  requests: number;
  failure?: string;
}

const MEMORY_MB = 512;
const EVENT = { rawPath: '/bench', requestContext: { http: { method: 'GET' } } };

export async function runColdBench(options: ColdOptions): Promise<ColdResults> {
  const fixture = buildFixture(options.secretCounts.filter((count) => count > 0));
  const connect = await startConnectServer({ port: 0, seed: fixture.seed });
  const secretsManager = await startSecretsManagerStandIn({
    secrets: { [TOKEN_SECRET_ARN]: fixture.token, ...Object.fromEntries(SECRETS_MANAGER_VALUES) },
    credentials: AWS_CREDENTIALS,
  });
  const runtimeDir = await createRuntimeDir();
  try {
    const scenarios = await prepareScenarios(options);
    const firstRequest = await measureFirstRequest(`${connect.url}/heartbeat`, options.repetitions);
    connect.setLatency(options.latencyMs);
    secretsManager.setLatency(options.latencyMs);
    const roundTripMs = await measureRoundTrip(connect, fixture);
    const measured = new Map<Scenario, Sample[]>(scenarios.map((scenario) => [scenario, []]));
    for (let round = 0; round < options.repetitions; round += 1) {
      // Round-robin, so that drift on a shared machine spreads over every scenario alike.
      for (const scenario of scenarios) {
        measured.get(scenario)!.push(await coldStart(scenario, { connect, secretsManager, fixture, runtimeDir }));
      }
      process.stdout.write(`  cold start round ${round + 1}/${options.repetitions} done\n`);
    }
    const results = summarise(measured, roundTripMs);
    const cold: ColdResults = {
      latencyPerRequestMs: figure(options.latencyMs, 'ms'),
      roundTripMs: figure(roundTripMs, 'ms'),
      processInitMs: figure(noopMedian(measured), 'ms'),
      repetitions: options.repetitions,
      memory: figure(MEMORY_MB, 'MiB'),
      firstRequest,
      scenarios: results,
    };
    printTable(coldTable(cold));
    printTable(firstRequestTable(cold));
    return cold;
  } finally {
    await runtimeDir.dispose();
    await secretsManager.close();
    await connect.close();
  }
}

async function prepareScenarios(options: ColdOptions): Promise<Scenario[]> {
  const scenarios: Scenario[] = [];
  const selected = APPROACHES.filter((approach) => approach.id === 'noop' || (options.approaches ?? [approach.id]).includes(approach.id));
  for (const approach of selected) {
    const codePath = join(options.workDir, 'cold', approach.id);
    await bundleHandler({ entry: approach.entry, outDir: codePath, ...(approach.build ?? AS_SECRETS_FUNCTION) });
    const counts = approach.counts ?? (approach.path === undefined ? [0, ...options.secretCounts] : options.secretCounts);
    for (const secrets of counts) {
      // Secrets Manager secrets have one address (their name): one scenario.
      const addressings: Addressing[] = secrets === 0 || approach.path === 'secrets-manager' ? ['id'] : ['name', 'id'];
      for (const addressing of addressings) scenarios.push({ approach, addressing, secrets, codePath });
    }
  }
  return scenarios;
}

interface ColdRig {
  connect: LocalConnect;
  secretsManager: SecretsManagerStandIn;
  fixture: ColdFixture;
  runtimeDir: RuntimeDir;
}

async function coldStart(scenario: Scenario, rig: ColdRig): Promise<Sample> {
  const recent: string[] = [];
  const container = new LambdaContainer({
    definition: definitionFor(scenario, rig),
    region: 'us-east-1',
    accountId: '000000000000',
    runtimeDir: rig.runtimeDir,
    onLog: (_stream, text) => {
      recent.push(text);
      if (recent.length > 20) recent.shift();
    },
  });
  rig.connect.resetRequests();
  rig.secretsManager.resetCalls();
  const startedAt = performance.now();
  try {
    const result = await container.invoke(EVENT);
    const wallMs = performance.now() - startedAt;
    await container.kill();
    const requests = rig.connect.countRequests() + rig.secretsManager.calls.length;
    const sample = { wallMs, initMs: result.initDurationMs ?? Number.NaN, invokeMs: result.durationMs, requests };
    const failure = result.outcome === 'success' ? checkPayload(result.payload, scenario, rig.fixture) : `${result.outcome}: ${result.error?.errorType ?? ''}`;
    return failure ? { ...sample, failure: `${failure} (last lines: ${recent.slice(-3).join(' | ').slice(0, 400)})` } : sample;
  } finally {
    await container.kill();
  }
}

function definitionFor(scenario: Scenario, rig: ColdRig): FunctionDefinition {
  return {
    name: `bench-${scenario.approach.id}`,
    logicalId: 'BenchFunction',
    handler: (scenario.approach.build ?? AS_SECRETS_FUNCTION).earlyStart ? 'start.handler' : 'index.handler',
    codePath: scenario.codePath,
    runtime: 'nodejs24.x',
    timeoutSeconds: 30,
    memoryMb: MEMORY_MB,
    environment: {
      // As SecretsFunction configures every function.
      POWERTOOLS_SERVICE_NAME: `bench-${scenario.approach.id}`,
      POWERTOOLS_METRICS_NAMESPACE: 'OpLambda',
      ...secretsEnvironment(scenario, rig),
      ...scenario.approach.environment,
    },
  };
}

function secretsEnvironment(scenario: Scenario, rig: ColdRig): Record<string, string> {
  const path = scenario.approach.path ?? 'connect';
  const connect = { OP_CONNECT_HOST: rig.connect.url, ...referenceEnvironment(layoutFor(scenario.secrets), scenario.addressing) };
  if (path === 'connect') return { ...connect, OP_CONNECT_TOKEN: rig.fixture.token };
  // As on AWS: the role's credentials, and (here) the stand-in's endpoint, which the SDK honours too.
  const aws = {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: rig.secretsManager.url,
    AWS_ACCESS_KEY_ID: AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: AWS_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: AWS_CREDENTIALS.sessionToken,
  };
  return path === 'secrets-manager' ? aws : { ...connect, ...aws, OP_CONNECT_TOKEN_SECRET_ARN: TOKEN_SECRET_ARN };
}

/** Every handler answers how many values it saw and their total length; anything else is a failure. */
function checkPayload(payload: unknown, scenario: Scenario, fixture: ColdFixture): string | undefined {
  if (scenario.approach.id === 'noop') return undefined;
  const { count, totalLength } = (payload ?? {}) as { count?: unknown; totalLength?: unknown };
  const expectedLength = scenario.approach.path === 'secrets-manager'
    ? SECRETS_MANAGER_VALUES.reduce((sum, [, value]) => sum + value.length, 0)
    : fixture.totalLength.get(scenario.secrets) ?? 0;
  if (count === scenario.secrets && totalLength === expectedLength) return undefined;
  return `expected ${scenario.secrets} values (${expectedLength} characters), got ${String(count)} (${String(totalLength)})`;
}

/** One GET of an item by id, from a client whose connection is already open. */
async function measureRoundTrip(connect: LocalConnect, fixture: ColdFixture): Promise<number> {
  const vault = fixture.seed.vaults[0]!;
  const item = vault.items[0]!;
  const url = `${connect.url}/v1/vaults/${vaultId(vault.name)}/items/${itemId(vault.name, item.title)}`;
  const headers = { authorization: `Bearer ${fixture.token}` };
  const times: number[] = [];
  for (let attempt = 0; attempt < 23; attempt += 1) {
    const startedAt = performance.now();
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`round trip probe answered ${response.status}`);
    if (attempt >= 3) times.push(performance.now() - startedAt);
  }
  return median(times);
}

function noopMedian(measured: ReadonlyMap<Scenario, Sample[]>): number {
  const noop = [...measured].find(([scenario]) => scenario.approach.id === 'noop');
  return noop ? median(noop[1].map((sample) => sample.wallMs)) : Number.NaN;
}

/** Round trips one after the other: the token's read from Secrets Manager, then the Connect chain. */
function chainOf(scenario: Scenario): number {
  if (scenario.secrets === 0) return 0;
  const path = scenario.approach.path ?? 'connect';
  if (path === 'secrets-manager') return 1; // every GetSecretValue at once
  return CHAIN_LENGTH[scenario.addressing] + (path === 'connect-token-from-aws' ? 1 : 0);
}

function minimalRequestsOf(scenario: Scenario): number {
  const path = scenario.approach.path ?? 'connect';
  if (path === 'secrets-manager') return scenario.secrets;
  return minimalRequests(layoutFor(scenario.secrets), scenario.addressing) + (path === 'connect-token-from-aws' ? 1 : 0);
}

/** Median cold start with no secret per approach: its INIT. */
function initsOf(measured: ReadonlyMap<Scenario, Sample[]>): Map<ColdApproachId, number> {
  const inits = new Map<ColdApproachId, number>();
  for (const [scenario, all] of measured) {
    if (scenario.secrets === 0) inits.set(scenario.approach.id, median(all.filter((sample) => !sample.failure).map((sample) => sample.wallMs)));
  }
  return inits;
}

function summarise(measured: ReadonlyMap<Scenario, Sample[]>, roundTripMs: number): ColdScenarioResult[] {
  const initFloor = noopMedian(measured);
  const inits = initsOf(measured);
  return [...measured].map(([scenario, all]) => {
    const layout = layoutFor(scenario.secrets);
    const ok = all.filter((sample) => sample.failure === undefined);
    const walls = ok.map((sample) => sample.wallMs);
    const lowerBound = initFloor + chainOf(scenario) * roundTripMs;
    const ownInit = inits.get(scenario.approach.initOf ?? scenario.approach.id);
    const timeMs = median(walls);
    const failure = all.find((sample) => sample.failure !== undefined)?.failure;
    return {
      approach: scenario.approach.id,
      label: scenario.approach.label,
      addressing: scenario.addressing,
      secrets: scenario.secrets,
      // Secrets Manager paths read no 1Password items.
      items: scenario.approach.path === 'secrets-manager' ? 0 : layout.items,
      vaults: scenario.secrets === 0 || scenario.approach.path === 'secrets-manager' ? 0 : layout.vaults,
      timeMs: figure(timeMs, 'ms'),
      minMs: figure(minimum(walls), 'ms'),
      maxMs: figure(maximum(walls), 'ms'),
      initMs: figure(median(ok.map((sample) => sample.initMs)), 'ms'),
      invokeMs: figure(median(ok.map((sample) => sample.invokeMs)), 'ms'),
      requests: figure(median(all.map((sample) => sample.requests)), 'requests'),
      minimalRequests: figure(minimalRequestsOf(scenario), 'requests'),
      lowerBoundMs: figure(lowerBound, 'ms'),
      overLowerBoundMs: figure(timeMs - lowerBound, 'ms'),
      ...(ownInit === undefined || scenario.secrets === 0 ? {} : { overlapBoundMs: figure(Math.max(ownInit, lowerBound), 'ms') }),
      samples: samples(walls, 'ms'),
      failures: all.length - ok.length,
      ...(failure ? { failure } : {}),
    };
  });
}

export function coldTable(cold: ColdResults): Table {
  return {
    title: `Cold start: process start to first response (median of ${cold.repetitions}), ${cold.latencyPerRequestMs.value} ms per Connect request`,
    headers: ['approach', 'secrets', 'by', 'items/vaults', 'cold start ms', 'INIT ms', 'invoke ms', 'requests', 'minimal', 'lower bound ms', 'over bound ms', 'x bound', 'max(INIT, trips) ms', 'failures'],
    rows: cold.scenarios.map((scenario) => [
      scenario.label,
      String(scenario.secrets),
      scenario.vaults === 0 ? '-' : scenario.addressing,
      scenario.vaults === 0 ? '-' : `${scenario.items}/${scenario.vaults}`,
      formatMs(scenario.timeMs.value),
      formatMs(scenario.initMs.value),
      formatMs(scenario.invokeMs.value),
      String(scenario.requests.value),
      String(scenario.minimalRequests.value),
      formatMs(scenario.lowerBoundMs.value),
      `${scenario.overLowerBoundMs.value >= 0 ? '+' : ''}${formatMs(scenario.overLowerBoundMs.value)}`,
      (scenario.timeMs.value / scenario.lowerBoundMs.value).toFixed(2),
      scenario.overlapBoundMs ? formatMs(scenario.overlapBoundMs.value) : '-',
      String(scenario.failures),
    ]),
  };
}

export function firstRequestTable(cold: ColdResults): Table {
  const { fetchFirstMs, fetchSecondMs, httpFirstMs, httpSecondMs } = cold.firstRequest;
  return {
    title: `First requests of a fresh process to the local Connect server, no added latency (median of ${cold.repetitions})`,
    headers: ['transport', 'first request ms', 'second request ms'],
    rows: [
      ['global fetch (undici)', formatMs(fetchFirstMs.value), formatMs(fetchSecondMs.value)],
      ['node:http (op-lambda\'s resolver; axios, @1password/connect\'s default)', formatMs(httpFirstMs.value), formatMs(httpSecondMs.value)],
    ],
  };
}
