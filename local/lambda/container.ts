import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildLambdaEnvironment, newLogStreamName, nodeArgumentsFor } from './environment';
import { forEachLine } from './line-splitter';
import { RuntimeApiServer, type RuntimeApiListener } from './runtime-api';
import type { RuntimeDir } from './runtime-dir';
import type { FunctionDefinition, InvokeOutcome, InvokeResult, LambdaErrorPayload, LogStream } from './types';

/**
 * One execution environment: a child process running AWS's runtime interface client against its
 * own local Runtime API. It handles one invoke at a time. The first invoke pays for INIT (a cold
 * start); later ones reuse the process (warm). A timeout or a crash kills the process, and the
 * container is then dead: its owner discards it.
 */

export type ContainerState = 'new' | 'initializing' | 'idle' | 'busy' | 'dead';

export interface ContainerOptions {
  definition: FunctionDefinition;
  region: string;
  accountId: string;
  runtimeDir: RuntimeDir;
  /** Applied to the function's variables; `undefined` deletes one. */
  environment?: Readonly<Record<string, string | undefined>>;
  onLog: (stream: LogStream, text: string) => void;
  /** Called once, when the process is gone (killed, crashed or exited). */
  onDead?: () => void;
}

/** On-demand INIT may take 10 s; Lambda then retries it inside the invoke, under the function timeout. */
const INIT_PHASE_LIMIT_MS = 10_000;
/** Lambda's synchronous invoke response limit. */
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

/** What the runtime (or the process, or a timer) did next. */
type Signal =
  | { kind: 'ready' }
  | { kind: 'init-error'; body: Buffer; errorType: string | undefined }
  | { kind: 'response'; body: Buffer }
  | { kind: 'error'; body: Buffer; errorType: string | undefined }
  | { kind: 'exit'; reason: string }
  | { kind: 'timeout' };

export class LambdaContainer {
  readonly id = randomBytes(4).toString('hex');
  private currentState: ContainerState = 'new';
  private child: ChildProcess | undefined;
  private api: RuntimeApiServer | undefined;
  private waiter: ((signal: Signal) => void) | undefined;
  private exited: Promise<void> = Promise.resolve();
  private killRequested = false;

  constructor(private readonly options: ContainerOptions) {}

  get state(): ContainerState {
    return this.currentState;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get functionArn(): string {
    const { region, accountId, definition } = this.options;
    return `arn:aws:lambda:${region}:${accountId}:function:${definition.deployedName ?? definition.name}`;
  }

  async invoke(event: unknown): Promise<InvokeResult> {
    if (this.currentState !== 'new' && this.currentState !== 'idle') {
      throw new Error(`container ${this.id} cannot take an invoke while ${this.currentState}`);
    }
    const requestId = randomUUID();
    const coldStart = this.currentState === 'new';
    let initDurationMs: number | undefined;
    if (coldStart) {
      const init = await this.initialize(requestId);
      if ('result' in init) return init.result;
      initDurationMs = init.durationMs;
    }
    return this.run(requestId, event, coldStart, initDurationMs);
  }

  /** Kills the process (and anything it spawned) and closes the Runtime API. Idempotent. */
  async kill(): Promise<void> {
    this.killRequested = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) killProcessGroup(child);
    // An INIT still setting up has no process to wait for: wake it now.
    if (!child) this.signal({ kind: 'exit', reason: 'signal: killed' });
    await this.exited;
    await this.api?.close();
    this.api = undefined;
    this.markDead();
  }

  private async initialize(requestId: string): Promise<{ durationMs: number } | { result: InvokeResult }> {
    this.currentState = 'initializing';
    const startedAt = performance.now();
    const signal = await this.waitFor(INIT_PHASE_LIMIT_MS + this.timeoutMs, async () => {
      const api = await RuntimeApiServer.start(this.runtimeListener());
      if (this.killRequested) return api.close();
      this.api = api;
      this.spawnRuntime(api.address);
    });
    const durationMs = performance.now() - startedAt;
    if (signal.kind === 'ready') return { durationMs };
    const error = signal.kind === 'init-error' ? parseError(signal.body, signal.errorType)
      : signal.kind === 'timeout' ? this.timeoutError(requestId)
      : exitError(requestId, signal.kind === 'exit' ? signal.reason : 'unknown');
    const outcome: InvokeOutcome = signal.kind === 'timeout' ? 'timeout' : 'init-error';
    if (signal.kind === 'timeout') this.platformLog(`${new Date().toISOString()} ${requestId} Task timed out after ${this.timeoutLabel} seconds`);
    await this.kill();
    return { result: this.result(requestId, outcome, error, error, true, durationMs, durationMs) };
  }

