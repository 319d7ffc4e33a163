/**
 * Fuzz pass over the functions `cdk deploy` would upload, running in the local emulation:
 *
 * - direct invokes (gateway.invoke) of Health, Webhooks and Payments with events API Gateway could
 *   send but full of hostile content, with events broken in type or shape, and with anything JSON
 *   can carry;
 * - random HTTP requests through the gateway.
 *
 * Never a crash (each function keeps its one container: no cold start after the first), never a
 * hang (every invoke ends before the function timeout), never a 5xx other than 502/503 for an
 * event API Gateway could send, never a stack trace or a secret in what goes back.
 */
import fc from 'fast-check';
import { apiGatewayVersion } from '../../shared/http/events';
import type { InvokeResult } from '../../local/gateway/server';
import type { RawRequest } from '../../local/load/client';
import { collectSecretValues, expectNoLeaks } from '../helpers/leak-scan';
import { startReliabilityApi, vaultOf, type ReliabilityApi } from './support/api';
import { anyEvent, httpRequest, illTypedEvent, signedDelivery, wellTypedEvent, type FuzzedFunction } from './support/fuzz-events';
import { compactReporter, expectNothingInternal, HEALTH, paymentRequest, reportFigures } from './support/observe';
import { synthesizedStage } from './support/stage';

const FUNCTIONS: readonly FuzzedFunction[] = ['Health', 'Webhooks', 'Payments'];
/** A 5xx the functions answer on purpose: secrets unavailable (503), payments provider failing (502). */
const INTENDED_5XX = new Set([502, 503]);
const SECRETS = collectSecretValues();
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 100);
/** Node's default --max-http-header-size, which the gateway keeps. */
const NODE_MAX_HEADER_BYTES = 16 * 1024;
const KNOWN_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']);

/** The status Node's HTTP parser refuses a request with before the gateway sees it, if it does. */
function protocolRefusal(request: RawRequest): number | undefined {
  const headerBytes = request.path.length + Object.entries(request.headers).reduce((total, [name, value]) => total + name.length + value.length + 4, 0);
  // The request line is parsed before the headers.
  if (!KNOWN_METHODS.has(request.method)) return 400;
  if (headerBytes > NODE_MAX_HEADER_BYTES) return 431;
  return undefined;
}

let api: ReliabilityApi;
const returned: string[] = [];
/** What came back, by kind of input: `success 400`, `error TypeError`, `http 404`... */
const tally = new Map<string, Map<string, number>>();

function count(kind: string, what: string): void {
  const counts = tally.get(kind) ?? new Map<string, number>();
  counts.set(what, (counts.get(what) ?? 0) + 1);
  tally.set(kind, counts);
}

function describeResult(result: InvokeResult): string {
  if (result.outcome !== 'success') return `${result.outcome} ${result.error?.errorType ?? ''}`.trim();
  const status = (result.payload as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? `success ${status}` : 'success (not HTTP)';
}

beforeAll(async () => {
  api = await startReliabilityApi({ stage: await synthesizedStage('staging') });
  const warm = await Promise.all([api.send(HEALTH), api.send(paymentRequest(api.accessToken))]);
  expect(warm.map((exchange) => exchange.status)).toEqual([200, 201]);
  const delivery = fc.sample(signedDelivery(api.connect().getItem(vaultOf('webhook-stripe'), 'webhook-stripe').fields.find((field) => field.label === 'current')!.value!), 1)[0];
  const accepted = await api.gateway.invoke('Webhooks', delivery);
  expect(accepted.payload).toMatchObject({ statusCode: 202 });
}, 180_000);

afterAll(async () => {
  await api?.close();
});

/** What every invoke must satisfy, whatever the event. */
function expectSurvived(result: InvokeResult): void {
  expect(['success', 'error']).toContain(result.outcome);
  returned.push(JSON.stringify(result.payload ?? null));
  if (result.error) returned.push(result.error.errorMessage);
}

/** An event API Gateway could send must get an HTTP answer, and not an unintended 5xx. */
function expectHttpAnswer(result: InvokeResult): void {
  expect(result.outcome).toBe('success');
  const payload = result.payload as { statusCode?: unknown; body?: unknown; headers?: unknown };
  expect(Number.isInteger(payload.statusCode)).toBe(true);
  const status = payload.statusCode as number;
  if (status >= 500) expect(INTENDED_5XX).toContain(status);
  if (typeof payload.body === 'string') expectNothingInternal(payload.body);
  for (const value of Object.values((payload.headers ?? {}) as Record<string, unknown>)) expect(['string', 'number', 'boolean']).toContain(typeof value);
}

describe.each(FUNCTIONS)('%s', (fn) => {
  test('events API Gateway could send, with hostile content, get an HTTP answer', async () => {
    await fc.assert(
      fc.asyncProperty(wellTypedEvent(fn), async (event) => {
        const result = await api.gateway.invoke(fn, event);
        count(`${fn} well-typed`, describeResult(result));
        expectSurvived(result);
        expectHttpAnswer(result);
      }),
      { numRuns: RUNS, reporter: compactReporter },
    );
  }, 120_000);

  test('events broken in type or shape end in an answer or a reported error, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(illTypedEvent(fn), async (event) => {
        const result = await api.gateway.invoke(fn, event);
        count(`${fn} ill-typed`, describeResult(result));
        expectSurvived(result);
        if (result.outcome === 'success' && apiGatewayVersion(event) !== undefined) expectHttpAnswer(result);
      }),
      { numRuns: RUNS, reporter: compactReporter },
    );
  }, 120_000);

  test('anything at all ends in an answer or a reported error, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(anyEvent, async (event) => {
        const result = await api.gateway.invoke(fn, event);
        count(`${fn} anything`, describeResult(result));
        expectSurvived(result);
      }),
      { numRuns: RUNS, reporter: compactReporter },
    );
  }, 120_000);
});

test('random HTTP requests through the gateway: an answer each, no unintended 5xx, no stack trace', async () => {
  await fc.assert(
    fc.asyncProperty(httpRequest, async (request) => {
      const exchange = await api.send(request, 15_000);
      count('HTTP', exchange.failure ?? String(exchange.status));
      const refusal = protocolRefusal(request);
      if (refusal !== undefined) {
        // Node's HTTP server answers and closes the connection, which a client still sending its
        // body may see as a reset: either way, refused before any function ran.
        if (exchange.failure === undefined) expect(exchange.status).toBe(refusal);
        else expect(exchange.failure).toBe('connection');
        return;
      }
      expect(exchange.failure).toBeUndefined();
      expect(exchange.status).toBeGreaterThanOrEqual(200);
      if (exchange.status >= 500) expect(INTENDED_5XX).toContain(exchange.status);
      expectNothingInternal(exchange.body);
      returned.push(exchange.body);
    }),
    { numRuns: RUNS * 3, reporter: compactReporter },
  );
}, 180_000);

test('no function crashed, hung or restarted, and nothing returned or logged holds a secret', () => {
  const stats = api.gateway.stats();
  for (const fn of FUNCTIONS) expect(stats[fn]).toMatchObject({ coldStarts: 1, timeouts: 0, containers: 1 });
  expect(returned.length).toBeGreaterThan(RUNS * 9);
  expectNoLeaks({ returned, 'function output': api.logs().map((line) => line.text) }, SECRETS);
  reportFigures({ fuzz: Object.fromEntries([...tally].map(([kind, counts]) => [kind, Object.fromEntries(counts)])) });
});
