/**
 * The load scenario: many concurrent requests over every route of the local API, in three phases.
 *
 * 1. steady   - Connect up: every request succeeds; Connect sees exactly the requests the cold
 *               starts explain (see cost-model.ts) and nothing per warm invoke.
 * 2. outage   - every Connect request is reset, and one function's containers are recycled:
 *               containers that resolved their secrets before the outage keep answering from
 *               their cache; containers born during it answer 503 with Retry-After.
 * 3. recovery - Connect is back and the clients have waited the Retry-After the outage's 503s
 *               advertised: every request succeeds again, and Connect sees one resolution per
 *               container that had none.
 *
 * Loopback only, bounded in requests and in time (each request has a hard timeout).
 */
import type { Agent } from 'node:http';
import { startLocalApi, type LocalApi } from '../dev/local-api';
import { localSecretReader } from '../dev/secret-reader';
import type { LocalConnect } from '../connect/server';
import type { GatewayRequestRecord, LogLine } from '../gateway/server';
import { createAgent, send, type Exchange } from './client';
import { coldStartCost, connectRequestKind, functionSecrets, type ColdStartCost, type FunctionSecrets } from './cost-model';
import { checkOutage, checkRecovery, checkSteady, type Invariant, type PhaseRun } from './invariants';
import { buildRequest, REQUEST_KINDS, type SigningSecrets } from './requests';
import type { ConnectCounts, InvokeInfo, PhaseName, PhaseReport } from './phases';
import { phaseFigures } from './stats';

export type { Invariant } from './invariants';

export interface LoadScenarioOptions {
  cdkOut: string;
  stackName: string;
  /** Concurrent clients. */
  clients: number;
  containersPerFunction: number;
  requests: Record<PhaseName, number>;
  /** The function whose containers are recycled when the outage starts. @default 'Health' */
  recycled?: string;
  /** Hard limit per request. @default 15000 */
  requestTimeoutMs?: number;
  onPhase?: (phase: PhaseName) => void;
  /** Every line a function prints (to check it for leaks, say). */
  onLog?: (line: LogLine) => void;
  /** Every exchange, as it completes. */
  onExchange?: (exchange: Exchange) => void;
}

export interface LoadReport {
  clients: number;
  containersPerFunction: number;
  /** Connect requests per cold start, per function. */
  costs: Record<string, ColdStartCost>;
  phases: PhaseReport[];
  invariants: Invariant[];
}

export async function runLoadScenario(options: LoadScenarioOptions): Promise<LoadReport> {
  const invokes = new Map<string, InvokeInfo>();
  const recordInvoke = ({ requestId, invoke }: GatewayRequestRecord): void => {
    if (invoke) invokes.set(requestId, { functionName: invoke.functionName, containerId: invoke.containerId, coldStart: invoke.coldStart });
  };
  const api = await startLocalApi({
    cdkOut: options.cdkOut,
    stackName: options.stackName,
    maxContainersPerFunction: options.containersPerFunction,
    onRequest: recordInvoke,
    onLog: options.onLog,
  });
  const agent = createAgent(options.clients);
  try {
    return await runPhases(api, agent, invokes, options);
  } finally {
    agent.destroy();
    await api.close();
  }
}

