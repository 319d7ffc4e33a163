/**
 * Warm-invoke overhead, in process: a bare Middy handler against the same handler holding 10
 * cached secrets with opSecrets, with @middy/secrets-manager, and with Powertools Parameters
 * `getSecret`. The Secrets Manager client is answered in process (aws-sdk-client-mock), opSecrets'
 * resolver likewise; every cache is filled before measuring, so each figure is the warm path alone.
 *
 * Budget (DESIGN section 7): opSecrets adds no more per invoke than either alternative, and
 * stays within 10% of the bare handler.
 *
 * opSecrets is measured four ways, to tell its parts apart: reading the 10 secrets (one
 * `secret.access` audit line per invoke, written to /dev/null: a real write system call, as
 * stdout is on Lambda), the same with the line built but not written, reading one secret, and
 * reading none (no access line: the middleware alone).
 *
 * Every variant gets a Lambda-like context (getRemainingTimeInMillis, so Middy arms its early
 * timeout as on AWS). Median of several rounds after a warm-up; variants alternate order within
 * each round so that drift (turbo, GC, neighbours) touches them alike.
 *
 * Part of `npm run bench`; alone: npx tsx bench/warm.ts [--rounds N] [--invokes N] [--variants a,b]
 * (`--variants op-lambda` measures that variant and the bare handler in a process of their own, as
 * a function's process holds one handler: call sites that see one view class, not four).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { ConnectError } from '../shared/secrets/errors';
import type { SecretSource } from '../shared/secrets/source';
import { opSecrets, type SecretsContext } from '../shared/secrets/middleware';
import { figure, formatPercent, samples, type Figure, type Samples } from './figures';
import { comparedSecretIds, comparedSecretNames, seen } from './handlers/catalog';
import { median } from './stats';
import { printTable, type Table } from './table';

type Invoke = (event: unknown, context: Context) => Promise<unknown>;

export type WarmVariantId =
  | 'bare'
  | 'op-lambda'
  | 'op-lambda-discard-audit'
  | 'op-lambda-read-one'
  | 'op-lambda-no-read'
  | 'middy-secrets-manager'
  | 'powertools';

interface Variant {
  id: WarmVariantId;
  label: string;
  invoke: Invoke;
}

export interface WarmOptions {
  rounds: number;
  invokesPerRound: number;
  /** Variants to measure besides the bare handler; default every one. */
  only?: readonly WarmVariantId[];
}

export interface WarmVariantResult {
  id: WarmVariantId;
  label: string;
  nsPerInvoke: Figure;
  overheadNs: Figure;
  overheadPercent: Figure;
  /** ns per invoke of every round, for the curious and the sceptical. */
  rounds: Samples;
}

export interface WarmResults {
  secrets: number;
  rounds: number;
  invokesPerRound: number;
  variants: WarmVariantResult[];
  /** When every variant it compares was measured. */
  budget?: {
    /** op-lambda's overhead within 10% of the bare handler. */
    withinTenPercentOfBare: boolean;
    /** op-lambda's overhead no larger than @middy/secrets-manager's or Powertools'. */
    noLargerThanAlternatives: boolean;
  };
}

const SECRETS_MAX_AGE_SECONDS = 3600;
const names = comparedSecretNames();
const ids = comparedSecretIds();

/** Answers every reference at once, in process (used only to fill the cache). */
const inProcessSource: SecretSource = {
  resolve: async (references) => ({
    values: new Map(references.map((reference) => [reference.key, { value: `value-of-${reference.item}-${reference.field}`, itemVersion: 1 }])),
    errors: new Map<string, ConnectError>(),
  }),
};

const quietLogger = { info: () => undefined, warn: () => undefined };
const noMetrics = { addMetric: () => undefined, publishStoredMetrics: () => undefined };

const event = {
  version: '2.0',
  routeKey: 'GET /bench',
  rawPath: '/bench',
  headers: {},
  requestContext: { apiId: 'bench', routeKey: 'GET /bench', http: { method: 'GET', path: '/bench', sourceIp: '203.0.113.1', userAgent: 'bench' } },
};

