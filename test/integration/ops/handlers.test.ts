import { randomUUID } from 'node:crypto';
import { startConnectServer, type LocalConnect } from '../../../local/connect/server';
import { stageConfig } from '../../../infra/config';
import { buildManifest } from '../../../shared/ops/manifest';
import { startDynalite, type LocalDynamo } from './dynalite';

type Env = Record<string, string>;

let connect: LocalConnect;
let dynamo: LocalDynamo;
let output: string[];
const savedEnv = { ...process.env };

/** Everything a handler writes to stdout and stderr, as Lambda would ship it to CloudWatch. */
function captureOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    });
  }
}

function jsonLines(): Record<string, unknown>[] {
  return output.join('').split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Metric values from the Embedded Metric Format lines in the output. */
function metricTotal(name: string): number {
  return jsonLines().reduce((sum, line) => sum + (typeof line[name] === 'number' && '_aws' in line ? (line[name] as number) : 0), 0);
}

function setEnv(env: Env): void {
  process.env = { ...savedEnv, POWERTOOLS_DEV: 'false', ...env };
}

const context = { getRemainingTimeInMillis: () => 20_000 } as Parameters<typeof import('../../../functions/rotate/handler').handler>[1];

function seededValues(): string[] {
  return ['staging', 'prod'].flatMap((stage) =>
    (
      [
        ['webhooks', 'webhook-stripe'],
        ['webhooks', 'webhook-github'],
        ['payments', 'payments-api'],
      ] as const
    ).flatMap(([purpose, item]) =>
      (connect.getItem(`op-lambda-${stage}-${purpose}`, item).fields ?? []).map((field) => field.value ?? '').filter((value) => value.length > 8),
    ),
  );
}

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.close();
});

beforeEach(async () => {
  output = [];
  jest.resetModules();
  connect = await startConnectServer({ port: 0 });
});

afterEach(async () => {
  jest.restoreAllMocks();
  process.env = { ...savedEnv };
  await connect.close();
});

