/**
 * The first HTTP request of a fresh process, through global `fetch` (undici, which Node loads on
 * first use) and through `node:http` (op-lambda's resolver, and axios): part of what a cold start
 * pays before its first secret arrives, whatever the server's latency.
 */
import { spawn } from 'node:child_process';
import { figure, type Figure } from './figures';
import { median } from './stats';

/** argv: url, transport; prints the first and second request times in ms, as JSON. */
const CHILD_SCRIPT = `
const [url, transport] = process.argv.slice(1);
const viaFetch = async () => { await (await fetch(url)).arrayBuffer(); };
const viaHttp = () => new Promise((resolve, reject) => {
  require('node:http').get(url, (response) => { response.resume(); response.on('end', resolve); }).on('error', reject);
});
const once = transport === 'fetch' ? viaFetch : viaHttp;
(async () => {
  const times = [];
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const started = performance.now();
    await once();
    times.push(performance.now() - started);
  }
  process.stdout.write(JSON.stringify(times));
})().catch((error) => { console.error(error.message); process.exit(1); });
`;

export interface FirstRequestCost {
  fetchFirstMs: Figure;
  fetchSecondMs: Figure;
  httpFirstMs: Figure;
  httpSecondMs: Figure;
}

export async function measureFirstRequest(url: string, repetitions: number): Promise<FirstRequestCost> {
  const samples = { fetch: [[], []] as number[][], http: [[], []] as number[][] };
  for (let round = 0; round < repetitions; round += 1) {
    for (const transport of ['fetch', 'http'] as const) {
      const [first, second] = await twoRequests(url, transport);
      samples[transport][0]!.push(first);
      samples[transport][1]!.push(second);
    }
  }
  return {
    fetchFirstMs: figure(median(samples.fetch[0]!), 'ms'),
    fetchSecondMs: figure(median(samples.fetch[1]!), 'ms'),
    httpFirstMs: figure(median(samples.http[0]!), 'ms'),
    httpSecondMs: figure(median(samples.http[1]!), 'ms'),
  };
}

function twoRequests(url: string, transport: 'fetch' | 'http'): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD_SCRIPT, url, transport], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.once('error', reject);
    child.once('close', (code) => {
      const times = code === 0 ? (JSON.parse(stdout) as number[]) : [];
      if (times.length === 2) resolve([times[0]!, times[1]!]);
      else reject(new Error(`first-request probe (${transport}) failed: ${stderr.trim()}`));
    });
  });
}
