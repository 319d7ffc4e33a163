/**
 * Warm-invoke cost of opSecrets: a Middy handler holding 10 cached secrets against the same bare
 * Middy handler. Budget (DESIGN section 7): added time per warm invoke within 10% of the bare
 * handler's.
 *
 * Variants, all with a Lambda-like context (getRemainingTimeInMillis, so Middy arms its early
 * timeout as it does on AWS):
 *   bare            middy(handler)
 *   opSecrets       + opSecrets, the handler reads no secret (the middleware alone)
 *   opSecrets+read  + the handler reads one secret, so a secret.access line is written (to
 *                   /dev/null, a real write system call)
 *
 * Median of several rounds after a warm-up; variants alternate within each round so that drift
 * (turbo, GC, neighbours) touches them alike. Run: npx tsx bench/warm.ts [--rounds N] [--invokes N]
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { ConnectError } from '../shared/secrets/errors';
import { opSecrets, type SecretResolver } from '../shared/secrets/middleware';

type Invoke = (event: unknown, context: Context) => Promise<unknown>;

const SECRET_COUNT = 10;
const args = new Map(process.argv.slice(2).flatMap((arg, index, all) => (arg.startsWith('--') ? [[arg.slice(2), all[index + 1] ?? '']] : [])));
const ROUNDS = Number(args.get('rounds') ?? 15);
const INVOKES = Number(args.get('invokes') ?? 20_000);

const secrets = Object.fromEntries(Array.from({ length: SECRET_COUNT }, (_, index) => [`SECRET_${index}`, `op://bench/item-${index}/credential`]));

/** Answers every reference at once, in process. */
const resolver: SecretResolver = {
  resolve: async (references) => ({
    values: new Map(references.map((reference) => [reference.key, { value: `value-of-${reference.item}`, itemVersion: 1 }])),
    errors: new Map<string, ConnectError>(),
  }),
};

const quiet = { info: () => undefined, warn: () => undefined };
const noMetrics = { addMetric: () => undefined, publishStoredMetrics: () => undefined };

function lambdaContext(): Context {
  const deadline = Date.now() + 3600_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:bench',
    memoryLimitInMB: '1024',
    awsRequestId: '8476a536-e9f4-11e8-9739-2dfe598c3fcd',
    logGroupName: '/aws/lambda/bench',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const event = {
  version: '2.0',
  routeKey: 'GET /bench',
  rawPath: '/bench',
  headers: {},
  requestContext: { apiId: 'bench', routeKey: 'GET /bench', http: { method: 'GET', path: '/bench', sourceIp: '203.0.113.1', userAgent: 'bench' } },
};

async function variants(devNull: number): Promise<Record<string, Invoke>> {
  const { default: middy } = await import('@middy/core');
  const respond = async (): Promise<unknown> => ({ statusCode: 200, body: 'ok' });
  const options = { env: {}, resolver, logger: quiet, metrics: noMetrics, auditWrite: (line: string) => void writeSync(devNull, line), secrets };
  const middleware = opSecrets(options);
  const reading = opSecrets(options);
  const built: Record<string, Invoke> = {
    bare: middy(respond) as Invoke,
    opSecrets: middy(respond).use(middleware) as unknown as Invoke,
    'opSecrets+read': middy()
      .use(reading)
      .handler(async (_event, context) => ({ statusCode: 200, body: context.secrets['SECRET_3'] })) as unknown as Invoke,
  };
  // Every cache is filled (and every variant verified) before measuring.
  for (const [name, invoke] of Object.entries(built)) {
    const response = (await invoke(event, lambdaContext())) as { statusCode: number };
    if (response.statusCode !== 200) throw new Error(`${name} did not answer 200`);
  }
  return built;
}

async function nsPerInvoke(invoke: Invoke, count: number, context: Context): Promise<number> {
  const started = process.hrtime.bigint();
  for (let index = 0; index < count; index++) await invoke(event, context);
  return Number(process.hrtime.bigint() - started) / count;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function main(): Promise<void> {
  const devNull = openSync('/dev/null', 'w');
  try {
    const built = await variants(devNull);
    // One context per variant: a context shared by variants that add different properties to it
    // would make property stores polymorphic and charge one variant for another.
    const contexts = new Map(Object.keys(built).map((name) => [name, lambdaContext()]));
    for (const [name, invoke] of Object.entries(built)) await nsPerInvoke(invoke, INVOKES, contexts.get(name)!); // warm-up (JIT)
    const samples = new Map<string, number[]>(Object.keys(built).map((name) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = Object.entries(built);
      if (round % 2 === 1) order.reverse();
      for (const [name, invoke] of order) samples.get(name)!.push(await nsPerInvoke(invoke, INVOKES, contexts.get(name)!));
    }
    report(samples);
  } finally {
    closeSync(devNull);
  }
}

function report(samples: Map<string, number[]>): void {
  const bare = median(samples.get('bare')!);
  console.log(`warm invoke, ${SECRET_COUNT} cached secrets, median of ${ROUNDS} rounds x ${INVOKES} invokes (Node ${process.version})`);
  console.log(['variant'.padEnd(16), 'ns/invoke'.padStart(10), 'ops/s'.padStart(10), 'added ns'.padStart(9), 'ratio'.padStart(7)].join(' '));
  for (const [name, values] of samples) {
    const ns = median(values);
    console.log(
      [
        name.padEnd(16),
        ns.toFixed(0).padStart(10),
        Math.round(1e9 / ns).toLocaleString('en-US').padStart(10),
        (ns - bare).toFixed(0).padStart(9),
        (ns / bare).toFixed(3).padStart(7),
      ].join(' '),
    );
  }
}

void main();
