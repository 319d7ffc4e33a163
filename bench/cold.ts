/**
 * Cold start: time from process start to the first response, through the local Lambda emulation
 * (a fresh `aws-lambda-ric` process per cold start), against the local Connect server with a
 * fixed latency on every request. op-lambda against two hand-written handlers that use
 * `@1password/connect` directly, for 1, 10 and 50 secrets, by name and by id; each against the
 * lower bound: a handler that does nothing, plus the slowest request chain the references need.
 */
import { join } from 'node:path';
import { startConnectServer, type LocalConnect } from '../local/connect/server';
import { LambdaContainer } from '../local/lambda/container';
import { createRuntimeDir, type RuntimeDir } from '../local/lambda/runtime-dir';
import type { FunctionDefinition } from '../local/lambda/types';
import { AS_SECRETS_FUNCTION, bundleHandler, type BundleRequest } from './build';
import { buildFixture, layoutFor, minimalRequests, referenceEnvironment, vaultId, itemId, type Addressing, type ColdFixture } from './cold-fixture';
import { figure, formatMs, samples, type Figure, type Samples } from './figures';
import { measureFirstRequest, type FirstRequestCost } from './first-request';
import { maximum, median, minimum } from './stats';
import { printTable, type Table } from './table';

export type ColdApproachId = 'noop' | 'op-lambda' | 'op-lambda-with-axios' | 'op-lambda-concurrency-8' | 'sdk-parallel' | 'sdk-sequential';

interface ColdApproach {
  id: ColdApproachId;
  label: string;
  entry: string;
  /** How esbuild builds it; default: as SecretsFunction does (axios left out). */
  build?: Pick<BundleRequest, 'external' | 'keepNames' | 'sourcemap' | 'replace'>;
  /** Secret counts to run; default: every count of the run. */
  counts?: readonly number[];
}

/** The hand-written handlers call axios (the SDK's default transport): it stays in their bundles. */
const WITH_AXIOS = { ...AS_SECRETS_FUNCTION, replace: undefined };

const APPROACHES: readonly ColdApproach[] = [
  { id: 'noop', label: 'handler doing nothing (process INIT)', entry: 'bench/handlers/noop.ts', counts: [0] },
  { id: 'op-lambda', label: 'op-lambda (opSecrets)', entry: 'bench/handlers/op-lambda.ts' },
  { id: 'sdk-parallel', label: '@1password/connect, Promise.all', entry: 'bench/handlers/connect-parallel.ts', build: WITH_AXIOS },
  { id: 'sdk-sequential', label: '@1password/connect, sequential', entry: 'bench/handlers/connect-sequential.ts', build: WITH_AXIOS },
  { id: 'op-lambda-with-axios', label: 'op-lambda, axios bundled', entry: 'bench/handlers/op-lambda.ts', build: WITH_AXIOS, counts: [0, 10] },
  { id: 'op-lambda-concurrency-8', label: 'op-lambda, 8 requests in flight (default 32)', entry: 'bench/handlers/op-lambda-narrow.ts', counts: [50] },
];

/** Round trips on the slowest request path: one GET by id; vault list, item list, GET by name. */
const CHAIN_LENGTH: Record<Addressing, number> = { id: 1, name: 3 };

