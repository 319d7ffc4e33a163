/**
 * Shapes shared by the local Lambda emulation: what a function is, what an invoke returns, and
 * what a container logs.
 */

/** One function as the emulator runs it (read from a synthesized template, or built by hand). */
export interface FunctionDefinition {
  /** Readable name (e.g. `Health`), used to address the function locally. */
  name: string;
  /**
   * The name it has in AWS (the template's `FunctionName`): AWS_LAMBDA_FUNCTION_NAME, the ARN,
   * the default log group. Defaults to `name`.
   */
  deployedName?: string;
  /** Logical id in the template (informational). */
  logicalId: string;
  /** Handler string as Lambda reads it, e.g. `index.handler`. */
  handler: string;
  /** Folder that holds the deployment package (the CDK asset folder); becomes LAMBDA_TASK_ROOT. */
  codePath: string;
  /** Template `Runtime`, e.g. `nodejs24.x`. The emulator always runs its own Node binary. */
  runtime: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** The function's own variables, already resolved to strings. */
  environment: Record<string, string>;
  /** `LoggingConfig.LogFormat` (`JSON` or `Text`) when the template sets it. */
  logFormat?: string;
  /** `LoggingConfig.ApplicationLogLevel` when the template sets it. */
  applicationLogLevel?: string;
  /** Log group name; defaults to `/aws/lambda/<deployed name>`. */
  logGroupName?: string;
}

/** The error document Lambda returns for a failed invoke. */
export interface LambdaErrorPayload {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/**
 * How an invoke ended.
 * - `success`: the runtime posted a response.
 * - `error`: the handler threw or rejected (runtime posted to `/invocation/{id}/error`).
 * - `timeout`: the function ran past its timeout; its process was killed.
 * - `init-error`: INIT failed (`/init/error`, or the process exited before asking for work).
 * - `crash`: the process exited while handling the invoke.
 */
export type InvokeOutcome = 'success' | 'error' | 'timeout' | 'init-error' | 'crash';

export interface InvokeResult {
  outcome: InvokeOutcome;
  /** The handler's return value (JSON-parsed) on success; otherwise the Lambda error payload. */
  payload: unknown;
  /** Present whenever `outcome` is not `success`. */
  error?: LambdaErrorPayload;
  requestId: string;
  functionName: string;
  containerId: string;
  /** Process id of the container that ran the invoke. */
  pid: number | undefined;
  coldStart: boolean;
  /** INIT wall time, on cold starts. */
  initDurationMs?: number;
  /** Wall time from handing the event to the runtime until its answer (or the kill). */
  durationMs: number;
}

export type LogStream = 'stdout' | 'stderr' | 'platform';

/** One line of output. `platform` lines are the emulator's START / END / REPORT records. */
export interface LogLine {
  functionName: string;
  containerId: string;
  stream: LogStream;
  text: string;
  /** Epoch milliseconds. */
  at: number;
}

export type LogListener = (line: LogLine) => void;