function lambdaContext(): Context {
  const deadline = Date.now() + 3600_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench',
    memoryLimitInMB: '512',
    awsRequestId: '8476a536-e9f4-11e8-9739-2dfe598c3fcd',
    logGroupName: '/aws/lambda/bench',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function buildVariants(devNull: number): Promise<Variant[]> {
  // ESM-only packages (their exports offer only `import`): loaded the way ESM loads them.
  const { default: middy } = await import('@middy/core');
  const { default: secretsManager } = await import('@middy/secrets-manager');
  const secrets = Object.fromEntries(names.map((name, index) => [name, `op://bench/item-${Math.floor(index / 2)}/field-${index % 2}`]));
  const opOptions = { env: {}, secrets, source: inProcessSource, logger: quietLogger, metrics: noMetrics };
  const readAll = async (_event: unknown, context: SecretsContext): Promise<unknown> => seen(names.map((name) => context.secrets[name]));
  const fetchData = Object.fromEntries(names.map((name, index) => [name, ids[index]!]));
  return [
    { id: 'bare', label: 'bare Middy', invoke: middy(async () => seen([])) as Invoke },
    {
      id: 'op-lambda',
      label: 'opSecrets, reads 10 (access line written)',
      invoke: middy<unknown, unknown, Error, SecretsContext>()
        .use(opSecrets({ ...opOptions, auditWrite: (line) => void writeSync(devNull, line) }))
        .handler(readAll) as unknown as Invoke,
    },
    {
      id: 'op-lambda-discard-audit',
      label: 'opSecrets, reads 10 (access line built, not written)',
      invoke: middy<unknown, unknown, Error, SecretsContext>()
        .use(opSecrets({ ...opOptions, auditWrite: () => undefined }))
        .handler(readAll) as unknown as Invoke,
    },
    {
      id: 'op-lambda-read-one',
      label: 'opSecrets, reads 1 (access line written)',
      invoke: middy<unknown, unknown, Error, SecretsContext>()
        .use(opSecrets({ ...opOptions, auditWrite: (line) => void writeSync(devNull, line) }))
        .handler(async (_event, context) => seen([context.secrets['SECRET_3']])) as unknown as Invoke,
    },
    {
      id: 'op-lambda-no-read',
      label: 'opSecrets, reads none (no access line)',
      invoke: middy<unknown, unknown, Error, SecretsContext>()
        .use(opSecrets({ ...opOptions, auditWrite: (line) => void writeSync(devNull, line) }))
        .handler(async () => seen([])) as unknown as Invoke,
    },
    {
      id: 'middy-secrets-manager',
      label: '@middy/secrets-manager 6, reads 10 from context',
      invoke: middy(async (_event: unknown, context: object) => seen(names.map((name) => (context as Record<string, unknown>)[name])))
        // AwsClient: the CommonJS class that aws-sdk-client-mock patches (this module loads the ESM build).
        .use(secretsManager({ fetchData, setToContext: true, AwsClient: SecretsManagerClient, awsClientOptions: { region: 'us-east-1' } })) as unknown as Invoke,
    },
    {
      id: 'powertools',
      label: `Powertools getSecret x10 (maxAge ${SECRETS_MAX_AGE_SECONDS} s)`,
      invoke: middy(async () => seen(await Promise.all(ids.map((id) => getSecret(id, { maxAge: SECRETS_MAX_AGE_SECONDS }))))) as Invoke,
    },
  ];
}

/** Secrets Manager answered in process; a Promise, as middy's util chains `.catch` on `send`. */
function mockSecretsManager(): () => void {
  const mock = mockClient(SecretsManagerClient);
  mock.onAnyCommand().callsFake(async (input: { SecretId?: string }) => ({ SecretString: `value-of-${input.SecretId ?? ''}` }));
  return () => mock.restore();
}

async function nsPerInvoke(invoke: Invoke, count: number, context: Context): Promise<number> {
  const started = process.hrtime.bigint();
  for (let index = 0; index < count; index += 1) await invoke(event, context);
  return Number(process.hrtime.bigint() - started) / count;
}

const EXPECTED_COUNT: Partial<Record<WarmVariantId, number>> = { 'bare': 0, 'op-lambda-no-read': 0, 'op-lambda-read-one': 1 };

/** Fills every cache and checks every variant sees its values before anything is timed. */
async function verify(variants: readonly Variant[]): Promise<void> {
  for (const variant of variants) {
    const response = (await variant.invoke(event, lambdaContext())) as Partial<ReturnType<typeof seen>>;
    const expected = EXPECTED_COUNT[variant.id] ?? names.length;
    if (response.statusCode !== 200 || response.count !== expected || (expected > 0 && !(response.totalLength! > 0))) {
      throw new Error(`warm variant ${variant.id} answered ${JSON.stringify(response)}`);
    }
  }
}

export async function runWarmBench(options: WarmOptions): Promise<WarmResults> {
  const restore = mockSecretsManager();
  const devNull = openSync('/dev/null', 'w');
  try {
    const variants = (await buildVariants(devNull)).filter((variant) => !options.only || variant.id === 'bare' || options.only.includes(variant.id));
    await verify(variants);
    const context = lambdaContext();
    for (const variant of variants) await nsPerInvoke(variant.invoke, options.invokesPerRound, context); // JIT warm-up
    const rounds = new Map<Variant, number[]>(variants.map((variant) => [variant, []]));
    for (let round = 0; round < options.rounds; round += 1) {
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) rounds.get(variant)!.push(await nsPerInvoke(variant.invoke, options.invokesPerRound, context));
    }
    const results = summarise(rounds, options);
    printTable(warmTable(results));
    return results;
  } finally {
    closeSync(devNull);
    restore();
  }
}

