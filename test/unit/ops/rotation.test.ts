import { ConnectError } from '../../../shared/secrets/errors';
import type { ConnectItemJson, ItemAddress, ReplaceResult } from '../../../shared/ops/ops-client';
import { generateSecretValue, rotateItem, withRotation, type RotationConnect } from '../../../shared/ops/rotation';

const ADDRESS: ItemAddress = { vaultId: 'v'.repeat(26), itemId: 'i'.repeat(26) };
const TARGET = { vault: 'op-lambda-staging-webhooks', item: 'webhook-stripe' };
const NOW = Date.parse('2026-03-01T10:00:00.000Z');

function seedItem(): ConnectItemJson {
  return {
    id: ADDRESS.itemId,
    title: 'webhook-stripe',
    version: 7,
    vault: { id: ADDRESS.vaultId },
    category: 'API_CREDENTIAL',
    urls: [{ href: 'https://dashboard.example.com' }],
    fields: [
      { id: 'f1', label: 'current', type: 'CONCEALED', value: 'value-X' },
      { id: 'f2', label: 'previous', type: 'CONCEALED', value: 'value-W' },
      { id: 'f3', label: 'rotatedAt', type: 'STRING', value: '2026-01-01T00:00:00.000Z' },
      { id: 'f4', label: 'notes', type: 'STRING', value: 'kept', extra: { kept: true } },
    ],
  };
}

/**
 * An item store with the semantics of a server that ignores `version` on writes (last writer
 * wins), and a hook that runs between our read and our write: a stand-in for a concurrent writer.
 */
class LastWriterWins implements RotationConnect {
  item = seedItem();
  writes: ConnectItemJson[] = [];
  beforeWrite?: () => void;
  failNextWrite?: ConnectError;

  async locate(): Promise<ItemAddress> {
    return ADDRESS;
  }

  async getItem(): Promise<ConnectItemJson> {
    return structuredClone(this.item);
  }

  async replaceItem(item: ConnectItemJson): Promise<ReplaceResult> {
    const hook = this.beforeWrite;
    this.beforeWrite = undefined;
    hook?.();
    this.store(item);
    if (this.failNextWrite) {
      const failure = this.failNextWrite;
      this.failNextWrite = undefined;
      throw failure;
    }
    return { ok: true, item: structuredClone(this.item) };
  }

  store(item: ConnectItemJson): void {
    this.item = { ...structuredClone(item), version: this.item.version + 1 };
    this.writes.push(structuredClone(this.item));
  }
}

const field = (item: ConnectItemJson, label: string): string | undefined => item.fields?.find((entry) => entry.label === label)?.value;

describe('generateSecretValue', () => {
  it('gives 32 random bytes as base64url, different every time', () => {
    const values = new Set(Array.from({ length: 50 }, generateSecretValue));
    expect(values.size).toBe(50);
    for (const value of values) {
      expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(value, 'base64url')).toHaveLength(32);
    }
  });
});

describe('withRotation', () => {
  it('shifts current to previous and keeps every other attribute of the item', () => {
    const next = withRotation(seedItem(), 'value-Y', new Date(NOW));
    expect(field(next, 'current')).toBe('value-Y');
    expect(field(next, 'previous')).toBe('value-X');
    expect(field(next, 'rotatedAt')).toBe('2026-03-01T10:00:00.000Z');
    expect(next.version).toBe(7);
    expect(next.urls).toEqual([{ href: 'https://dashboard.example.com' }]);
    expect(next.fields?.find((entry) => entry.label === 'notes')).toEqual({ id: 'f4', label: 'notes', type: 'STRING', value: 'kept', extra: { kept: true } });
  });

  it('adds previous and rotatedAt to an item that only has current', () => {
    const item = { ...seedItem(), fields: [{ id: 'f1', label: 'current', type: 'CONCEALED', value: 'value-X' }] };
    const next = withRotation(item, 'value-Y', new Date(NOW));
    expect(next.fields?.map((entry) => [entry.label, entry.type, entry.value])).toEqual([
      ['current', 'CONCEALED', 'value-Y'],
      ['previous', 'CONCEALED', 'value-X'],
      ['rotatedAt', 'STRING', '2026-03-01T10:00:00.000Z'],
    ]);
    expect(next.fields?.[1]?.id).toMatch(/^[a-z0-9]{26}$/);
  });
});

describe('rotateItem against a server that ignores versions', () => {
  it('notices a concurrent rotation that replaced ours, and leaves previous on the value both read', async () => {
    const store = new LastWriterWins();
    const write = store.replaceItem.bind(store);
    // The other rotation read the same item (current X); its write lands between ours and our read-back.
    store.replaceItem = async (item) => {
      const written = await write(item);
      store.store(withRotation(seedItem(), 'value-THEIRS', new Date(NOW)));
      return written;
    };
    const result = await rotateItem(store, TARGET, { deadline: Date.now() + 5000, now: () => NOW, generate: () => 'value-OURS' });
    expect(result.outcome).toBe('superseded');
    expect(store.writes).toHaveLength(2);
    expect(field(store.item, 'current')).toBe('value-THEIRS');
    expect(field(store.item, 'previous')).toBe('value-X');
  });

  it('flags a write that landed on top of a version it never read', async () => {
    const store = new LastWriterWins();
    store.beforeWrite = () => store.store(withRotation(seedItem(), 'value-THEIRS', new Date(NOW)));
    const result = await rotateItem(store, TARGET, { deadline: Date.now() + 5000, now: () => NOW, generate: () => 'value-OURS' });
    expect(result).toMatchObject({ outcome: 'rotated', overwroteConcurrentWrite: true, itemVersion: 9 });
    expect(field(store.item, 'previous')).toBe('value-X');
  });

  it('reads back after a write whose answer was lost, and does not rotate twice', async () => {
    const store = new LastWriterWins();
    store.failNextWrite = new ConnectError('TIMEOUT', 'cut off');
    const result = await rotateItem(store, TARGET, { deadline: Date.now() + 5000, now: () => NOW, generate: () => 'value-OURS' });
    expect(result.outcome).toBe('rotated');
    expect(store.writes).toHaveLength(1);
    expect(field(store.item, 'previous')).toBe('value-X');
  });

  it('gives up with CONTENDED after maxAttempts conflicts', async () => {
    const store = new LastWriterWins();
    store.replaceItem = async () => ({ ok: false, conflict: true });
    await expect(rotateItem(store, TARGET, { deadline: Date.now() + 5000, now: () => NOW, maxAttempts: 3 })).rejects.toMatchObject({
      name: 'RotationError',
      code: 'CONTENDED',
    });
  });

  it('refuses an item without a current field', async () => {
    const store = new LastWriterWins();
    store.item.fields = store.item.fields!.filter((entry) => entry.label !== 'current');
    await expect(rotateItem(store, TARGET, { deadline: Date.now() + 5000 })).rejects.toMatchObject({ code: 'NOT_ROTATABLE' });
    expect(store.writes).toHaveLength(0);
  });

  it('rotates a fresh item only when forced', async () => {
    const store = new LastWriterWins();
    store.item = withRotation(seedItem(), 'value-RECENT', new Date(NOW - 60_000));
    expect((await rotateItem(store, TARGET, { deadline: Date.now() + 5000, now: () => NOW })).outcome).toBe('fresh');
    expect(store.writes).toHaveLength(0);
    expect((await rotateItem(store, TARGET, { deadline: Date.now() + 5000, now: () => NOW, force: true })).outcome).toBe('rotated');
    expect(field(store.item, 'previous')).toBe('value-RECENT');
  });
});
