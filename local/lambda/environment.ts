import { randomBytes } from 'node:crypto';
import { devNull } from 'node:os';
import { dirname } from 'node:path';
import type { FunctionDefinition } from './types';

/**
 * The environment a function's process starts with: built from scratch the way Lambda builds it,
 * never inherited from the emulator's own process (no host credentials, no HOME secrets).
 */

export interface LambdaEnvironmentInput {
  definition: FunctionDefinition;
  region: string;
  /** `host:port` of this container's Runtime API. */
  runtimeApi: string;
  runtimeDir: string;
  nodePath: readonly string[];
  logStreamName: string;
  /** Applied after the function's own variables; `undefined` deletes a variable. */
  overrides?: Readonly<Record<string, string | undefined>>;
}

/** Variables that only the platform sets; neither the template nor an override may change them. */
const PLATFORM_OWNED = ['AWS_LAMBDA_RUNTIME_API', '_HANDLER', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR'] as const;

export function buildLambdaEnvironment(input: LambdaEnvironmentInput): Record<string, string> {
  const { definition } = input;
  const platform = platformVariables(input);
  const env: Record<string, string | undefined> = { ...platform, ...definition.environment, ...input.overrides };
  for (const name of PLATFORM_OWNED) env[name] = platform[name];
  // Switches the runtime client into its multi-concurrency (Managed Instances) mode.
  delete env.AWS_LAMBDA_MAX_CONCURRENCY;
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function platformVariables(input: LambdaEnvironmentInput): Record<string, string> {
  const { definition, region } = input;
  const deployedName = definition.deployedName ?? definition.name;
  const env: Record<string, string> = {
    AWS_LAMBDA_RUNTIME_API: input.runtimeApi,
    _HANDLER: definition.handler,
    LAMBDA_TASK_ROOT: definition.codePath,
    LAMBDA_RUNTIME_DIR: input.runtimeDir,
    AWS_LAMBDA_FUNCTION_NAME: deployedName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(definition.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: definition.logGroupName ?? `/aws/lambda/${deployedName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: input.logStreamName,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_EXECUTION_ENV: `AWS_Lambda_${definition.runtime}`,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    NODE_PATH: [...input.nodePath, definition.codePath].join(':'),
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    // Lambda's PATH, with the emulator's Node binary standing in for /var/lang/bin.
    PATH: [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    // Lambda hands a function its role's credentials; locally there are none, and the SDK must
    // not fall back to this machine's ~/.aws files or probe an instance metadata service.
    AWS_SHARED_CREDENTIALS_FILE: devNull,
    AWS_CONFIG_FILE: devNull,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  if (definition.logFormat) env.AWS_LAMBDA_LOG_FORMAT = definition.logFormat.toUpperCase() === 'JSON' ? 'JSON' : 'TEXT';
  if (definition.applicationLogLevel) env.AWS_LAMBDA_LOG_LEVEL = definition.applicationLogLevel.toUpperCase();
  return env;
}

/** `YYYY/MM/DD/[$LATEST]<32 hex>`, the shape of a Lambda log stream name. */
export function newLogStreamName(now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

/** Node flags of Lambda's Node.js bootstrap: the V8 heap is sized from the memory setting. */
export function nodeArgumentsFor(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 64);
  return [
    '--expose-gc',
    '--max-http-header-size=81920',
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${memoryMb - newSpace}`,
  ];
}
