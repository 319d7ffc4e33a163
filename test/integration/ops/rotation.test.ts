import { startConnectServer, type LocalConnect } from '../../../local/connect/server';
import { matchesAnySecret, parseSignatureHeader, signPayload } from '../../../functions/webhooks/signature';
import { OpsConnectClient, type ConnectItemJson } from '../../../shared/ops/ops-client';
import { rotateItem, ROTATION_FIELDS, type RotationConnect, type RotationResult } from '../../../shared/ops/rotation';
import { rotateAll } from '../../../shared/ops/rotation-run';
import { recordingTelemetry } from '../../../shared/ops/telemetry';

const TARGET = { vault: 'op-lambda-staging-webhooks', item: 'webhook-stripe' };
const HOUR = 3_600_000;

let connect: LocalConnect;
let client: OpsConnectClient;

beforeEach(async () => {
  connect = await startConnectServer({ port: 0 });
  client = new OpsConnectClient({ host: connect.url, token: connect.tokens['dev-write']!, backoffBaseMs: 1 });
});

afterEach(async () => {
  await connect.close();
});

const deadline = (): number => Date.now() + 20_000;

function fieldValue(item: ConnectItemJson, label: string): string | undefined {
  return item.fields?.find((field) => field.label === label)?.value;
}

function rotationFields(): { current: string; previous: string; rotatedAt: string; version: number } {
  const item = connect.getItem(TARGET.vault, TARGET.item) as unknown as ConnectItemJson;
  return {
    current: fieldValue(item, ROTATION_FIELDS.current)!,
    previous: fieldValue(item, ROTATION_FIELDS.previous)!,
    rotatedAt: fieldValue(item, ROTATION_FIELDS.rotatedAt)!,
    version: item.version,
  };
}

/** Records every write Connect accepted, in order: the item's history as far as rotation is concerned. */
function recordingWrites(inner: RotationConnect): { connect: RotationConnect; history: ConnectItemJson[] } {
  const history: ConnectItemJson[] = [];
  return {
    history,
    connect: {
      locate: (vault, item, until) => inner.locate(vault, item, until),
      getItem: (address, until) => inner.getItem(address, until),
      replaceItem: async (item, until) => {
        const written = await inner.replaceItem(item, until);
        if (written.ok) history.push(written.item);
        return written;
      },
    },
  };
}

