/**
 * A synthesized stage for the reliability suites, built once per version of the sources and shared
 * by every suite (and every jest worker) through a cache folder: synthesis bundles six functions,
 * which costs far more than any one suite's assertions.
 *
 * The cache key hashes everything that goes into the assembly (shared/, functions/, infra/, the
 * synthesis entry, cdk.json and the lockfile), so a suite never runs stale bundles. Workers that
 * find a synthesis under way wait for it instead of starting their own.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PROJECT_ROOT, synthesizeStage } from '../../../local/dev/synth';

export interface SynthesizedStage {
  stackName: string;
  cdkOut: string;
}

const INPUTS = ['shared', 'functions', 'infra', 'local/dev/synth-app.ts', 'cdk.json', 'package-lock.json'];
const CACHE_PREFIX = 'op-lambda-reliability-';
const LOCK_STALE_MS = 5 * 60_000;
const POLL_MS = 250;
const HOUR_MS = 3600_000;

export async function synthesizedStage(stage: 'staging' | 'prod' = 'staging'): Promise<SynthesizedStage> {
  const folder = join(tmpdir(), `${CACHE_PREFIX}${stage}-${inputsHash()}`);
  const stackName = `OpLambda-${stage}`;
  const deadline = Date.now() + LOCK_STALE_MS;
  while (!existsSync(join(folder, 'manifest.json'))) {
    if (takeLock(`${folder}.lock`)) {
      try {
        if (!existsSync(join(folder, 'manifest.json'))) await synthesizeInto(stage, folder);
      } finally {
        rmSync(`${folder}.lock`, { recursive: true, force: true });
      }
    } else {
      if (Date.now() > deadline) throw new Error(`gave up waiting for another synthesis of ${stage}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
  return { stackName, cdkOut: folder };
}

async function synthesizeInto(stage: string, folder: string): Promise<void> {
  pruneOldCaches();
  const staging = `${folder}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    await synthesizeStage({ stage, outdir: staging });
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  rmSync(folder, { recursive: true, force: true });
  renameSync(staging, folder);
}

/** mkdir is atomic: whoever creates the lock folder synthesizes; a lock older than LOCK_STALE_MS is abandoned. */
function takeLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    return true;
  } catch {
    try {
      if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
    } catch {
      // Released meanwhile.
    }
    return false;
  }
}

function inputsHash(): string {
  const hash = createHash('sha256');
  for (const input of INPUTS) {
    for (const file of filesUnder(join(PROJECT_ROOT, input))) {
      hash.update(relative(PROJECT_ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
    }
  }
  return hash.digest('hex').slice(0, 16);
}

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => filesUnder(join(path, entry.name)));
}

/** Caches of other source versions, untouched for an hour, go. */
function pruneOldCaches(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(CACHE_PREFIX)) continue;
    const path = join(tmpdir(), name);
    try {
      if (Date.now() - statSync(path).mtimeMs > HOUR_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another process pruned it first.
    }
  }
}