  private async run(requestId: string, event: unknown, coldStart: boolean, initDurationMs: number | undefined): Promise<InvokeResult> {
    this.currentState = 'busy';
    this.platformLog(`START RequestId: ${requestId} Version: $LATEST`);
    const startedAt = performance.now();
    const signal = await this.waitFor(this.timeoutMs, () => {
      this.api!.deliver({
        requestId,
        eventJson: JSON.stringify(event === undefined ? null : event),
        deadlineMs: Date.now() + this.timeoutMs,
        functionArn: this.functionArn,
        traceId: newTraceId(),
      });
    });
    const durationMs = performance.now() - startedAt;
    const { outcome, payload, error } = this.interpret(requestId, signal);
    if (outcome === 'timeout') this.platformLog(`${new Date().toISOString()} ${requestId} Task timed out after ${this.timeoutLabel} seconds`);
    this.platformLog(`END RequestId: ${requestId}`);
    this.platformLog(this.reportLine(requestId, durationMs, initDurationMs));
    if (outcome === 'timeout' || outcome === 'crash') await this.kill();
    else this.currentState = 'idle';
    return this.result(requestId, outcome, payload, error, coldStart, durationMs, initDurationMs);
  }

  private interpret(requestId: string, signal: Signal): { outcome: InvokeOutcome; payload: unknown; error?: LambdaErrorPayload } {
    switch (signal.kind) {
      case 'response': {
        if (signal.body.length > MAX_RESPONSE_BYTES) {
          const error = { errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).` };
          return { outcome: 'error', payload: error, error };
        }
        return { outcome: 'success', payload: parseJson(signal.body) };
      }
      case 'error': {
        const error = parseError(signal.body, signal.errorType);
        return { outcome: 'error', payload: error, error };
      }
      case 'timeout': {
        const error = this.timeoutError(requestId);
        return { outcome: 'timeout', payload: error, error };
      }
      default: {
        const error = exitError(requestId, signal.kind === 'exit' ? signal.reason : `unexpected ${signal.kind}`);
        return { outcome: 'crash', payload: error, error };
      }
    }
  }

  /** Runs `start`, then resolves with the first signal, or `timeout` after `limitMs`. */
  private async waitFor(limitMs: number, start: () => void | Promise<void>): Promise<Signal> {
    const signal = new Promise<Signal>((resolve) => {
      const timer = setTimeout(() => this.signal({ kind: 'timeout' }), limitMs);
      this.waiter = (value) => {
        clearTimeout(timer);
        resolve(value);
      };
    });
    try {
      await start();
    } catch (error) {
      this.signal({ kind: 'exit', reason: `failed to start: ${(error as Error).message}` });
    }
    return signal;
  }

  private signal(value: Signal): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(value);
  }

  private runtimeListener(): RuntimeApiListener {
    return {
      // The runtime asks again after every answer; only the first request ends INIT.
      onNextRequested: () => {
        if (this.currentState === 'initializing') this.signal({ kind: 'ready' });
      },
      onInvocationResponse: (_id: string, body: Buffer) => this.signal({ kind: 'response', body }),
      onInvocationError: (_id: string, body: Buffer, errorType: string | undefined) => this.signal({ kind: 'error', body, errorType }),
      onInitError: (body: Buffer, errorType: string | undefined) => this.signal({ kind: 'init-error', body, errorType }),
    };
  }

  private spawnRuntime(runtimeApi: string): void {
    const { definition, runtimeDir } = this.options;
    const env = buildLambdaEnvironment({
      definition,
      region: this.options.region,
      runtimeApi,
      runtimeDir: runtimeDir.path,
      nodePath: runtimeDir.nodePath,
      logStreamName: newLogStreamName(),
      overrides: this.options.environment,
    });
    const child = spawn(process.execPath, [...nodeArgumentsFor(definition.memoryMb), runtimeDir.ricEntry, definition.handler], {
      cwd: definition.codePath,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a kill also reaches whatever the handler spawned.
      detached: true,
    });
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('close', () => resolve());
      child.once('error', () => resolve());
    });
    forEachLine(child.stdout!, (text) => this.options.onLog('stdout', text));
    forEachLine(child.stderr!, (text) => this.options.onLog('stderr', text));
    child.once('error', (error) => this.onExit(`failed to start: ${error.message}`));
    child.once('exit', (code, signal) => this.onExit(signal ? `signal: ${signalName(signal)}` : `exit status ${code ?? 0}`));
  }

  private onExit(reason: string): void {
    this.signal({ kind: 'exit', reason });
    // An idle container whose process went away is dead at once; a busy one dies when its
    // invoke has been reported.
    if (this.currentState === 'idle') void this.kill();
  }

  private markDead(): void {
    if (this.currentState === 'dead') return;
    this.currentState = 'dead';
    this.options.onDead?.();
  }

  private get timeoutMs(): number {
    return this.options.definition.timeoutSeconds * 1000;
  }

  private get timeoutLabel(): string {
    return this.options.definition.timeoutSeconds.toFixed(2);
  }

  private timeoutError(requestId: string): LambdaErrorPayload {
    return { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${this.timeoutLabel} seconds` };
  }

  private reportLine(requestId: string, durationMs: number, initDurationMs: number | undefined): string {
    const parts = [
      `REPORT RequestId: ${requestId}`,
      `Duration: ${durationMs.toFixed(2)} ms`,
      `Billed Duration: ${Math.ceil(durationMs)} ms`,
      `Memory Size: ${this.options.definition.memoryMb} MB`,
    ];
    const usedMb = peakMemoryMb(this.pid);
    if (usedMb !== undefined) parts.push(`Max Memory Used: ${usedMb} MB`);
    if (initDurationMs !== undefined) parts.push(`Init Duration: ${initDurationMs.toFixed(2)} ms`);
    return parts.join('\t');
  }

  private platformLog(text: string): void {
    this.options.onLog('platform', text);
  }

  private result(
    requestId: string, outcome: InvokeOutcome, payload: unknown, error: LambdaErrorPayload | undefined,
    coldStart: boolean, durationMs: number, initDurationMs: number | undefined,
  ): InvokeResult {
    return {
      outcome,
      payload,
      ...(error ? { error } : {}),
      requestId,
      functionName: this.options.definition.name,
      containerId: this.id,
      pid: this.pid,
      coldStart,
      ...(initDurationMs !== undefined ? { initDurationMs } : {}),
      durationMs,
    };
  }
}

function killProcessGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

function exitError(requestId: string, reason: string): LambdaErrorPayload {
  const message = reason === 'exit status 0' ? 'Runtime exited without providing a reason' : `Runtime exited with error: ${reason}`;
  return { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: ${message}` };
}

function parseJson(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function parseError(body: Buffer, errorTypeHeader: string | undefined): LambdaErrorPayload {
  const parsed = parseJson(body);
  if (parsed !== null && typeof parsed === 'object') {
    const { errorType, errorMessage, trace } = parsed as Partial<Record<string, unknown>>;
    return {
      errorType: typeof errorType === 'string' ? errorType : errorTypeHeader ?? 'Unknown',
      errorMessage: typeof errorMessage === 'string' ? errorMessage : '',
      ...(Array.isArray(trace) ? { trace: trace.map(String) } : {}),
    };
  }
  return { errorType: errorTypeHeader ?? 'Unknown', errorMessage: String(parsed) };
}

/** X-Ray trace header shape: `Root=1-<epoch hex>-<96-bit hex>;Parent=<64-bit hex>;Sampled=0`. */
function newTraceId(): string {
  const epoch = Math.floor(Date.now() / 1000).toString(16).padStart(8, '0');
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}

function signalName(signal: NodeJS.Signals): string {
  return signal === 'SIGKILL' ? 'killed' : signal.replace(/^SIG/, '').toLowerCase();
}

/** Peak resident memory of a process (Linux /proc), in MB; undefined elsewhere. */
function peakMemoryMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.ceil(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}