async function runPhases(api: LocalApi, agent: Agent, invokes: ReadonlyMap<string, InvokeInfo>, options: LoadScenarioOptions): Promise<LoadReport> {
  const connect = api.connect;
  if (!connect) throw new Error('the load scenario needs the local Connect server');
  const declared = functionSecrets(options.cdkOut, options.stackName);
  const costs = Object.fromEntries(declared.map(({ name, references }) => [name, coldStartCost(Object.values(references))]));
  const secrets = await signingSecrets(connect, declared);
  const bearerToken = await api.issuer?.issue({ sub: 'load-test' });
  /** Container id -> the phase in which it was born. */
  const births = new Map<string, PhaseName>();

  const run = async (name: PhaseName): Promise<PhaseRun> => {
    options.onPhase?.(name);
    const bornBefore = new Set(births.keys());
    const connectBefore = connect.requests.length;
    const coldBefore = coldStartsByFunction(api);
    const startedAt = performance.now();
    const exchanges = await runRequests(api.gateway.url, agent, options, { secrets, bearerToken }, options.requests[name]);
    const wallMs = performance.now() - startedAt;
    const served = exchanges.map((exchange) => ({ exchange, invoke: exchange.requestId ? invokes.get(exchange.requestId) : undefined }));
    for (const { invoke } of served) if (invoke?.coldStart) births.set(invoke.containerId, name);
    const report: PhaseReport = {
      name,
      figures: phaseFigures(exchanges, wallMs),
      connect: countConnect(connect.requests.slice(connectBefore).map((entry) => entry.path)),
      coldStarts: difference(coldStartsByFunction(api), coldBefore),
    };
    return { report, served, bornBefore };
  };

  const steady = await run('steady');
  await api.gateway.killContainers(options.recycled ?? 'Health');
  connect.addFault({ spec: { kind: 'reset' } });
  const outage = await run('outage');
  connect.clearFaults();
  await waitUntil(retryAllowedAt(outage));
  const recovery = await run('recovery');

  return {
    clients: options.clients,
    containersPerFunction: options.containersPerFunction,
    costs,
    phases: [steady.report, outage.report, recovery.report],
    invariants: [...checkSteady(steady, costs), ...checkOutage(outage), ...checkRecovery(recovery, costs, births)],
  };
}

/** `clients` workers share `count` requests, round-robin over every kind. */
async function runRequests(
  baseUrl: string, agent: Agent, options: LoadScenarioOptions, credentials: { secrets: SigningSecrets; bearerToken: string | undefined }, count: number,
): Promise<Exchange[]> {
  const exchanges: Exchange[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const sequence = next++;
      const request = buildRequest(REQUEST_KINDS[sequence % REQUEST_KINDS.length]!, sequence, credentials.secrets, credentials.bearerToken);
      const exchange = await send(baseUrl, request, { agent, timeoutMs: options.requestTimeoutMs ?? 15_000 });
      options.onExchange?.(exchange);
      exchanges.push(exchange);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.clients, count) }, worker));
  return exchanges;
}

async function signingSecrets(connect: LocalConnect, declared: readonly FunctionSecrets[]): Promise<SigningSecrets> {
  const references = Object.assign({}, ...declared.map((fn) => fn.references)) as Record<string, string>;
  const read = (name: string): Promise<string> => {
    const reference = references[name];
    if (reference === undefined) throw new Error(`no function declares ${name}`);
    return localSecretReader(connect, reference)();
  };
  return { stripe: await read('WEBHOOK_STRIPE_CURRENT'), github: await read('WEBHOOK_GITHUB_CURRENT') };
}

/** When every 503 of `run` may be retried, as a well-behaved client reads its Retry-After. */
function retryAllowedAt(run: PhaseRun): number {
  let latest = 0;
  for (const { exchange } of run.served) {
    const seconds = Number(exchange.headers['retry-after']);
    if (exchange.status === 503 && Number.isFinite(seconds)) latest = Math.max(latest, exchange.startedAt + exchange.durationMs + seconds * 1000);
  }
  return latest;
}

function waitUntil(epochMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, epochMs - Date.now())));
}

function countConnect(paths: readonly string[]): ConnectCounts {
  const counts: ConnectCounts = { item: 0, index: 0, other: 0 };
  for (const path of paths) counts[connectRequestKind(path)] += 1;
  return counts;
}

function coldStartsByFunction(api: LocalApi): Record<string, number> {
  return Object.fromEntries(Object.entries(api.gateway.stats()).map(([name, stats]) => [name, stats.coldStarts]));
}

function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([name, count]) => [name, count - (before[name] ?? 0)]).filter(([, count]) => count !== 0));
}
