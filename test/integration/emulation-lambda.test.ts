/**
 * The Lambda side of the emulation on its own: the Runtime API server, and functions made of
 * small hand-written handler files run under AWS's runtime interface client.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalLambdaFunction } from '../../local/lambda/local-function';
import { RuntimeApiServer, type RuntimeApiListener } from '../../local/lambda/runtime-api';
import { createRuntimeDir, type RuntimeDir } from '../../local/lambda/runtime-dir';
import type { FunctionDefinition, LogLine } from '../../local/lambda/types';

const HANDLERS: Record<string, string> = {
  'echo.js': `
    exports.handler = async (event, context) => {
      if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
      if (event.stderr) process.stderr.write(event.stderr + '\\n');
      if (event.exit !== undefined) process.exit(event.exit);
      if (event.crashAfterResponse) setTimeout(() => { throw new Error('late failure'); }, 50);
      if (event.bigResponse) return 'x'.repeat(7 * 1024 * 1024);
      if (event.require) {
        try { require(event.require); return { required: true }; } catch (error) { return { required: false, code: error.code }; }
      }
      return { pid: process.pid, env: process.env, remainingMs: context.getRemainingTimeInMillis(), event };
    };`,
  'exits-during-init.js': 'process.exit(2);\nexports.handler = async () => "never";',
  'no-handler.js': 'exports.other = async () => "not the handler";',
};

let codePath: string;
let runtimeDir: RuntimeDir;
const functions: LocalLambdaFunction[] = [];
const logs: LogLine[] = [];

function definition(overrides: Partial<FunctionDefinition> = {}): FunctionDefinition {
  return {
    name: 'Probe',
    logicalId: 'Probe1234',
    handler: 'echo.handler',
    codePath,
    runtime: 'nodejs24.x',
    timeoutSeconds: 3,
    memoryMb: 128,
    environment: { FROM_TEMPLATE: 'yes' },
    ...overrides,
  };
}

function localFunction(overrides: Partial<FunctionDefinition> = {}, options: { maxContainers?: number; environment?: Record<string, string | undefined> } = {}): LocalLambdaFunction {
  const fn = new LocalLambdaFunction({
    definition: definition(overrides),
    runtimeDir,
    region: 'us-east-1',
    accountId: '000000000000',
    maxContainers: options.maxContainers ?? 5,
    ...(options.environment ? { environment: options.environment } : {}),
    onLog: (line) => logs.push(line),
  });
  functions.push(fn);
  return fn;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  codePath = mkdtempSync(join(tmpdir(), 'op-lambda-handlers-'));
  for (const [file, source] of Object.entries(HANDLERS)) writeFileSync(join(codePath, file), source);
  runtimeDir = await createRuntimeDir();
});

afterAll(async () => {
  await Promise.all(functions.map((fn) => fn.close()));
  await runtimeDir?.dispose();
  if (codePath) rmSync(codePath, { recursive: true, force: true });
});

describe('Runtime API server', () => {
  let server: RuntimeApiServer;
  const calls: string[] = [];
  const listener: RuntimeApiListener = {
    onNextRequested: () => calls.push('next'),
    onInvocationResponse: (id, body) => calls.push(`response ${id} ${body.toString()}`),
    onInvocationError: (id, body, errorType) => calls.push(`error ${id} ${errorType} ${body.toString()}`),
    onInitError: (body, errorType) => calls.push(`init-error ${errorType} ${body.toString()}`),
  };
  const api = (path: string): string => `http://${server.address}/2018-06-01/runtime${path}`;

  beforeAll(async () => {
    server = await RuntimeApiServer.start(listener);
  });
  afterAll(() => server.close());

  test('holds /next until an invocation arrives, then sends the headers the runtime client needs', async () => {
    const next = fetch(api('/invocation/next'));
    await eventually(() => calls.includes('next'));
    const deadlineMs = Date.now() + 3000;
    server.deliver({ requestId: 'req-1', eventJson: '{"a":1}', deadlineMs, functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:Probe', traceId: 'Root=1-abc' });
    const response = await next;
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('lambda-runtime-aws-request-id')).toBe('req-1');
    expect(Number(response.headers.get('lambda-runtime-deadline-ms'))).toBe(deadlineMs);
    expect(response.headers.get('lambda-runtime-invoked-function-arn')).toBe('arn:aws:lambda:us-east-1:000000000000:function:Probe');
    expect(response.headers.get('lambda-runtime-trace-id')).toBe('Root=1-abc');
    expect(await response.json()).toEqual({ a: 1 });
  });

  test('accepts the answer for the current request id only', async () => {
    const wrong = await fetch(api('/invocation/req-0/response'), { method: 'POST', body: '"late"' });
    expect(wrong.status).toBe(400);
    const right = await fetch(api('/invocation/req-1/response'), { method: 'POST', body: '"done"' });
    expect(right.status).toBe(202);
    expect(calls).toContain('response req-1 "done"');
    expect(calls.some((call) => call.includes('late'))).toBe(false);
  });

  test('takes errors and init errors with their error type header', async () => {
    server.deliver({ requestId: 'req-2', eventJson: '{}', deadlineMs: Date.now() + 1000, functionArn: 'arn', traceId: 't' });
    await (await fetch(api('/invocation/next'))).text();
    const error = await fetch(api('/invocation/req-2/error'), { method: 'POST', headers: { 'Lambda-Runtime-Function-Error-Type': 'TypeError' }, body: '{"errorType":"TypeError"}' });
    expect(error.status).toBe(202);
    const init = await fetch(api('/init/error'), { method: 'POST', headers: { 'Lambda-Runtime-Function-Error-Type': 'Runtime.Boom' }, body: '{}' });
    expect(init.status).toBe(202);
    expect(calls).toEqual(expect.arrayContaining(['error req-2 TypeError {"errorType":"TypeError"}', 'init-error Runtime.Boom {}']));
    expect((await fetch(api('/unknown'))).status).toBe(404);
  });
});

describe('containers', () => {
  test('INIT failures are reported with Lambda error types and the container is discarded', async () => {
    const exits = await localFunction({ name: 'Exits', handler: 'exits-during-init.handler' }).invoke({});
    expect(exits.outcome).toBe('init-error');
    expect(exits.error).toEqual({ errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${exits.requestId} Error: Runtime exited with error: exit status 2` });

    const missingModule = await localFunction({ name: 'Missing', handler: 'nowhere.handler' }).invoke({});
    expect(missingModule.outcome).toBe('init-error');
    expect(missingModule.error?.errorType).toBe('Runtime.ImportModuleError');

    const noHandler = localFunction({ name: 'NoHandler', handler: 'no-handler.handler' });
    const missingHandler = await noHandler.invoke({});
    expect(missingHandler.error?.errorType).toBe('Runtime.HandlerNotFound');
    expect(noHandler.stats()).toMatchObject({ coldStarts: 1, errors: 1, containers: 0 });
    expect(isAlive(missingHandler.pid!)).toBe(false);
  });

  test('a process that exits during an invoke is a crash; the next invoke is cold', async () => {
    const fn = localFunction({ name: 'Crashes' });
    const warm = await fn.invoke({});
    const crash = await fn.invoke({ exit: 3 });
    expect(crash.outcome).toBe('crash');
    expect(crash.error?.errorMessage).toBe(`RequestId: ${crash.requestId} Error: Runtime exited with error: exit status 3`);
    expect(crash.containerId).toBe(warm.containerId);
    const next = await fn.invoke({});
    expect(next.coldStart).toBe(true);
    expect(next.containerId).not.toBe(warm.containerId);
  });

  test('a process killed while idle is discarded', async () => {
    const fn = localFunction({ name: 'DiesIdle' });
    const first = await fn.invoke({});
    process.kill(first.pid!, 'SIGKILL');
    await eventually(() => fn.stats().containers === 0);
    expect((await fn.invoke({})).coldStart).toBe(true);
  });

  test('an uncaught exception after the response fails the next invoke, as in Lambda', async () => {
    // Node cannot finish exiting while the runtime client waits on /next; the next event
    // releases it, and that invoke sees the runtime exit.
    const fn = localFunction({ name: 'LateFailure' });
    const first = await fn.invoke({ crashAfterResponse: true });
    expect(first.outcome).toBe('success');
    await eventually(() => logs.some((line) => line.containerId === first.containerId && line.stream === 'stderr' && line.text.includes('late failure')));
    const second = await fn.invoke({});
    expect(second.outcome).toBe('crash');
    expect(second.error?.errorType).toBe('Runtime.ExitError');
    expect(isAlive(first.pid!)).toBe(false);
    expect((await fn.invoke({})).coldStart).toBe(true);
  });

  test('a response over 6 MB is a Lambda error', async () => {
    const result = await localFunction({ name: 'Big' }).invoke({ bigResponse: true });
    expect(result.outcome).toBe('error');
    expect(result.error?.errorType).toBe('Function.ResponseSizeTooLarge');
  });

  test('invokes beyond maxContainers wait for a free container', async () => {
    const fn = localFunction({ name: 'Capped' }, { maxContainers: 1 });
    const results = await Promise.all([fn.invoke({ sleepMs: 200 }), fn.invoke({ sleepMs: 200 }), fn.invoke({})]);
    expect(results.map((result) => result.outcome)).toEqual(['success', 'success', 'success']);
    expect(new Set(results.map((result) => result.containerId)).size).toBe(1);
    expect(fn.stats()).toMatchObject({ coldStarts: 1, invocations: 3, containers: 1 });
  });

  test('killContainers ends in-flight invokes and forces a cold start', async () => {
    const fn = localFunction({ name: 'Killed' });
    const warm = await fn.invoke({});
    const inFlight = fn.invoke({ sleepMs: 2000 });
    await eventually(() => logs.some((line) => line.containerId === warm.containerId && line.text.startsWith('START') && logs.filter((l) => l.containerId === warm.containerId && l.text.startsWith('START')).length === 2));
    await fn.killContainers();
    expect((await inFlight).outcome).toBe('crash');
    expect(isAlive(warm.pid!)).toBe(false);
    expect((await fn.invoke({})).coldStart).toBe(true);
  });

  test('close() rejects invokes still waiting for a container', async () => {
    const fn = localFunction({ name: 'Closing' }, { maxContainers: 1 });
    const running = fn.invoke({ sleepMs: 2000 });
    const waiting = fn.invoke({});
    await eventually(() => fn.stats().containers === 1);
    await fn.close();
    await expect(waiting).rejects.toThrow(/closed/);
    expect(['crash', 'init-error']).toContain((await running).outcome);
    await expect(fn.invoke({})).rejects.toThrow(/closed/);
  });
});

describe('environment', () => {
  test('overrides apply, undefined deletes, platform variables cannot be replaced', async () => {
    const fn = localFunction(
      { name: 'Env', environment: { FROM_TEMPLATE: 'yes', REMOVE_ME: 'x', AWS_LAMBDA_MAX_CONCURRENCY: '4' } },
      { environment: { ADDED: 'added', REMOVE_ME: undefined, _HANDLER: 'hijack.handler', LAMBDA_TASK_ROOT: '/elsewhere' } },
    );
    const result = await fn.invoke({});
    const env = (result.payload as { env: Record<string, string | undefined> }).env;
    expect(env).toMatchObject({ FROM_TEMPLATE: 'yes', ADDED: 'added', _HANDLER: 'echo.handler', LAMBDA_TASK_ROOT: codePath, AWS_LAMBDA_FUNCTION_NAME: 'Env' });
    expect(env.REMOVE_ME).toBeUndefined();
    expect(env.AWS_LAMBDA_MAX_CONCURRENCY).toBeUndefined();
    expect(env.AWS_SHARED_CREDENTIALS_FILE).toBe('/dev/null');
  });

  test('like the managed runtime, the AWS SDK v3 is available to functions and nothing else is', async () => {
    const fn = localFunction({ name: 'Modules' });
    expect((await fn.invoke({ require: '@aws-sdk/client-secrets-manager' })).payload).toEqual({ required: true });
    expect((await fn.invoke({ require: 'esbuild' })).payload).toEqual({ required: false, code: 'MODULE_NOT_FOUND' });
  });

  test('stderr is captured line by line, apart from stdout', async () => {
    const fn = localFunction({ name: 'Stderr' });
    const result = await fn.invoke({ stderr: 'first line\nsecond line' });
    const lines = logs.filter((line) => line.containerId === result.containerId && line.stream === 'stderr').map((line) => line.text);
    expect(lines).toEqual(['first line', 'second line']);
  });

  test('the deadline is absolute: remaining time starts near the timeout', async () => {
    const result = await localFunction({ name: 'Deadline', timeoutSeconds: 7 }).invoke({});
    const remainingMs = (result.payload as { remainingMs: number }).remainingMs;
    expect(remainingMs).toBeLessThanOrEqual(7000);
    expect(remainingMs).toBeGreaterThan(5000);
  });
});