export interface ColdOptions {
  secretCounts: readonly number[];
  repetitions: number;
  latencyMs: number;
  /** Scratch folder for the bundles. */
  workDir: string;
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
  lowerBoundMs: Figure;
  overLowerBoundMs: Figure;
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
  const runtimeDir = await createRuntimeDir();
  try {
    const scenarios = await prepareScenarios(options);
    const firstRequest = await measureFirstRequest(`${connect.url}/heartbeat`, options.repetitions);
    connect.setLatency(options.latencyMs);
    const roundTripMs = await measureRoundTrip(connect, fixture);
    const measured = new Map<Scenario, Sample[]>(scenarios.map((scenario) => [scenario, []]));
    for (let round = 0; round < options.repetitions; round += 1) {
      // Round-robin, so that drift on a shared machine spreads over every scenario alike.
      for (const scenario of scenarios) {
        measured.get(scenario)!.push(await coldStart(scenario, { connect, fixture, runtimeDir }));
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
    await connect.close();
  }
}

async function prepareScenarios(options: ColdOptions): Promise<Scenario[]> {
  const scenarios: Scenario[] = [];
  for (const approach of APPROACHES) {
    const codePath = join(options.workDir, 'cold', approach.id);
    await bundleHandler({ entry: approach.entry, outDir: codePath, ...(approach.build ?? AS_SECRETS_FUNCTION) });
    const counts = approach.counts ?? [0, ...options.secretCounts];
    for (const secrets of counts) {
      const addressings: Addressing[] = secrets === 0 ? ['id'] : ['name', 'id'];
      for (const addressing of addressings) scenarios.push({ approach, addressing, secrets, codePath });
    }
  }
  return scenarios;
}

interface ColdRig {
  connect: LocalConnect;
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
  const startedAt = performance.now();
  try {
    const result = await container.invoke(EVENT);
    const wallMs = performance.now() - startedAt;
    await container.kill();
    const sample = { wallMs, initMs: result.initDurationMs ?? Number.NaN, invokeMs: result.durationMs, requests: rig.connect.countRequests() };
    const failure = result.outcome === 'success' ? checkPayload(result.payload, scenario, rig.fixture) : `${result.outcome}: ${result.error?.errorType ?? ''}`;
    return failure ? { ...sample, failure: `${failure} (last lines: ${recent.slice(-3).join(' | ').slice(0, 400)})` } : sample;
  } finally {
    await container.kill();
  }
}

function definitionFor(scenario: Scenario, rig: ColdRig): FunctionDefinition {
  const layout = layoutFor(scenario.secrets);
  return {
    name: `bench-${scenario.approach.id}`,
    logicalId: 'BenchFunction',
    handler: 'index.handler',
    codePath: scenario.codePath,
    runtime: 'nodejs24.x',
    timeoutSeconds: 30,
    memoryMb: MEMORY_MB,
    environment: {
      // As SecretsFunction configures every function.
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: `bench-${scenario.approach.id}`,
      POWERTOOLS_METRICS_NAMESPACE: 'OpLambda',
      OP_CONNECT_HOST: rig.connect.url,
      OP_CONNECT_TOKEN: rig.fixture.token,
      ...referenceEnvironment(layout, scenario.addressing),
    },
  };
}

/** Every handler answers how many values it saw and their total length; anything else is a failure. */
function checkPayload(payload: unknown, scenario: Scenario, fixture: ColdFixture): string | undefined {
  if (scenario.approach.id === 'noop') return undefined;
  const { count, totalLength } = (payload ?? {}) as { count?: unknown; totalLength?: unknown };
  const expectedLength = fixture.totalLength.get(scenario.secrets) ?? 0;
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

function summarise(measured: ReadonlyMap<Scenario, Sample[]>, roundTripMs: number): ColdScenarioResult[] {
  const initFloor = noopMedian(measured);
  return [...measured].map(([scenario, all]) => {
    const layout = layoutFor(scenario.secrets);
    const ok = all.filter((sample) => sample.failure === undefined);
    const walls = ok.map((sample) => sample.wallMs);
    const chain = scenario.secrets === 0 ? 0 : CHAIN_LENGTH[scenario.addressing];
    const lowerBound = initFloor + chain * roundTripMs;
    const timeMs = median(walls);
    const failure = all.find((sample) => sample.failure !== undefined)?.failure;
    return {
      approach: scenario.approach.id,
      label: scenario.approach.label,
      addressing: scenario.addressing,
      secrets: scenario.secrets,
      items: layout.items,
      vaults: scenario.secrets === 0 ? 0 : layout.vaults,
      timeMs: figure(timeMs, 'ms'),
      minMs: figure(minimum(walls), 'ms'),
      maxMs: figure(maximum(walls), 'ms'),
      initMs: figure(median(ok.map((sample) => sample.initMs)), 'ms'),
      invokeMs: figure(median(ok.map((sample) => sample.invokeMs)), 'ms'),
      requests: figure(median(all.map((sample) => sample.requests)), 'requests'),
      minimalRequests: figure(minimalRequests(layout, scenario.addressing), 'requests'),
      lowerBoundMs: figure(lowerBound, 'ms'),
      overLowerBoundMs: figure(timeMs - lowerBound, 'ms'),
      samples: samples(walls, 'ms'),
      failures: all.length - ok.length,
      ...(failure ? { failure } : {}),
    };
  });
}

export function coldTable(cold: ColdResults): Table {
  return {
    title: `Cold start: process start to first response (median of ${cold.repetitions}), ${cold.latencyPerRequestMs.value} ms per Connect request`,
    headers: ['approach', 'secrets', 'by', 'items/vaults', 'cold start ms', 'INIT ms', 'invoke ms', 'requests', 'minimal', 'lower bound ms', 'over bound ms', 'failures'],
    rows: cold.scenarios.map((scenario) => [
      scenario.label,
      String(scenario.secrets),
      scenario.secrets === 0 ? '-' : scenario.addressing,
      scenario.secrets === 0 ? '-' : `${scenario.items}/${scenario.vaults}`,
      formatMs(scenario.timeMs.value),
      formatMs(scenario.initMs.value),
      formatMs(scenario.invokeMs.value),
      String(scenario.requests.value),
      String(scenario.minimalRequests.value),
      formatMs(scenario.lowerBoundMs.value),
      `${scenario.overLowerBoundMs.value >= 0 ? '+' : ''}${formatMs(scenario.overLowerBoundMs.value)}`,
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
