/**
 * Direct invokes can carry events API Gateway never sends: a body that is not a string, no headers
 * object, header values that are not strings, or no object at all. The webhooks and payments
 * handlers answer those with 400 problem+json, never with a TypeError.
 */
import { startConnectServer, type LocalConnect } from '../../../local/connect/server';
import { startPaymentsUpstream, type PaymentsUpstream } from '../../../local/payments/server';
import { signPayload } from '../../../functions/webhooks/signature';
import { randomUUID } from 'node:crypto';
import { startLocalDynamo, type LocalDynamo } from '../../../local/dynamo/local-dynamo';
import { coldStart, fieldValue, httpEvent, lambdaContext, prefetched, replayTableEnv, restoreEnv, setFunctionEnv, STAGING_SECRETS, STAGING_VAULTS } from './harness';

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode?: number; headers?: Record<string, string>; body?: string }>;

let connect: LocalConnect;
let upstream: PaymentsUpstream;
let dynamo: LocalDynamo;
const handlers: Record<'webhooks' | 'payments', Handler> = {} as Record<'webhooks' | 'payments', Handler>;

/** A well-formed event for the function, which each case then breaks in one way. */
function validEvent(fn: 'webhooks' | 'payments'): Record<string, unknown> {
  // A new delivery each time: the same one twice would be a replay.
  const body = fn === 'webhooks' ? `{"id":"evt_${randomUUID()}"}` : '{"amount":100,"currency":"USD"}';
  const secret = fieldValue(connect, STAGING_VAULTS.webhooks, 'webhook-stripe', 'current');
  const signature = signPayload([secret], Math.floor(Date.now() / 1000), Buffer.from(body));
  const event = httpEvent({
    path: fn === 'webhooks' ? '/webhooks/stripe' : '/payments',
    ...(fn === 'webhooks' ? { pathParameters: { source: 'stripe' } } : {}),
    headers: { 'content-type': 'application/json', 'x-signature': signature },
    body,
  });
  return { ...event };
}

const UNREADABLE: readonly [string, (event: Record<string, unknown>) => unknown][] = [
  ['a number as the body', (event) => ({ ...event, body: 42 })],
  ['an object as the body', (event) => ({ ...event, body: { amount: 100 } })],
  ['an array as the body', (event) => ({ ...event, body: [123, 125] })],
  ['headers that are a list', (event) => ({ ...event, headers: ['x-signature'] })],
  ['a header value that is not a string', (event) => ({ ...event, headers: { 'x-signature': 7, 'idempotency-key': { key: 1 } } })],
  ['null as the event', () => null],
  ['a string as the event', () => 'POST /payments'],
  ['a list as the event', () => []],
];

beforeAll(async () => {
  connect = await startConnectServer({ port: 0 });
  upstream = await startPaymentsUpstream({ acceptKey: () => fieldValue(connect, STAGING_VAULTS.payments, 'payments-api', 'credential') });
  dynamo = await startLocalDynamo();
  const replayEnv = await replayTableEnv(dynamo);
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  for (const fn of ['webhooks', 'payments'] as const) {
    setFunctionEnv(connect, { ...STAGING_SECRETS[fn], PAYMENTS_API_URL: upstream.url, ...replayEnv });
    const module = await coldStart<{ handler: unknown; secrets: { status(): Record<string, { ready: boolean }> } }>(() =>
      fn === 'webhooks' ? import('../../../functions/webhooks/handler') : import('../../../functions/payments/handler'),
    );
    await prefetched(module.secrets);
    handlers[fn] = module.handler as Handler;
  }
});

afterAll(async () => {
  jest.restoreAllMocks();
  restoreEnv();
  await upstream.close();
  await connect.close();
  await dynamo.close();
});

describe.each(['webhooks', 'payments'] as const)('%s, invoked directly', (fn) => {
  it('answers a well-formed event (the cases below break it one way each)', async () => {
    const answer = await handlers[fn](validEvent(fn), lambdaContext());
    expect(answer.statusCode).toBe(fn === 'webhooks' ? 202 : 201);
  });

  it.each(UNREADABLE)('answers 400 problem+json to %s', async (_case, breakEvent) => {
    const requestsBefore = upstream.countRequests();
    const answer = await handlers[fn](breakEvent(validEvent(fn)), lambdaContext());
    expect(answer.statusCode).toBe(400);
    expect(answer.headers?.['Content-Type']).toBe('application/problem+json');
    expect(JSON.parse(answer.body ?? '')).toMatchObject({ status: 400, detail: expect.any(String) });
    expect(upstream.countRequests()).toBe(requestsBefore);
  });

  // What a missing part means to each function: no signature to check (webhooks), no payment (payments).
  const ABSENT: readonly [string, (event: Record<string, unknown>) => unknown, Record<typeof fn, number>][] = [
    ['a null body', (event) => ({ ...event, body: null }), { webhooks: 401, payments: 400 }],
    ['no headers object', (event) => ({ ...event, headers: undefined }), { webhooks: 400, payments: 201 }],
    ['null headers', (event) => ({ ...event, headers: null }), { webhooks: 400, payments: 201 }],
  ];

  it.each(ABSENT)('reads %s as absent, and answers as for an HTTP request without it', async (_case, breakEvent, expected) => {
    const answer = await handlers[fn](breakEvent(validEvent(fn)), lambdaContext());
    expect(answer.statusCode).toBe(expected[fn]);
  });
});
