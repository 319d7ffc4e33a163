/**
 * The Connect requests of the operations functions (rotation, drift check, activity forwarding):
 * vault and item lookup by name, an item as Connect's raw JSON, a replacement write that carries
 * the version it was based on, and pages of the activity log.
 *
 * Items travel as the JSON Connect sent, not through the SDK's models: a replacement write must
 * hand back every attribute of the item, including those the SDK's models do not know (its
 * deserialiser drops them), or the write would erase them.
 *
 * Requests go through the runtime's Connect client (ConnectRestClient: host rule, transport,
 * retries within the caller's deadline); a write is attempted once, and the caller decides what a
 * failed write means.
 */
import { ConnectError } from '../secrets/errors';
import { ConnectRestClient, type ConnectRestOptions } from '../secrets/connect/rest-client';
import type { ActivityEntry, ActivitySource } from './activity-forwarder';

/** Connect server, token and retry policy of the operations client. */
export type OpsConnectOptions = ConnectRestOptions;

export interface ConnectSectionJson {
  id: string;
  label?: string;
  [attribute: string]: unknown;
}

export interface ConnectFieldJson {
  id: string;
  type?: string;
  purpose?: string;
  label?: string;
  value?: string;
  section?: { id: string };
  [attribute: string]: unknown;
}

/** An item as Connect's JSON; attributes not named here are carried through untouched. */
export interface ConnectItemJson {
  id: string;
  title: string;
  version: number;
  vault: { id: string };
  category: string;
  sections?: ConnectSectionJson[];
  fields?: ConnectFieldJson[];
  [attribute: string]: unknown;
}

export interface ItemAddress {
  vaultId: string;
  itemId: string;
}

/** The result of a replacement write: the stored item, or Connect's 409 (someone wrote first). */
export type ReplaceResult = { ok: true; item: ConnectItemJson } | { ok: false; conflict: true };

export class OpsConnectClient implements ActivitySource {
  private readonly connect: ConnectRestClient;

  constructor(options: OpsConnectOptions) {
    this.connect = new ConnectRestClient(options);
  }

  /** Every vault this client's token can see (what its scope in 1Password grants). */
  vaults(deadline: number): Promise<{ id: string; name: string }[]> {
    return this.connect.vaults(deadline);
  }

  /** The vault's id: given as an id, or looked up by exact (case-insensitive) name. */
  vaultId(vault: string, deadline: number): Promise<string> {
    return this.connect.vaultId(vault, deadline);
  }

  /** The item's id in a vault: given as an id, or looked up by exact (case-insensitive) title. */
  itemId(vaultId: string, item: string, deadline: number): Promise<string> {
    return this.connect.itemId(vaultId, item, deadline);
  }

  async locate(vault: string, item: string, deadline: number): Promise<ItemAddress> {
    const vaultId = await this.vaultId(vault, deadline);
    return { vaultId, itemId: await this.itemId(vaultId, item, deadline) };
  }

  async getItem(address: ItemAddress, deadline: number): Promise<ConnectItemJson> {
    const item = await this.connect.get<ConnectItemJson>(itemPath(address), deadline);
    if (typeof item?.id !== 'string' || typeof item.version !== 'number') {
      throw new ConnectError('INVALID_RESPONSE', 'Connect answered with something that is not an item');
    }
    return item;
  }

  /**
   * Replaces the item with `item` (which carries the `version` it was read at). One attempt:
   * a 409 comes back as `{ ok: false, conflict: true }`, anything else that fails is thrown.
   */
  async replaceItem(item: ConnectItemJson, deadline: number): Promise<ReplaceResult> {
    const outcome = await this.connect.put(itemPath({ vaultId: item.vault.id, itemId: item.id }), item, deadline);
    if (outcome.ok) return { ok: true, item: outcome.value as ConnectItemJson };
    if (outcome.error.status === 409) return { ok: false, conflict: true };
    throw outcome.error;
  }

  /** One page of the activity log, oldest first. */
  async page(offset: number, limit: number, deadline: number): Promise<ActivityEntry[]> {
    const entries = await this.connect.get<unknown>('/v1/activity', deadline, { limit: String(limit), offset: String(offset) });
    if (!Array.isArray(entries) || !entries.every(isActivityEntry)) {
      throw new ConnectError('INVALID_RESPONSE', 'Connect answered /v1/activity with something that is not a list of requests');
    }
    return entries;
  }
}

function itemPath({ vaultId, itemId }: ItemAddress): string {
  return `/v1/vaults/${encodeURIComponent(vaultId)}/items/${encodeURIComponent(itemId)}`;
}

function isActivityEntry(value: unknown): value is ActivityEntry {
  return typeof value === 'object' && value !== null && typeof (value as { requestId?: unknown }).requestId === 'string';
}

