// The local server's vaults: lookup by id or name, and the writes that bump versions.
import { randomId } from './ids';
import type { ItemContent, ItemRecord, VaultRecord } from './model';
import { vaultsFromSeed } from './seed-records';
import type { ConnectSeed } from './seed';

const sameName = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export class ConnectStore {
  private readonly vaultList: VaultRecord[];

  constructor(seed: ConnectSeed, now: Date = new Date()) {
    this.vaultList = vaultsFromSeed(seed, now);
  }

  get vaults(): readonly VaultRecord[] {
    return this.vaultList;
  }

  vaultById(id: string): VaultRecord | undefined {
    return this.vaultList.find((vault) => vault.id === id);
  }

  /** By id, else by name (case-insensitive). */
  findVault(ref: string): VaultRecord | undefined {
    return this.vaultById(ref) ?? this.vaultList.find((vault) => sameName(vault.name, ref));
  }

  itemById(vault: VaultRecord, id: string): ItemRecord | undefined {
    return vault.items.find((item) => item.id === id);
  }

  /** By id, else by title (case-insensitive). */
  findItem(vault: VaultRecord, ref: string): ItemRecord | undefined {
    return this.itemById(vault, ref) ?? vault.items.find((item) => sameName(item.title, ref));
  }

  createItem(vault: VaultRecord, content: ItemContent, editorId: string, now: Date = new Date()): ItemRecord {
    const item: ItemRecord = {
      ...content,
      id: randomId(),
      vaultId: vault.id,
      files: [],
      version: 1,
      createdAt: now,
      updatedAt: now,
      lastEditedBy: editorId,
    };
    vault.items.push(item);
    this.touch(vault, now);
    return item;
  }

  /** Replaces what an edit may change; id, files and creation time stay. Every write is a new version. */
  updateItem(vault: VaultRecord, item: ItemRecord, content: ItemContent, editorId: string, now: Date = new Date()): ItemRecord {
    Object.assign(item, content, { version: item.version + 1, updatedAt: now, lastEditedBy: editorId });
    this.touch(vault, now);
    return item;
  }

  deleteItem(vault: VaultRecord, item: ItemRecord, now: Date = new Date()): void {
    vault.items = vault.items.filter((candidate) => candidate !== item);
    this.touch(vault, now);
  }

  private touch(vault: VaultRecord, now: Date): void {
    vault.contentVersion += 1;
    vault.updatedAt = now;
  }
}