describe('rotate handler', () => {
  const targets = JSON.stringify([
    { vault: 'op-lambda-staging-webhooks', item: 'webhook-stripe' },
    { vault: 'op-lambda-staging-webhooks', item: 'webhook-github' },
  ]);

  it('rotates every configured item once, audits and counts it, and never prints a value', async () => {
    const before = seededValues();
    setEnv({ OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN: connect.tokens['dev-write']!, OP_ROTATION_TARGETS: targets });
    const { handler } = await import('../../../functions/rotate/handler');
    captureOutput();
    expect(await handler({}, context)).toEqual({ rotated: 2, fresh: 0, superseded: 0, failed: 0 });
    expect(await handler({}, context)).toEqual({ rotated: 0, fresh: 2, superseded: 0, failed: 0 });
    jest.restoreAllMocks();

    const audit = jsonLines().filter((line) => line['event'] === 'secret.rotate');
    expect(audit.map((line) => [line['item'], line['outcome']])).toEqual([
      ['webhook-stripe', 'rotated'],
      ['webhook-github', 'rotated'],
      ['webhook-stripe', 'fresh'],
      ['webhook-github', 'fresh'],
    ]);
    expect(audit[0]).toMatchObject({ vault: 'op-lambda-staging-webhooks', itemVersion: connect.getItem('op-lambda-staging-webhooks', 'webhook-stripe').version });
    expect(metricTotal('SecretRotated')).toBe(2);
    const captured = output.join('');
    for (const value of [...before, ...seededValues(), connect.tokens['dev-write']!]) expect(captured).not.toContain(value);
  });

  it('fails the invocation and counts SecretRotationFailed with a read-only token', async () => {
    setEnv({ OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN: connect.tokens['dev-read']!, OP_ROTATION_TARGETS: targets });
    const { handler } = await import('../../../functions/rotate/handler');
    captureOutput();
    await expect(handler({}, context)).rejects.toThrow('rotation failed for 2 of 2 item(s)');
    jest.restoreAllMocks();
    expect(metricTotal('SecretRotationFailed')).toBe(2);
    expect(jsonLines().filter((line) => line['event'] === 'secret.rotate').map((line) => line['code'])).toEqual(['UNAUTHORIZED', 'UNAUTHORIZED']);
  });

  it('does not fall back to the read-only token secret', async () => {
    setEnv({ OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:read', OP_ROTATION_TARGETS: targets });
    const { handler } = await import('../../../functions/rotate/handler');
    captureOutput();
    await expect(handler({}, context)).rejects.toMatchObject({ code: 'TOKEN_UNAVAILABLE' });
    jest.restoreAllMocks();
    expect(metricTotal('SecretRotationFailed')).toBe(1);
  });
});

describe('canary handler', () => {
  it('resolves every reference of the stage manifest', async () => {
    const manifest = buildManifest(stageConfig('staging').functions);
    setEnv({ OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN: connect.tokens['dev-read']!, OP_SECRETS_MANIFEST: JSON.stringify(manifest) });
    const { handler } = await import('../../../functions/canary/handler');
    captureOutput();
    expect(await handler({}, context)).toEqual({ checked: 6, failed: 0 });
    jest.restoreAllMocks();
    expect(metricTotal('SecretCanaryResolved')).toBe(6);
    expect(metricTotal('SecretCanaryFailed')).toBe(0);
  });

  it('counts and names the references that do not resolve, without a value', async () => {
    const manifest = {
      payments: { PAYMENTS_API_KEY: 'op://op-lambda-prod-payments/payments-api/credential' },
      webhooks: { WEBHOOK_SHOPIFY_CURRENT: 'op://op-lambda-prod/webhook-shopify/current', WEBHOOK_STRIPE_OLD: 'op://op-lambda-prod-webhooks/webhook-stripe/oldest' },
    };
    setEnv({ OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN: connect.tokens['dev-read']!, OP_SECRETS_MANIFEST: JSON.stringify(manifest) });
    const { handler } = await import('../../../functions/canary/handler');
    captureOutput();
    expect(await handler({}, context)).toEqual({ checked: 3, failed: 2 });
    jest.restoreAllMocks();
    expect(metricTotal('SecretCanaryFailed')).toBe(2);
    const failures = jsonLines().filter((line) => line['event'] === 'secret.canary' && line['name'] !== undefined);
    expect(failures.map((line) => [line['name'], line['code']])).toEqual([
      ['WEBHOOK_SHOPIFY_CURRENT', 'NOT_FOUND'],
      ['WEBHOOK_STRIPE_OLD', 'FIELD_NOT_FOUND'],
    ]);
    const captured = output.join('');
    for (const value of [...seededValues(), connect.tokens['dev-read']!]) expect(captured).not.toContain(value);
  });

  it('counts a failure when it cannot run at all', async () => {
    setEnv({ OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN: connect.tokens['dev-read']! });
    const { handler } = await import('../../../functions/canary/handler');
    captureOutput();
    await expect(handler({}, context)).rejects.toThrow('OP_SECRETS_MANIFEST is not set');
    jest.restoreAllMocks();
    expect(metricTotal('SecretCanaryFailed')).toBe(1);
  });
});

describe('activity handler', () => {
  it('writes each activity entry once, as one JSON line, across invocations', async () => {
    const table = `activity-${randomUUID()}`;
    await dynamo.createCursorTable(table);
    const reader = { Authorization: `Bearer ${connect.tokens['dev-read']!}` };
    const vaults = (await (await fetch(`${connect.url}/v1/vaults`, { headers: reader })).json()) as { id: string; name: string }[];
    const staging = vaults.find((vault) => vault.name === 'op-lambda-staging-payments')!;
    const readItems = async (n: number): Promise<void> => {
      const item = connect.getItem('op-lambda-staging-payments', 'payments-api');
      for (let index = 0; index < n; index++) await (await fetch(`${connect.url}/v1/vaults/${staging.id}/items/${item.id}`, { headers: reader })).text();
    };
    setEnv({
      OP_CONNECT_HOST: connect.url,
      OP_CONNECT_TOKEN: connect.tokens['dev-read']!,
      OP_ACTIVITY_TABLE: table,
      OP_ACTIVITY_PAGE_SIZE: '4',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    const { handler } = await import('../../../functions/activity/handler');
    await readItems(9);
    captureOutput();
    expect(await handler({}, context)).toMatchObject({ forwarded: 9, caughtUp: true });
    jest.restoreAllMocks();
    await readItems(3);
    captureOutput();
    await handler({}, context);
    jest.restoreAllMocks();

    const all = (await (await fetch(`${connect.url}/v1/activity?limit=1000`, { headers: reader })).json()) as { requestId: string }[];
    const forwarded = jsonLines().filter((line) => line['logType'] === '1password.activity');
    expect(all).toHaveLength(12);
    expect(forwarded.map((line) => (line['entry'] as { requestId: string }).requestId)).toEqual(all.map((entry) => entry.requestId));
    expect(forwarded[1]).toEqual({
      logType: '1password.activity',
      entry: expect.objectContaining({ action: 'READ', result: 'SUCCESS', actor: expect.objectContaining({ requestIp: expect.any(String) }), resource: expect.objectContaining({ type: 'ITEM' }) }),
    });
    expect(metricTotal('ActivityForwarded')).toBe(12);
  });

  it("keeps a hostile entry from a compromised Connect server inside its line: it cannot replace logType nor add metrics", async () => {
    const table = `activity-${randomUUID()}`;
    await dynamo.createCursorTable(table);
    const hostile = {
      requestId: 'hostile-1',
      logType: 'application',
      level: 'ERROR',
      SecretFailure: 1000,
      _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: 'OpLambda', Dimensions: [['service']], Metrics: [{ Name: 'SecretFailure', Unit: 'Count' }] }] },
      service: 'payments',
    };
    connect.injectActivity(hostile);
    setEnv({
      OP_CONNECT_HOST: connect.url,
      OP_CONNECT_TOKEN: connect.tokens['dev-read']!,
      OP_ACTIVITY_TABLE: table,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    const { handler } = await import('../../../functions/activity/handler');
    captureOutput();
    expect(await handler({}, context)).toMatchObject({ forwarded: 1 });
    jest.restoreAllMocks();

    const lines = jsonLines().filter((line) => JSON.stringify(line).includes('hostile-1'));
    expect(lines).toEqual([{ logType: '1password.activity', entry: hostile }]);
    expect(jsonLines().filter((line) => line['logType'] === 'application')).toEqual([]);
    expect(metricTotal('SecretFailure')).toBe(0);
    expect(metricTotal('ActivityForwarded')).toBe(1);
  });
});
