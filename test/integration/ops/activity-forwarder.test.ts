import { randomUUID } from 'node:crypto';
import { startConnectServer, type LocalConnect } from '../../../local/connect/server';
import { DynamoCursorStore } from '../../../shared/ops/activity-cursor';
import { forwardActivity, type ActivityEntry, type ForwardResult } from '../../../shared/ops/activity-forwarder';
import { OpsConnectClient, type ItemAddress } from '../../../shared/ops/ops-client';
import { startDynalite, type LocalDynamo } from './dynalite';

let connect: LocalConnect;
let dynamo: LocalDynamo;
let client: OpsConnectClient;
let tableName: string;
let address: ItemAddress;

const deadline = (): number => Date.now() + 20_000;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.close();
});

beforeEach(async () => {
  connect = await startConnectServer({ port: 0 });
  client = new OpsConnectClient({ host: connect.url, token: connect.tokens['dev-read']!, backoffBaseMs: 1 });
  tableName = `cursor-${randomUUID()}`;
  await dynamo.createCursorTable(tableName);
  address = await client.locate('op-lambda-staging-payments', 'payments-api', deadline());
});

afterEach(async () => {
  await connect.close();
});

/** n item reads, each of which Connect records as one activity entry. */
async function generateActivity(n: number): Promise<void> {
  for (let index = 0; index < n; index++) await client.getItem(address, deadline());
}

async function allActivity(): Promise<string[]> {
  return (await client.page(0, 100_000, deadline())).map((entry) => entry.requestId);
}

function run(emitted: ActivityEntry[], pageSize: number, store = new DynamoCursorStore(dynamo.client, tableName)): Promise<ForwardResult> {
  return forwardActivity(client, store, (entry) => emitted.push(entry), { deadline: deadline(), pageSize });
}

describe('activity forwarding from the local Connect server through a dynalite cursor', () => {
  it('forwards every entry once, in order, and only new ones on the next run', async () => {
    await generateActivity(23);
    const emitted: ActivityEntry[] = [];
    const first = await run(emitted, 10);
    expect(first).toMatchObject({ forwarded: 23, pages: 3, caughtUp: true });
    expect(emitted.map((entry) => entry.requestId)).toEqual(await allActivity());

    const idle = await run(emitted, 10);
    expect(idle.forwarded).toBe(0);

    await generateActivity(4);
    await run(emitted, 10);
    const ids = emitted.map((entry) => entry.requestId);
    expect(ids).toEqual(await allActivity());
    expect(new Set(ids).size).toBe(27);
    expect(emitted.at(-1)).toMatchObject({ action: 'READ', result: 'SUCCESS', resource: { type: 'ITEM', item: { id: address.itemId } } });
  });

  it('emits every entry exactly once across overlapping runs, while activity keeps arriving', async () => {
    await generateActivity(40);
    const emitted: ActivityEntry[] = [];
    const producing = generateActivity(40);
    const results = await Promise.all(Array.from({ length: 5 }, () => run(emitted, 7)));
    await producing;
    // One run after the dust settles picks up whatever arrived after the overlapping ones finished.
    results.push(await run(emitted, 7));

    const ids = emitted.map((entry) => entry.requestId);
    const expected = await allActivity();
    expect(expected).toHaveLength(80);
    expect(ids.length).toBe(new Set(ids).size);
    expect(new Set(ids)).toEqual(new Set(expected));
    expect(results.reduce((sum, result) => sum + result.forwarded, 0)).toBe(80);
  });

  it('starts again from the beginning of the log when Connect restarted with a fresh one', async () => {
    await generateActivity(5);
    const emitted: ActivityEntry[] = [];
    await run(emitted, 10);

    await connect.close();
    connect = await startConnectServer({ port: 0 });
    client = new OpsConnectClient({ host: connect.url, token: connect.tokens['dev-read']!, backoffBaseMs: 1 });
    address = await client.locate('op-lambda-staging-payments', 'payments-api', deadline());
    await generateActivity(8);

    const after: ActivityEntry[] = [];
    const result = await run(after, 10);
    expect(result).toMatchObject({ resets: 1, forwarded: 8 });
    expect(after.map((entry) => entry.requestId)).toEqual(await allActivity());
  });
});
