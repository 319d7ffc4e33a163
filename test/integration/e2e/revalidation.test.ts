/**
 * Revalidation through the emulation, as `npm start` runs the staging stage, with a short interval
 * (OP_REVALIDATE_MS) so that minutes become seconds: a revoked webhook secret stops verifying
 * once the interval has passed, a replaced payments key is used without a provider 401, and a warm
 * container asks Connect exactly once per interval.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expectNoLeaks } from '../../helpers/leak-scan';
import { STACK_STARTUP_TIMEOUT_MS, startStackFixture, type FixtureResponse, type StackFixture } from '../../helpers/stack-fixture';
import { fieldValue, paymentBody, signedDelivery, vaultOf } from './support';

jest.setTimeout(60_000);

/** Long enough for a few warm invokes on a busy machine to fit inside one interval. */
const REVALIDATE_MS = 3000;

let stack: StackFixture;
let accessToken: string;

beforeAll(async () => {
  stack = await startStackFixture({ stage: 'staging', environment: { OP_REVALIDATE_MS: String(REVALIDATE_MS) } });
  accessToken = await stack.accessToken();
}, STACK_STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await stack?.close();
});

function postWebhook(secrets: readonly string[]): Promise<FixtureResponse> {
  return stack.request('POST', '/webhooks/stripe', signedDelivery(secrets, JSON.stringify({ id: `evt_${randomBytes(6).toString('hex')}`, type: 'charge.succeeded' })));
}

function postPayment(): Promise<FixtureResponse> {
  return stack.request('POST', '/payments', { headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` }, body: paymentBody() });
}

test('a webhook secret replaced in Connect (current and previous) is refused from the interval on; the new one is accepted', async () => {
  const revoked = fieldValue(stack.connect, vaultOf('webhook-stripe'), 'webhook-stripe', 'current');
  expect((await postWebhook([revoked])).status).toBe(202);
  const replacement = `whsec_e2e_replaced_${randomBytes(12).toString('hex')}`;
  stack.rotate(vaultOf('webhook-stripe'), 'webhook-stripe', 'current', replacement);
  stack.rotate(vaultOf('webhook-stripe'), 'webhook-stripe', 'previous', `whsec_e2e_previous_${randomBytes(12).toString('hex')}`);

  await sleep(REVALIDATE_MS);

  expect((await postWebhook([revoked])).status).toBe(401);
  expect((await postWebhook([replacement])).status).toBe(202);
  expect((await postWebhook([revoked])).status).toBe(401);
});

test('a payments key replaced in Connect is used on the first request after the interval, with no 401 from the provider', async () => {
  expect((await postPayment()).status).toBe(201);
  stack.rotate(vaultOf('payments-api'), 'payments-api', 'credential', `payapi_e2e_replaced_${randomBytes(16).toString('hex')}`);
  stack.payments.resetRequests();

  await sleep(REVALIDATE_MS);

  expect((await postPayment()).status).toBe(201);
  expect(stack.payments.requests().map(({ authorized, status }) => ({ authorized, status }))).toEqual([{ authorized: true, status: 201 }]);
});

test('steady state: a warm container asks Connect once per interval (one vault list), and nothing in between', async () => {
  const health = (): Promise<FixtureResponse> => stack.request('GET', '/health');
  expect((await health()).status).toBe(200);
  // Past the first check, which also learns the vault's version from its item list.
  await sleep(REVALIDATE_MS);
  expect((await health()).status).toBe(200);
  stack.connect.resetRequests();

  for (let invoke = 0; invoke < 3; invoke++) expect((await health()).status).toBe(200);
  expect(stack.connect.countRequests()).toBe(0);

  for (let interval = 0; interval < 2; interval++) {
    await sleep(REVALIDATE_MS);
    for (let invoke = 0; invoke < 3; invoke++) expect((await health()).status).toBe(200);
  }
  expect(stack.connect.countRequests({ method: 'GET', path: '/v1/vaults' })).toBe(2);
  expect(stack.connect.countRequests()).toBe(2);
});

test('nothing captured holds a secret value or token of the vault', () => {
  expectNoLeaks(stack.captured(), stack.secretValues());
});
