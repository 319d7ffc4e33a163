/**
 * `npm run loadtest`: drives the local API (loopback only) with many concurrent requests over
 * every route, through a Connect outage and its recovery, and prints throughput, latency
 * percentiles, errors and Connect request counts, then checks the scenario's invariants (see
 * load/scenario.ts). Exit code 1 when one fails.
 *
 * Options (bounded): --clients <1-64> (default 32), --containers <1-16> per function (default 6),
 * --requests <100-20000> in the steady phase (default 4000; the outage and recovery phases send
 * half as many each). The stage (STAGE, default staging) is synthesized into a temporary folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { synthesizeStage } from './dev/synth';
import { formatReport } from './load/report';
import { runLoadScenario } from './load/scenario';

/** The whole run, synthesis included, is abandoned past this. */
const RUN_LIMIT_MS = 290_000;

function bounded(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { clients: { type: 'string' }, containers: { type: 'string' }, requests: { type: 'string' } } });
  const clients = bounded('clients', values.clients, 32, 1, 64);
  const containersPerFunction = bounded('containers', values.containers, 6, 1, 16);
  const steady = bounded('requests', values.requests, 4000, 100, 20_000);
  const stage = process.env.STAGE?.trim() || 'staging';
  const outdir = mkdtempSync(join(tmpdir(), 'op-lambda-loadtest-'));
  const limit = setTimeout(() => {
    console.error(`load test abandoned after ${RUN_LIMIT_MS / 1000} s`);
    rmSync(outdir, { recursive: true, force: true });
    process.exit(1);
  }, RUN_LIMIT_MS);
  try {
    console.log(`Synthesizing stage ${stage}...`);
    const synth = await synthesizeStage({ stage, outdir });
    console.log(`Synthesized ${synth.stackName} in ${(synth.durationMs / 1000).toFixed(1)} s\n`);
    const report = await runLoadScenario({
      cdkOut: synth.cdkOut,
      stackName: synth.stackName,
      clients,
      containersPerFunction,
      requests: { steady, outage: Math.ceil(steady / 2), recovery: Math.ceil(steady / 2) },
      onPhase: (phase) => console.log(`Running phase ${phase}...`),
    });
    console.log(`\n${formatReport(report)}`);
    return report.invariants.every((invariant) => invariant.ok) ? 0 : 1;
  } finally {
    clearTimeout(limit);
    rmSync(outdir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
