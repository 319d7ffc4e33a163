/**
 * `npm start` as a developer runs it: a real `npm` process that synthesizes, starts everything,
 * prints its routes, serves requests, streams function logs, and leaves no process behind when
 * stopped — whether by SIGTERM to npm alone or by Ctrl-C to the whole process group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startConnectServer } from '../../../local/connect/server';
import { PROJECT_ROOT } from '../../../local/dev/synth';
import { collectSecretValues, expectNoLeaks } from '../../helpers/leak-scan';
import { paymentBody } from './support';

jest.setTimeout(240_000);

const READY_TIMEOUT_MS = 150_000;
const STOP_TIMEOUT_MS = 15_000;

interface NpmStart {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

let cdkOut: string;
const started: NpmStart[] = [];

beforeAll(() => {
  cdkOut = mkdtempSync(join(tmpdir(), 'op-lambda-npm-start-'));
});

afterAll(() => {
  // Whatever a failed test left running: the process groups, then function containers (their own groups).
  for (const { child } of started) signalGroup(child.pid!, 'SIGKILL');
  for (const pid of processesOfThisSuite()) signalGroup(pid, 'SIGKILL');
  rmSync(cdkOut, { recursive: true, force: true });
});

function npmStart(env: Record<string, string | undefined>): NpmStart {
  const child = spawn('npm', ['start'], {
    cwd: PROJECT_ROOT,
    // Its own process group, as a terminal gives a foreground job: Ctrl-C signals all of it.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CDK_OUTDIR: cdkOut, NO_COLOR: '1', FORCE_COLOR: undefined, OP_CONNECT_HOST: undefined, OP_CONNECT_TOKEN: undefined, ...env },
  });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const run = { child, output: () => text, exited };
  started.push(run);
  return run;
}

/** `npm run -s token` as a developer runs it beside `npm start`: the token on stdout. */
function npmRunToken(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '-s', 'token', '--', ...args], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CDK_OUTDIR: cdkOut },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(stdout.trim()) : reject(new Error(`npm run token exited ${code}: ${stderr.trim()}`))));
  });
}

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs: number, output: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output so far:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function readyUrl(run: NpmStart): Promise<string> {
  return waitFor(() => /ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(run.output())?.[1], 'npm start to be ready', READY_TIMEOUT_MS, run.output);
}

/**
 * Every live process started for this suite's runs: npm and its children inherit CDK_OUTDIR, and
 * each function container runs from an asset folder inside it (LAMBDA_TASK_ROOT).
 */
function processesOfThisSuite(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').includes(cdkOut)) found.push(Number(entry));
    } catch {
      // Gone while we looked, or not ours to read.
    }
  }
  return found;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

async function expectAllGone(output: () => string): Promise<void> {
  await waitFor(() => (processesOfThisSuite().length === 0 ? true : undefined), 'every process to exit', STOP_TIMEOUT_MS, output);
}

test('npm start serves the stage with the demo vault; SIGTERM to npm stops every process', async () => {
  const run = npmStart({ PORT: '0', STAGE: 'staging' });
  const url = await readyUrl(run);

  const output = run.output();
  expect(output).toMatch(/Synthesized OpLambda-staging in \d+\.\d s/);
  expect(output).toMatch(/GET {3}\/health +-> {2}Health/);
  expect(output).toMatch(/POST {2}\/webhooks\/\{source\} +-> {2}Webhooks/);
  expect(output).toMatch(/POST {2}\/payments +-> {2}Payments/);
  expect(output).toMatch(/1Password Connect: http:\/\/127\.0\.0\.1:\d+ \(local demo vault; each function uses its own token/);
  expect(output).toMatch(/JWT issuer: http:\/\/127\.0\.0\.1:\d+ /);

  expect((await fetch(`${url}/health`)).status).toBe(200);
  const anonymous = await fetch(`${url}/payments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: paymentBody() });
  expect(anonymous.status).toBe(401);
  expect(await anonymous.json()).toEqual({ message: 'Unauthorized' });
  const token = await npmRunToken(['--sub', 'e2e-developer']);
  const payment = await fetch(`${url}/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: paymentBody(),
  });
  expect(payment.status).toBe(201);
  await waitFor(() => (/gateway +\| POST \/payments 201 \(Payments, cold start/.test(run.output()) ? true : undefined), 'the request line', 5000, run.output);
  expect(run.output()).toMatch(/Health +\| START RequestId: /);
  expect(run.output()).toMatch(/Payments +\| \{.*"message":"secret\.access"/);
  // Each function presents its own token to Connect, named after the function.
  expect(run.output()).toMatch(/connect +\| GET \/v1\/vaults 200 \d+ ms \[op-lambda-staging-health\]/);
  expect(run.output()).toMatch(/connect +\| GET \/v1\/vaults 200 \d+ ms \[op-lambda-staging-payments\]/);
  expect(run.output()).not.toMatch(/\[dev-read\]/);
  expect(run.output()).toMatch(/Payments +\| \{.*"message":"secret\.access".*"sub":"e2e-developer"/);

  // npm, sh, tsx, the API itself, and the two function containers that answered.
  expect(processesOfThisSuite().length).toBeGreaterThanOrEqual(6);
  run.child.kill('SIGTERM');

  await run.exited;
  await expectAllGone(run.output);
  expect(run.output()).toMatch(/stopping\.\.\./);
  expectNoLeaks({ 'npm start output': run.output() }, [...collectSecretValues(), token]);
  // Stopped, it no longer offers tokens.
  await expect(npmRunToken([])).rejects.toThrow(/no running `npm start` found/);
});

test('with OP_CONNECT_HOST and OP_CONNECT_TOKEN it uses that Connect server; Ctrl-C stops every process', async () => {
  const connect = await startConnectServer();
  try {
    const run = npmStart({ PORT: '0', OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN: connect.tokens['staging-only'] });
    const url = await readyUrl(run);
    expect(run.output()).toContain(`1Password Connect: ${connect.url} (from OP_CONNECT_HOST`);

    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect(connect.countRequests()).toBeGreaterThan(0);
    expect(connect.requests.every((entry) => entry.tokenName === 'staging-only')).toBe(true);

    expect(processesOfThisSuite().length).toBeGreaterThanOrEqual(5);
    signalGroup(run.child.pid!, 'SIGINT');

    await run.exited;
    await expectAllGone(run.output);
    expectNoLeaks({ 'npm start output': run.output() }, collectSecretValues());
  } finally {
    await connect.close();
  }
});

test('an unknown stage fails with the known ones named, and nothing keeps running', async () => {
  const run = npmStart({ PORT: '0', STAGE: 'qa' });

  const code = await run.exited;

  expect(code).not.toBe(0);
  expect(run.output()).toMatch(/Unknown stage "qa": expected one of staging, prod/);
  await expectAllGone(run.output);
});
