import { startConnectServer, type LocalConnect } from '../../../local/connect/server';
import {
  coldStart,
  httpEvent,
  Invoker,
  json,
  leaked,
  OutputCapture,
  restoreEnv,
  seededSecrets,
  setFunctionEnv,
  STAGING_SECRETS,
  STAGING_VAULTS,
} from './harness';

type HealthModule = typeof import('../../../functions/health/handler');

let connect: LocalConnect;
let output: OutputCapture;
let invoker: Invoker | undefined;

const healthEvent = () => httpEvent({ method: 'GET', path: '/health' });

async function startHealth(env: Record<string, string> = STAGING_SECRETS.health, token?: string): Promise<Invoker> {
  setFunctionEnv(connect, env, token);
  const module = await coldStart<HealthModule>(() => import('../../../functions/health/handler'));
  invoker = new Invoker(module.handler);
  return invoker;
}

beforeEach(async () => {
  connect = await startConnectServer({ port: 0 });
  output = new OutputCapture().start();
  invoker = undefined;
});

afterEach(async () => {
  const captured = [output.text, ...(invoker?.answers ?? []).map((answer) => JSON.stringify(answer))].join('\n');
  expect(leaked(captured, seededSecrets(connect))).toEqual([]);
  jest.restoreAllMocks();
  restoreEnv();
  await connect.close();
});

describe('GET /health', () => {
  it('answers readiness only: no secret names, item versions, cache ages or values', async () => {
    const health = await startHealth();
    const answer = await health.invoke(healthEvent());
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(json(answer)).toEqual({ status: 'ok' });
    for (const detail of ['DATABASE_URL', 'itemVersion', 'ageMs', 'version']) expect(answer.body).not.toContain(detail);
    // The audit trail was captured (so the leak scan after each test has something to scan).
    expect(output.lines().some((line) => line['message'] === 'secret.fetch' || line['event'] === 'secret.fetch')).toBe(true);
  });

  it('answers the same body before and after a rotation: when secrets rotate is nobody\'s business', async () => {
    const health = await startHealth();
    const before = (await health.invoke(healthEvent())).body;
    connect.setField(STAGING_VAULTS.database, 'database', 'url', 'postgres://app:rotated-db-password-value@db/app');
    const fresh = await startHealth();
    const after = (await fresh.invoke(healthEvent())).body;
    expect(after).toBe(before);
    expect(JSON.stringify(fresh.answers)).not.toContain('rotated-db-password-value');
    expect(output.text).not.toContain('rotated-db-password-value');
  });

  it('answers 503 problem+json with Retry-After when the secret cannot be read, naming nothing inside', async () => {
    const health = await startHealth(STAGING_SECRETS.health, 'not-a-valid-connect-token');
    const answer = await health.invoke(healthEvent());
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(json(answer)).toMatchObject({ status: 503, title: 'Service Unavailable' });
    for (const inside of [STAGING_VAULTS.database, 'database', 'DATABASE_URL', connect.url, '127.0.0.1']) expect(answer.body).not.toContain(inside);
  });

  it('answers 503 while Connect fails, and recovers when it is back', async () => {
    connect.addFault({ path: /\/items\//, spec: { kind: 'status', status: 500 } });
    const health = await startHealth();
    expect((await health.invoke(healthEvent())).statusCode).toBe(503);
    connect.clearFaults();
    // The failure is remembered for a short backoff (it protects 1Password's rate limits).
    let answer = await health.invoke(healthEvent());
    for (let tries = 0; answer.statusCode !== 200 && tries < 40; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      answer = await health.invoke(healthEvent());
    }
    expect(answer.statusCode).toBe(200);
    expect(json(answer)).toEqual({ status: 'ok' });
  });
});
