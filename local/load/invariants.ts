/**
 * What must hold after each phase of the load scenario. Each check says what it expected and what
 * it found, so a failing run explains itself.
 */
import type { Exchange } from './client';
import type { ColdStartCost } from './cost-model';
import { FUNCTION_OF, SUCCESS_STATUS } from './requests';
import type { InvokeInfo, PhaseName, PhaseReport } from './phases';

export interface Invariant {
  name: string;
  ok: boolean;
  detail: string;
}

export interface PhaseRun {
  report: PhaseReport;
  served: readonly { exchange: Exchange; invoke: InvokeInfo | undefined }[];
  /** Containers born in earlier phases. */
  bornBefore: ReadonlySet<string>;
}

/** ConnectSource's default attempts per request (the first included). */
export const CONNECT_MAX_ATTEMPTS = 4;

const succeeded = (exchange: Exchange): boolean => exchange.status === SUCCESS_STATUS[exchange.request.kind];

export function checkSteady(run: PhaseRun, costs: Readonly<Record<string, ColdStartCost>>): Invariant[] {
  const { report } = run;
  const invocations = run.served.filter(({ invoke }) => invoke).length;
  const coldStarts = sum(Object.values(report.coldStarts));
  return [
    allSucceeded('steady', run),
    expectedConnect('steady: Connect item GETs = Σ cold starts × distinct items', report.connect.item, report.coldStarts, costs, 'items'),
    expectedConnect('steady: Connect index GETs = Σ cold starts × index lists', report.connect.index, report.coldStarts, costs, 'indexes'),
    {
      name: 'steady: warm invokes made no Connect request',
      ok: report.connect.other === 0 && invocations > coldStarts,
      detail: `${invocations} invokes, ${coldStarts} cold starts, ${report.connect.other} other Connect requests`,
    },
  ];
}

export function checkOutage(run: PhaseRun): Invariant[] {
  const fromPrepared = run.served.filter(({ invoke }) => invoke && run.bornBefore.has(invoke.containerId));
  const fromNew = run.served.filter(({ invoke }) => invoke && !run.bornBefore.has(invoke.containerId));
  const unserved = run.served.filter(({ invoke }) => !invoke);
  const badWarm = fromPrepared.filter(({ exchange }) => !succeeded(exchange));
  const badCold = fromNew.filter(({ exchange }) => !isUnavailable(exchange));
  const attempts = run.report.connect.item + run.report.connect.index + run.report.connect.other;
  return [
    {
      name: 'outage: containers with cached secrets answer from the cache',
      ok: fromPrepared.length > 0 && badWarm.length === 0,
      detail: `${fromPrepared.length - badWarm.length}/${fromPrepared.length} succeeded${statusList(badWarm)}`,
    },
    {
      name: 'outage: containers born in the outage answer 503 with Retry-After',
      ok: fromNew.length > 0 && badCold.length === 0,
      detail: `${fromNew.length - badCold.length}/${fromNew.length} were 503 problem+json with Retry-After${statusList(badCold)}`,
    },
    { name: 'outage: every request reached a function', ok: unserved.length === 0, detail: `${unserved.length} without an invoke${statusList(unserved)}` },
    {
      name: `outage: Connect requests ≤ ${CONNECT_MAX_ATTEMPTS} attempts × invokes without secrets`,
      ok: attempts <= CONNECT_MAX_ATTEMPTS * fromNew.length,
      detail: `${attempts} Connect requests for ${fromNew.length} invokes without secrets`,
    },
  ];
}

export function checkRecovery(run: PhaseRun, costs: Readonly<Record<string, ColdStartCost>>, births: ReadonlyMap<string, PhaseName>): Invariant[] {
  // Containers that had no secrets when Connect came back (born in the outage) or were born since.
  const resolving = new Map<string, Set<string>>();
  for (const { invoke } of run.served) {
    if (!invoke || births.get(invoke.containerId) === 'steady') continue;
    resolving.set(invoke.functionName, (resolving.get(invoke.functionName) ?? new Set()).add(invoke.containerId));
  }
  const containers = Object.fromEntries([...resolving].map(([name, ids]) => [name, ids.size]));
  return [
    allSucceeded('recovery', run),
    expectedConnect('recovery: Connect item GETs = Σ containers without secrets × distinct items', run.report.connect.item, containers, costs, 'items'),
    expectedConnect('recovery: Connect index GETs = Σ containers without secrets × index lists', run.report.connect.index, containers, costs, 'indexes'),
  ];
}

function allSucceeded(phase: string, run: PhaseRun): Invariant {
  const failed = run.served.filter(({ exchange }) => !succeeded(exchange));
  return { name: `${phase}: every request succeeded`, ok: failed.length === 0, detail: `${run.served.length - failed.length}/${run.served.length}${statusList(failed)}` };
}

function expectedConnect(
  name: string,
  actual: number,
  containers: Readonly<Record<string, number>>,
  costs: Readonly<Record<string, ColdStartCost>>,
  kind: keyof ColdStartCost,
): Invariant {
  const terms = Object.entries(containers).filter(([, count]) => count > 0).map(([fn, count]) => ({ fn, count, each: costs[fn]?.[kind] ?? Number.NaN }));
  const expected = sum(terms.map(({ count, each }) => count * each));
  const formula = terms.map(({ fn, count, each }) => `${fn} ${count}×${each}`).join(' + ') || 'none';
  return { name, ok: actual === expected, detail: `expected ${expected} (${formula}), got ${actual}` };
}

/** 503 problem+json with a positive integer Retry-After. */
function isUnavailable(exchange: Exchange): boolean {
  return (
    exchange.status === 503 &&
    /^[1-9]\d*$/.test(exchange.headers['retry-after'] ?? '') &&
    (exchange.headers['content-type'] ?? '').startsWith('application/problem+json')
  );
}

function statusList(entries: readonly { exchange: Exchange }[]): string {
  if (entries.length === 0) return '';
  const counts = new Map<string, number>();
  for (const { exchange } of entries) {
    const key = `${FUNCTION_OF[exchange.request.kind]} ${exchange.status || exchange.failure}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return `; unexpected: ${[...counts].map(([key, count]) => `${key} ×${count}`).join(', ')}`;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
