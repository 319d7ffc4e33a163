/**
 * What revalidation costs and buys (`npm run bench:revalidation`):
 *
 * - Connect requests per container-hour, idle (an invocation every 5 minutes) and busy (10 per
 *   second), counted by the local Connect server over one hour of a store's clock;
 * - the added latency of the invocation that checks, at 20 ms per Connect request (p50/p99 of the
 *   store's read with and without a check due);
 * - propagation end to end through the emulation: a write in Connect -> the first /health answer
 *   carrying the new item version, with OP_REVALIDATE_MS at 2 s and a request every 50 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startConnectServer, type ConnectSeed, type LocalConnect } from '../local/connect/server';
import { startLocalApi } from '../local/dev/local-api';
import { synthesizeStage } from '../local/dev/synth';
import { ConnectSource } from '../shared/secrets/connect/connect-source';
import { createSecretStore } from '../shared/secrets/store/secret-store';

const INTERVAL_MS = 60_000;
const HOUR_MS = 3_600_000;
const SEED: ConnectSeed = {
  tokens: [{ name: 'reader', token: 'opl-bench-revalidation-read', vaults: ['*'] }],
  vaults: [
    { name: 'app', items: Array.from({ length: 5 }, (_, index) => ({ title: `item-${index}`, category: 'PASSWORD', fields: [{ label: 'password', value: `bench-value-${index}` }] })) },
    { name: 'data', items: [{ title: 'database', category: 'DATABASE', fields: [{ label: 'url', value: 'postgres://bench' }] }] },
  ],
};
const SECRETS = Object.fromEntries([...Array.from({ length: 5 }, (_, index) => [`S${index}`, `op://app/item-${index}/password`]), ['DATABASE_URL', 'op://data/database/url']]);

function storeAgainst(connect: LocalConnect, clock: () => number) {
  const source = new ConnectSource({ host: connect.url, token: connect.tokens['reader']!, clock });
  return createSecretStore({ env: {}, source, clock, revalidateMs: INTERVAL_MS, secrets: SECRETS });
}

/** Connect requests over one hour of the store's clock, invoking every `everyMs`. */
async function requestsPerHour(connect: LocalConnect, everyMs: number): Promise<number> {
  let offset = 0;
  const store = storeAgainst(connect, () => Date.now() + offset);
  await store.get();
  connect.resetRequests();
  for (offset = everyMs; offset <= HOUR_MS; offset += everyMs) await store.get();
  return connect.requests.length;
}

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Read time of an invocation with a check due, and of one without, at 20 ms per request. */
async function checkLatency(connect: LocalConnect, samples: number): Promise<{ checking: number[]; warm: number[] }> {
  let offset = 0;
  const store = storeAgainst(connect, () => Date.now() + offset);
  await store.get();
  offset += INTERVAL_MS;
  await store.get(); // the first check also learns the vault versions
  connect.setLatency(20);
  const checking: number[] = [];
  const warm: number[] = [];
  for (let sample = 0; sample < samples; sample++) {
    offset += INTERVAL_MS;
    let started = performance.now();
    await store.get();
    checking.push(performance.now() - started);
    started = performance.now();
    await store.get();
    warm.push(performance.now() - started);
  }
  connect.setLatency(0);
  return { checking, warm };
}

/** Write -> first /health answer with the new version, through the emulation. */
async function propagation(writes: number, revalidateMs: number): Promise<number[]> {
  const outdir = mkdtempSync(join(tmpdir(), 'op-lambda-bench-'));
  try {
    const synth = await synthesizeStage({ stage: 'staging', outdir });
    const api = await startLocalApi({ cdkOut: synth.cdkOut, stackName: synth.stackName, environment: { OP_REVALIDATE_MS: String(revalidateMs) } });
    try {
      const health = async (): Promise<number> => {
        const body = (await (await fetch(`${api.gateway.url}/health`)).json()) as { secrets: { DATABASE_URL: { itemVersion: number } } };
        return body.secrets.DATABASE_URL.itemVersion;
      };
      await health();
      const times: number[] = [];
      for (let write = 0; write < writes; write++) {
        // Writes land at random points of the interval, as real ones do.
        await sleep(Math.random() * revalidateMs);
        api.connect!.setField('op-lambda-staging', 'database', 'url', `postgres://bench-${write}@db/app`);
        const version = api.connect!.getItem('op-lambda-staging', 'database').version;
        const writtenAt = performance.now();
        while ((await health()) < version) await sleep(50);
        times.push(performance.now() - writtenAt);
      }
      return times;
    } finally {
      await api.close();
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const connect = await startConnectServer({ seed: SEED });
  try {
    const idle = await requestsPerHour(connect, 5 * 60_000);
    const busy = await requestsPerHour(connect, 100);
    const { checking, warm } = await checkLatency(connect, 100);
    console.log(`requests per container-hour (6 secrets, 6 items, 2 vaults, revalidateMs 60 s): idle ${idle}, busy ${busy}`);
    console.log(`at 1,000 warm busy containers: ${((busy * 1000) / 3600).toFixed(1)} requests/s`);
    console.log(`checking invocation at 20 ms/request: p50 ${percentile(checking, 50).toFixed(1)} ms, p99 ${percentile(checking, 99).toFixed(1)} ms`);
    console.log(`non-checking invocation: p50 ${percentile(warm, 50).toFixed(3)} ms, p99 ${percentile(warm, 99).toFixed(3)} ms`);
  } finally {
    await connect.close();
  }
  const revalidateMs = 2000;
  const times = await propagation(10, revalidateMs);
  console.log(
    `propagation through the emulation (OP_REVALIDATE_MS ${revalidateMs}, /health every 50 ms, ${times.length} writes): ` +
      `p50 ${percentile(times, 50).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
