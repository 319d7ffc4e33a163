/**
 * The Connect requests of the operations functions (rotation, drift check, activity forwarding):
 * vault and item lookup by name, an item as Connect's raw JSON, a replacement write that carries
 * the version it was based on, and pages of the activity log.
 *
 * Items travel as the JSON Connect sent, not through the SDK's models: a replacement write must
 * hand back every attribute of the item, including those the SDK's models do not know (its
 * deserialiser drops them), or the write would erase them.
 *
 * Reads are retried on transient failures within the caller's deadline (the runtime's retry
 * policy); a write is attempted once, and the caller decides what a failed write means.
 */
import { ConnectError } from '../secrets/errors';
import { sameName } from '../secrets/fields';
import { looksLikeId } from '../secrets/reference';
import { withRetry, type RetryPolicy } from '../secrets/retry';
import { connectServerUrl } from '../secrets/connect-host';
import { NodeHttpClient } from '../secrets/transport';
import type { ActivityEntry, ActivitySource } from './activity-forwarder';

export interface OpsConnectOptions {
  /** Connect server URL; https unless loopback or `allowHttp`. */
  host: string;
  token: string;
  allowHttp?: boolean;
  /** @default 5000 */
  attemptTimeoutMs?: number;
  /** @default 3 */
  maxAttempts?: number;
  /** @default 100 */
  backoffBaseMs?: number;
}

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
  private readonly host: string;
  private readonly policy: RetryPolicy;

  constructor(private readonly options: OpsConnectOptions) {
    this.host = connectServerUrl(options.host, options.allowHttp === true).replace(/\/$/, '');
    this.policy = {
      maxAttempts: options.maxAttempts ?? 3,
      attemptTimeoutMs: options.attemptTimeoutMs ?? 5000,
      backoffBaseMs: options.backoffBaseMs ?? 100,
      random: Math.random,
    };
  }

  /** Every vault this client's token can see (what its scope in 1Password grants). */
  async vaults(deadline: number): Promise<{ id: string; name: string }[]> {
    return listOf(await this.get<{ id: string; name: string }[]>('/v1/vaults', deadline));
  }

  /** The vault's id: given as an id, or looked up by exact (case-insensitive) name. */
  async vaultId(vault: string, deadline: number): Promise<string> {
    if (looksLikeId(vault)) return vault;
    // Matched here rather than with a `filter` query, as the resolver does: same request count,
    // and no dependence on which filter attribute (name or title) a server version understands.
    const vaults = await this.get<{ id: string; name: string }[]>('/v1/vaults', deadline);
    return exactlyOne(listOf(vaults).filter((candidate) => sameName(candidate.name, vault)), 'vault').id;
  }

  /** The item's id in a vault: given as an id, or looked up by exact (case-insensitive) title. */
  async itemId(vaultId: string, item: string, deadline: number): Promise<string> {
    if (looksLikeId(item)) return item;
    const items = await this.get<{ id: string; title: string }[]>(`/v1/vaults/${encodeURIComponent(vaultId)}/items`, deadline);
    return exactlyOne(listOf(items).filter((candidate) => sameName(candidate.title, item)), 'item').id;
  }

  async locate(vault: string, item: string, deadline: number): Promise<ItemAddress> {
    const vaultId = await this.vaultId(vault, deadline);
    return { vaultId, itemId: await this.itemId(vaultId, item, deadline) };
  }

  async getItem(address: ItemAddress, deadline: number): Promise<ConnectItemJson> {
    const item = await this.get<ConnectItemJson>(itemPath(address), deadline);
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
    const outcome = await withRetry(
      (signal) => new NodeHttpClient(signal).request('put', this.url(itemPath({ vaultId: item.vault.id, itemId: item.id })), {
        authToken: this.options.token,
        data: item,
      }),
      { ...this.policy, maxAttempts: 1 },
      { deadline },
    );
    if (outcome.ok) return { ok: true, item: outcome.value.data as ConnectItemJson };
    if (outcome.error.status === 409) return { ok: false, conflict: true };
    throw outcome.error;
  }

  /** One page of the activity log, oldest first. */
  async page(offset: number, limit: number, deadline: number): Promise<ActivityEntry[]> {
    const entries = await this.get<unknown>('/v1/activity', deadline, { limit: String(limit), offset: String(offset) });
    if (!Array.isArray(entries) || !entries.every(isActivityEntry)) {
      throw new ConnectError('INVALID_RESPONSE', 'Connect answered /v1/activity with something that is not a list of requests');
    }
    return entries;
  }

  private async get<T>(path: string, deadline: number, params?: Record<string, string>): Promise<T> {
    const outcome = await withRetry(
      (signal) => new NodeHttpClient(signal).request('get', this.url(path), { authToken: this.options.token, params }),
      this.policy,
      { deadline },
    );
    if (!outcome.ok) throw outcome.error;
    return outcome.value.data as T;
  }

  private url(path: string): string {
    return `${this.host}${path}`;
  }
}

function itemPath({ vaultId, itemId }: ItemAddress): string {
  return `/v1/vaults/${encodeURIComponent(vaultId)}/items/${encodeURIComponent(itemId)}`;
}

function listOf<T>(value: T[]): T[] {
  if (!Array.isArray(value)) throw new ConnectError('INVALID_RESPONSE', 'Connect answered a list request with something that is not a list');
  return value;
}

function exactlyOne<T>(matches: T[], what: 'vault' | 'item'): T {
  if (matches.length === 0) throw new ConnectError('NOT_FOUND', `Connect has no ${what} with that name`, { status: 404 });
  if (matches.length > 1) throw new ConnectError('AMBIGUOUS', `several ${what}s have that name`);
  return matches[0]!;
}

function isActivityEntry(value: unknown): value is ActivityEntry {
  return typeof value === 'object' && value !== null && typeof (value as { requestId?: unknown }).requestId === 'string';
}

