/**
 * Reading the Connect token from Secrets Manager in a fresh process, four ways: op-lambda's signed
 * GetSecretValue over node:https, the AWS SDK client bundled, the AWS SDK left to the Lambda runtime
 * (`require`d from its node_modules), and the Parameters and Secrets Lambda Extension (a loopback
 * HTTP call; the extension then calls Secrets Manager). Secrets Manager is a local stand-in that
 * checks signatures and adds the same latency as every Connect request.
 */
import { join } from 'node:path';
import { startSecretsManagerStandIn } from '../local/secrets-manager/server';
import { createRuntimeDir } from '../local/lambda/runtime-dir';
import { bundleHandler, RUNTIME_PROVIDED } from './build';
import { startExtensionStandIn } from './extension-stand-in';
import { figure, formatBytes, formatMs, samples, type Figure, type Samples } from './figures';
import { runProcess } from './require-time';
import { median } from './stats';
import { printTable, type Table } from './table';

export interface TokenReadOptions {
  repetitions: number;
  latencyMs: number;
  workDir: string;
}

export interface TokenReadResult {
  id: string;
  label: string;
  bytes: Figure;
  /** `require` of the reader's bundle. */
  requireMs: Figure;
  /** Process start (Node's time origin) to the token in hand. */
  tokenMs: Figure;
  samples: Samples;
}

export interface TokenReadResults {
  repetitions: number;
  latencyPerRequestMs: Figure;
  readers: TokenReadResult[];
}

interface Reader {
  id: string;
  label: string;
  entry: string;
  external: readonly string[];
}

const READERS: readonly Reader[] = [
  { id: 'none', label: 'nothing read (process start)', entry: 'bench/token-readers/none.ts', external: [] },
  { id: 'signed', label: 'op-lambda: signed GetSecretValue over node:https', entry: 'bench/token-readers/signed.ts', external: [] },
  { id: 'sdk-bundled', label: '@aws-sdk/client-secrets-manager, bundled', entry: 'bench/token-readers/sdk.ts', external: [] },
  { id: 'sdk-runtime', label: '@aws-sdk/client-secrets-manager, from the runtime', entry: 'bench/token-readers/sdk.ts', external: RUNTIME_PROVIDED },
  { id: 'extension', label: 'Parameters and Secrets Lambda Extension (stand-in)', entry: 'bench/token-readers/extension.ts', external: [] },
];

const SECRET_ID = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:op-connect-token-BeNcH0';
const CREDENTIALS = { accessKeyId: 'AKIDOPLAMBDABENCH', secretAccessKey: 'bench-not-a-secret-key', sessionToken: 'bench-session-token' };

/** Requires the reader, reads, prints require time and time since process start. */
const CHILD_SCRIPT = `
const started = performance.now();
const reader = require(process.argv[1]);
const required = performance.now() - started;
reader.readToken().then((token) => {
  if (!token) throw new Error('empty token');
  process.stdout.write('\\nREAD=' + required + ' ' + performance.now() + '\\n', () => process.exit(0));
});
`;

export async function runTokenReadBench(options: TokenReadOptions): Promise<TokenReadResults> {
  const secretsManager = await startSecretsManagerStandIn({ secrets: { [SECRET_ID]: 'bench-connect-token' }, credentials: CREDENTIALS, latencyMs: options.latencyMs });
  const runtimeDir = await createRuntimeDir();
  const awsEnv = {
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
  };
  const extension = await startExtensionStandIn(awsEnv);
  try {
    const env = {
      ...awsEnv,
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      NODE_PATH: runtimeDir.nodePath.join(':'),
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_EC2_METADATA_DISABLED: 'true',
      OP_CONNECT_TOKEN_SECRET_ARN: SECRET_ID,
      PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(extension.port),
    };
    const built = await Promise.all(READERS.map((reader) => bundleHandler({ entry: reader.entry, outDir: join(options.workDir, 'token', reader.id), external: reader.external })));
    const measured = READERS.map(() => ({ require: [] as number[], token: [] as number[] }));
    for (let round = 0; round < options.repetitions; round += 1) {
      for (const [index, bundle] of built.entries()) {
        extension.reset();
        const { requireMs, tokenMs } = await readOnce(bundle.file, env);
        measured[index]!.require.push(requireMs);
        measured[index]!.token.push(tokenMs);
      }
    }
    const results: TokenReadResults = {
      repetitions: options.repetitions,
      latencyPerRequestMs: figure(options.latencyMs, 'ms'),
      readers: READERS.map((reader, index) => ({
        id: reader.id,
        label: reader.label,
        bytes: figure(built[index]!.bytes, 'bytes'),
        requireMs: figure(median(measured[index]!.require), 'ms'),
        tokenMs: figure(median(measured[index]!.token), 'ms'),
        samples: samples(measured[index]!.token, 'ms'),
      })),
    };
    printTable(tokenReadTable(results));
    return results;
  } finally {
    await extension.close();
    await runtimeDir.dispose();
    await secretsManager.close();
  }
}

async function readOnce(file: string, env: Record<string, string>): Promise<{ requireMs: number; tokenMs: number }> {
  const { stdout, stderr, code } = await runProcess(process.execPath, ['-e', CHILD_SCRIPT, file], env);
  const line = stdout.split('\n').find((candidate) => candidate.startsWith('READ='));
  if (code !== 0 || !line) throw new Error(`token read by ${file} failed (exit ${code}): ${(stderr || stdout).trim().split('\n').slice(-3).join(' | ')}`);
  const [requireMs, tokenMs] = line.slice('READ='.length).split(' ').map(Number) as [number, number];
  return { requireMs, tokenMs };
}

export function tokenReadTable(results: TokenReadResults): Table {
  const floor = results.readers.find((reader) => reader.id === 'none')?.tokenMs.value ?? 0;
  return {
    title: `Reading the Connect token in a fresh process, ${results.latencyPerRequestMs.value} ms per Secrets Manager request (median of ${results.repetitions})`,
    headers: ['reader', 'bundle', 'require ms', 'process start to token ms', 'over process start ms'],
    rows: results.readers.map((reader) => [
      reader.label,
      formatBytes(reader.bytes.value),
      formatMs(reader.requireMs.value),
      formatMs(reader.tokenMs.value),
      reader.id === 'none' ? '-' : `+${formatMs(reader.tokenMs.value - floor)}`,
    ]),
  };
}
