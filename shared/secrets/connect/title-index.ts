/**
 * Vault names and item titles, learnt once per container: one GET /v1/vaults, and one
 * GET /v1/vaults/{id}/items per vault that a reference names an item of by title. Matching
 * happens here, case-insensitively, so titles with `& # + %` never travel in a query string.
 *
 * Only successes are kept: a failed load is forgotten at once, so the next batch tries again.
 * Each entry remembers the batch that loaded it, so a miss against an index learnt by an earlier
 * batch can reload it once (an item created or renamed since) without reloading on every miss.
 */
import type { FullItem, Vault } from '@1password/connect';
import { ConnectError } from '../errors';

export interface VaultEntry {
  id: string;
  name: string;
}

export interface ItemEntry {
  id: string;
  title: string;
}

interface Cached<T> {
  promise: Promise<T>;
  batch: number;
}

export class TitleIndex {
  private vaultList: Cached<VaultEntry[]> | undefined;
  private readonly itemLists = new Map<string, Cached<ItemEntry[]>>();

  /** The vaults the token can see; `fresh` reloads a list learnt by another batch. */
  vaults(load: () => Promise<VaultEntry[]>, batch: number, fresh = false): Promise<VaultEntry[]> {
    if (!this.vaultList || (fresh && this.vaultList.batch !== batch)) {
      const entry: Cached<VaultEntry[]> = { batch, promise: load() };
      this.vaultList = entry;
      entry.promise.catch(() => {
        if (this.vaultList === entry) this.vaultList = undefined;
      });
    }
    return this.vaultList.promise;
  }

  /** The items of one vault; `fresh` reloads a list learnt by another batch. */
  items(vaultId: string, load: () => Promise<ItemEntry[]>, batch: number, fresh = false): Promise<ItemEntry[]> {
    const cached = this.itemLists.get(vaultId);
    if (cached && !(fresh && cached.batch !== batch)) return cached.promise;
    const entry: Cached<ItemEntry[]> = { batch, promise: load() };
    this.itemLists.set(vaultId, entry);
    entry.promise.catch(() => {
      if (this.itemLists.get(vaultId) === entry) this.itemLists.delete(vaultId);
    });
    return entry.promise;
  }

  /** Whether the list in use was learnt by `batch` itself (so reloading it cannot help). */
  isFresh(batch: number, vaultId?: string): boolean {
    const cached = vaultId === undefined ? this.vaultList : this.itemLists.get(vaultId);
    return cached?.batch === batch;
  }

  clear(): void {
    this.vaultList = undefined;
    this.itemLists.clear();
  }
}

/** Connect's vault list, checked: a proxy's or a truncated answer must not become an index. */
export function toVaultEntries(vaults: unknown): VaultEntry[] {
  if (!Array.isArray(vaults)) throw malformed('vault list');
  return vaults.map((vault: Partial<Vault>) => {
    if (typeof vault?.id !== 'string' || typeof vault.name !== 'string') throw malformed('vault list');
    return { id: vault.id, name: vault.name };
  });
}

/** Connect's item list without trashed items, checked. */
export function toItemEntries(items: unknown): ItemEntry[] {
  if (!Array.isArray(items)) throw malformed('item list');
  return items
    .filter((item: Partial<FullItem>) => item?.trashed !== true)
    .map((item: Partial<FullItem>) => {
      if (typeof item?.id !== 'string') throw malformed('item list');
      return { id: item.id, title: typeof item.title === 'string' ? item.title : '' };
    });
}

function malformed(what: string): ConnectError {
  return new ConnectError('INVALID_RESPONSE', `Connect returned a malformed ${what}`);
}
