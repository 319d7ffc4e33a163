/**
 * `npm run bench`: warm-invoke overhead, cold starts through the local Lambda emulation, and
 * bundle cost; tables printed as they are measured, then published (bench/results/latest.json,
 * bench/results/cold-start.svg, the generated part of BENCHMARKS.md).
 *
 *   npm run bench                       everything (a few minutes)
 *   npm run bench -- --only warm,bundle some parts (warm, cold, bundle)
 *   npm run bench -- --quick            fewer repetitions, for a smoke run
 *   npm run bench -- --no-publish       print only
 *   npm run bench -- --only cold --approaches op-lambda,op-lambda-late --counts 10,50 --repetitions 15
 *                                       some cold-start approaches and secret counts, more repetitions
 *
 * Not part of `npm test`: figures depend on the machine, and tests assert no timings.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from './build';
import { runBundleBench } from './bundle';
import { runColdBench, type ColdApproachId } from './cold';
import { figure } from './figures';
import { describeMachine, machineSummary } from './machine';
import { newResults, publish } from './report';
import { runTokenReadBench } from './token-read';
import { runWarmBench } from './warm';

type Part = 'warm' | 'cold' | 'bundle';
const PARTS: readonly Part[] = ['warm', 'cold', 'bundle'];

interface RunSettings {
  parts: ReadonlySet<Part>;
  publish: boolean;
  warm: { rounds: number; invokesPerRound: number };
  cold: { secretCounts: number[]; repetitions: number; latencyMs: number; approaches?: ColdApproachId[] };
  bundle: { repetitions: number };
}

function settingsFrom(argv: readonly string[]): RunSettings {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-publish': { type: 'boolean', default: false },
      'latency-ms': { type: 'string', default: '20' },
      approaches: { type: 'string' },
      repetitions: { type: 'string' },
      counts: { type: 'string' },
    },
  });
  const only = values.only?.split(',').map((part) => part.trim());
  const unknown = only?.filter((part) => !PARTS.includes(part as Part)) ?? [];
  if (unknown.length > 0) throw new Error(`--only takes ${PARTS.join(', ')}; got ${unknown.join(', ')}`);
  const quick = values.quick ?? false;
  const latencyMs = Number(values['latency-ms']);
  if (!(latencyMs >= 0)) throw new Error('--latency-ms must be a non-negative number');
  return {
    parts: new Set((only ?? PARTS) as Part[]),
    publish: !(values['no-publish'] ?? false),
    warm: { rounds: quick ? 5 : 15, invokesPerRound: quick ? 5_000 : 20_000 },
    cold: {
      secretCounts: values.counts ? values.counts.split(',').map(Number) : [1, 10, 50],
      repetitions: values.repetitions ? Number(values.repetitions) : quick ? 1 : 7,
      latencyMs,
      ...(values.approaches ? { approaches: values.approaches.split(',').map((id) => id.trim() as ColdApproachId) } : {}),
    },
    bundle: { repetitions: quick ? 3 : 15 },
  };
}

async function main(): Promise<void> {
  const settings = settingsFrom(process.argv.slice(2));
  const startedAt = performance.now();
  const machine = describeMachine();
  const results = newResults(machine, ['npm run bench', ...process.argv.slice(2)].join(' '));
  console.log(`op-lambda benchmarks on ${machineSummary(machine)}`);
  const workDir = await mkdtemp(join(tmpdir(), 'op-lambda-bench-'));
  try {
    if (settings.parts.has('warm')) {
      console.log('\n== warm invoke overhead (in process)');
      results.warm = await runWarmBench(settings.warm);
    }
    if (settings.parts.has('cold')) {
      console.log(`\n== cold start (local Lambda emulation, ${settings.cold.latencyMs} ms per Connect request)`);
      results.cold = await runColdBench({ ...settings.cold, workDir });
      console.log(`\n== reading the Connect token from Secrets Manager (fresh processes, ${settings.cold.latencyMs} ms per request)`);
      results.tokenRead = await runTokenReadBench({ repetitions: settings.cold.repetitions * 2 + 1, latencyMs: settings.cold.latencyMs, workDir });
    }
    if (settings.parts.has('bundle')) {
      console.log('\n== bundle cost (cdk synth assets and comparison bundles)');
      results.bundle = await runBundleBench({ ...settings.bundle, workDir });
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  results.durationSeconds = figure((performance.now() - startedAt) / 1000, 'seconds');
  console.log(`\ndone in ${results.durationSeconds.value.toFixed(0)} s`);
  if (settings.publish) {
    const written = await publish(results);
    console.log(`wrote ${written.map((path) => relative(PROJECT_ROOT, path)).join(', ')}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : String(error));
  process.exitCode = 1;
});