describe('rotation against the local Connect server', () => {
  it('moves current to previous, installs a fresh 32-byte value and stamps rotatedAt', async () => {
    const before = rotationFields();
    const now = Date.parse('2026-03-01T10:00:00.000Z');
    const result = await rotateItem(client, TARGET, { deadline: deadline(), now: () => now });
    const after = rotationFields();
    expect(result.outcome).toBe('rotated');
    expect(after.previous).toBe(before.current);
    expect(after.current).not.toBe(before.current);
    expect(after.current).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(after.current, 'base64url')).toHaveLength(32);
    expect(after.rotatedAt).toBe('2026-03-01T10:00:00.000Z');
    expect(after.version).toBe(before.version + 1);
    expect(result.itemVersion).toBe(after.version);
  });

  it('is a no-op when run again before minAge has passed', async () => {
    let now = Date.parse('2026-03-01T10:00:00.000Z');
    await rotateItem(client, TARGET, { deadline: deadline(), now: () => now, minAgeMs: HOUR });
    const once = rotationFields();
    now += HOUR / 2;
    const again = await rotateItem(client, TARGET, { deadline: deadline(), now: () => now, minAgeMs: HOUR });
    expect(again.outcome).toBe('fresh');
    expect(rotationFields()).toEqual(once);
  });

  it('leaves a consistent item when two rotations run concurrently', async () => {
    const before = rotationFields();
    const recorded = recordingWrites(client);
    const otherClient = new OpsConnectClient({ host: connect.url, token: connect.tokens['dev-write']!, backoffBaseMs: 1 });
    const otherRecorded = recordingWrites(otherClient);
    const now = Date.parse('2026-03-01T10:00:00.000Z');
    const results: RotationResult[] = await Promise.all([
      rotateItem(recorded.connect, TARGET, { deadline: deadline(), now: () => now }),
      rotateItem(otherRecorded.connect, TARGET, { deadline: deadline(), now: () => now }),
    ]);
    const after = rotationFields();
    const accepted = [...recorded.history, ...otherRecorded.history].sort((a, b) => a.version - b.version);

    // Exactly one rotation happened; the other saw it and stood down.
    expect(results.map((result) => result.outcome).sort()).toEqual(['fresh', 'rotated']);
    expect(accepted).toHaveLength(1);
    // The invariant: previous is the value that was current immediately before the latest current.
    expect(after.previous).toBe(before.current);
    expect(after.current).toBe(fieldValue(accepted[0]!, ROTATION_FIELDS.current));
    expect(results.find((result) => result.outcome === 'fresh')!.conflicts + results.find((result) => result.outcome === 'rotated')!.conflicts).toBeLessThanOrEqual(1);
  });

  it('chains forced concurrent rotations: each accepted write retires exactly the value before it', async () => {
    const before = rotationFields();
    const rotations = Array.from({ length: 4 }, () => {
      const own = new OpsConnectClient({ host: connect.url, token: connect.tokens['dev-write']!, backoffBaseMs: 1 });
      return recordingWrites(own);
    });
    const results = await Promise.all(rotations.map(({ connect: writer }) => rotateItem(writer, TARGET, { deadline: deadline(), force: true, maxAttempts: 10 })));
    const accepted = rotations.flatMap(({ history }) => history).sort((a, b) => a.version - b.version);

    expect(results.every((result) => result.outcome === 'rotated')).toBe(true);
    expect(accepted).toHaveLength(4);
    expect(fieldValue(accepted[0]!, 'previous')).toBe(before.current);
    for (let index = 1; index < accepted.length; index++) {
      expect(fieldValue(accepted[index]!, 'previous')).toBe(fieldValue(accepted[index - 1]!, 'current'));
    }
    expect(rotationFields().current).toBe(fieldValue(accepted.at(-1)!, 'current'));
  });

  it('keeps every value ever current verifiable until the rotation after the one that retired it', async () => {
    const body = Buffer.from('{"type":"payment_intent.succeeded"}');
    const timestamp = 1_770_000_000;
    const verifierAccepts = async (header: string): Promise<boolean> => {
      const item = await client.getItem(await client.locate(TARGET.vault, TARGET.item, deadline()), deadline());
      const parsed = parseSignatureHeader(header);
      if (!parsed.ok) throw new Error(parsed.reason);
      const secrets = [fieldValue(item, 'current'), fieldValue(item, 'previous')].filter((value): value is string => value !== undefined);
      return matchesAnySecret(parsed.header, body, secrets);
    };
    const signedWithOriginal = signPayload([rotationFields().current], timestamp, body);
    let now = Date.parse('2026-03-01T10:00:00.000Z');

    await rotateItem(client, TARGET, { deadline: deadline(), now: () => now });
    const signedWithFirstRotation = signPayload([rotationFields().current], timestamp, body);
    expect(await verifierAccepts(signedWithOriginal)).toBe(true);
    expect(await verifierAccepts(signedWithFirstRotation)).toBe(true);

    now += 2 * HOUR;
    await rotateItem(client, TARGET, { deadline: deadline(), now: () => now });
    expect(await verifierAccepts(signedWithOriginal)).toBe(false);
    expect(await verifierAccepts(signedWithFirstRotation)).toBe(true);
  });

  it('audits each rotation without a value, and counts failures per item', async () => {
    const telemetry = recordingTelemetry();
    const before = rotationFields();
    const run = await rotateAll(client, [TARGET, { vault: 'op-lambda-staging-webhooks', item: 'no-such-item' }], telemetry, { deadline: deadline() });
    const after = rotationFields();
    expect(run.results.map((result) => result.outcome)).toEqual(['rotated']);
    expect(run.failures).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
    expect(telemetry.metrics.get('SecretRotated')).toBe(1);
    expect(telemetry.metrics.get('SecretRotationFailed')).toBe(1);
    const rotated = telemetry.events.find((event) => event.fields['outcome'] === 'rotated');
    expect(rotated?.name).toBe('secret.rotate');
    expect(rotated?.fields).toMatchObject({ vault: 'op-lambda-staging-webhooks', item: 'webhook-stripe', itemVersion: after.version });
    const captured = JSON.stringify(telemetry.events) + JSON.stringify(run);
    for (const value of [before.current, before.previous, after.current]) expect(captured).not.toContain(value);
  });

  it('refuses to rotate with a read-only token', async () => {
    const readOnly = new OpsConnectClient({ host: connect.url, token: connect.tokens['dev-read']! });
    const before = rotationFields();
    await expect(rotateItem(readOnly, TARGET, { deadline: deadline() })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(rotationFields()).toEqual(before);
  });
});
