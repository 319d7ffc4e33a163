/**
 * The staging API end to end when things go wrong: 1Password Connect unreachable or hanging on a
 * cold start, and a function that runs past its timeout. Over real HTTP through the local gateway.
 */
import type { FaultSpec } from '../../../local/connect/server';
import { expectNoLeaks } from '../../helpers/leak-scan';
import { STACK_STARTUP_TIMEOUT_MS, startStackFixture, type FixtureResponse, type StackFixture } from '../../helpers/stack-fixture';
import { expectSecretsUnavailable, itemPath, lastInvoke, paymentBody, vaultOf, waitForAuditLines } from './support';

jest.setTimeout(90_000);

let stack: StackFixture;

beforeAll(async () => {
  stack = await startStackFixture({ stage: 'staging' });
}, STACK_STARTUP_TIMEOUT_MS);

afterEach(() => {
  // A failed test must not leave its outage to the next one.
  stack?.connect.clearFaults();
});

afterAll(async () => {
  await stack?.close();
});

const health = (): string => stack.functionOf('GET /health');

function getHealth(): Promise<FixtureResponse> {
  return stack.request('GET', '/health');
}

function stats(functionName: string) {
  return stack.gateway.stats()[functionName]!;
}

/** Waits as long as the response asks, as a well-behaved client would. */
function honourRetryAfter(response: FixtureResponse): Promise<void> {
  const seconds = Number(response.headers.get('retry-after'));
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('1Password Connect down on a cold start', () => {
  const outages: [string, FaultSpec, string][] = [
    ['connections reset', { kind: 'reset' }, 'NETWORK'],
    ['answering 503', { kind: 'status', status: 503, retryAfter: '1' }, 'SERVER'],
  ];

  test.each(outages)('%s: 503 problem with Retry-After, then the same container recovers', async (_name, spec, expectedCode) => {
    await stack.gateway.killContainers(health());
    stack.connect.addFault({ spec });
    const before = stats(health());

    const down = await getHealth();

    expectSecretsUnavailable(down);
    const failed = lastInvoke(stack);
    expect(failed.coldStart).toBe(true);
    const failures = await waitForAuditLines(stack.gateway, health(), 'secret.failure', { containerId: failed.containerId });
    expect(failures.at(-1)).toMatchObject({ names: ['DATABASE_URL'], servingStale: false, retryable: true, code: expectedCode });

    stack.connect.clearFaults();
    await honourRetryAfter(down);
    const back = await getHealth();

    expect(back.status).toBe(200);
    const recovered = lastInvoke(stack);
    expect(recovered.coldStart).toBe(false);
    expect(recovered.pid).toBe(failed.pid);
    expect(stats(health())).toMatchObject({ coldStarts: before.coldStarts + 1, timeouts: before.timeouts, containers: 1 });
  });

  test('a function with a required secret answers 503 too, and never calls its upstream', async () => {
    const payments = stack.functionOf('POST /payments');
    await stack.gateway.killContainers(payments);
    stack.connect.addFault({ spec: { kind: 'reset' } });
    stack.payments.resetRequests();

    const authorization = `Bearer ${await stack.accessToken()}`;
    const response = await stack.request('POST', '/payments', { headers: { 'content-type': 'application/json', authorization }, body: paymentBody() });

    expectSecretsUnavailable(response);
    expect(stack.payments.requests()).toEqual([]);
  });
});

test('Connect hanging on a cold start: 503 within the function timeout, not a timeout', async () => {
  await stack.gateway.killContainers(health());
  stack.connect.addFault({ spec: { kind: 'hang' } });
  const before = stats(health());

  const hung = await getHealth();

  expectSecretsUnavailable(hung);
  expect(stack.gateway.requests.at(-1)?.invoke?.outcome).toBe('success');
  expect(stats(health()).timeouts).toBe(before.timeouts);

  stack.connect.clearFaults();
  await honourRetryAfter(hung);
  expect((await getHealth()).status).toBe(200);
  expect(lastInvoke(stack).coldStart).toBe(false);
});

test('a function that runs past its timeout is killed, and the next request is a cold start', async () => {
  expect((await getHealth()).status).toBe(200);
  const stuck = lastInvoke(stack).pid!;
  const before = stats(health());
  // Freezing the process stands in for a handler that never returns (a blocked event loop).
  process.kill(stuck, 'SIGSTOP');

  const timedOut = await getHealth();

  expect(timedOut.status).toBe(500);
  expect(stack.gateway.requests.at(-1)?.invoke?.outcome).toBe('timeout');
  expect(stats(health()).timeouts).toBe(before.timeouts + 1);
  expect(isAlive(stuck)).toBe(false);

  stack.connect.resetRequests();
  const next = await getHealth();

  expect(next.status).toBe(200);
  const fresh = lastInvoke(stack);
  expect(fresh.coldStart).toBe(true);
  expect(fresh.pid).not.toBe(stuck);
  expect(stats(health()).coldStarts).toBe(before.coldStarts + 1);
  expect(stack.connect.countRequests({ method: 'GET', path: itemPath(stack.connect, vaultOf('database'), 'database') })).toBe(1);
});

test('nothing captured holds a secret value or token of the vault', () => {
  const captured = stack.captured();
  expect(captured['function logs']!.length).toBeGreaterThan(20);
  expectNoLeaks(captured, stack.secretValues());
});