function summarise(rounds: ReadonlyMap<Variant, number[]>, options: WarmOptions): WarmResults {
  const medianOf = (id: WarmVariantId): number => median([...rounds].find(([variant]) => variant.id === id)![1]);
  const bare = medianOf('bare');
  const variants = [...rounds].map(([variant, perRound]): WarmVariantResult => {
    const ns = median(perRound);
    return {
      id: variant.id,
      label: variant.label,
      nsPerInvoke: figure(ns, 'ns'),
      overheadNs: figure(ns - bare, 'ns'),
      overheadPercent: figure(((ns - bare) / bare) * 100, 'percent'),
      rounds: samples(perRound, 'ns'),
    };
  });
  const overhead = (id: WarmVariantId): number => medianOf(id) - bare;
  const compared: readonly WarmVariantId[] = ['op-lambda', 'middy-secrets-manager', 'powertools'];
  const complete = compared.every((id) => variants.some((variant) => variant.id === id));
  return {
    secrets: names.length,
    rounds: options.rounds,
    invokesPerRound: options.invokesPerRound,
    variants,
    budget: complete
      ? {
          withinTenPercentOfBare: overhead('op-lambda') <= bare * 0.1,
          noLargerThanAlternatives: overhead('op-lambda') <= Math.min(overhead('middy-secrets-manager'), overhead('powertools')),
        }
      : undefined,
  };
}

export function warmTable(results: WarmResults): Table {
  return {
    title: `Warm invoke, ${results.secrets} cached secrets (median of ${results.rounds} rounds x ${results.invokesPerRound} invokes)`,
    headers: ['handler', 'ns/invoke', 'invokes/s', 'added ns', 'added'],
    rows: results.variants.map((variant) => [
      variant.label,
      variant.nsPerInvoke.value.toFixed(0),
      Math.round(1e9 / variant.nsPerInvoke.value).toLocaleString('en-US'),
      variant.id === 'bare' ? '-' : variant.overheadNs.value.toFixed(0),
      variant.id === 'bare' ? '-' : formatPercent(variant.overheadPercent.value),
    ]),
  };
}

if (require.main === module) {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: '15' }, invokes: { type: 'string', default: '20000' }, variants: { type: 'string' } },
  });
  const only = values.variants?.split(',').map((id) => id.trim()) as WarmVariantId[] | undefined;
  runWarmBench({ rounds: Number(values.rounds), invokesPerRound: Number(values.invokes), only }).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
