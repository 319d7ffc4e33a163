/**
 * Whether held items changed, the cheap way 1Password allows: one `GET /v1/vaults` gives every
 * vault's `contentVersion` (bumped by any change to its items); only a vault whose version moved
 * since the last check costs its item list (`GET /v1/vaults/{id}/items`, each item's `version`);
 * no item is read here. With nothing changed, a check is one request whatever the number of items.
 */
import type { OPConnect } from '@1password/connect';
import type { DeadlineBounds } from '../deadline';
import { ConnectError } from '../errors';
import type { HeldItem, VersionCheckOptions, VersionCheckOutcome } from '../source';
import { isConnectId } from './response-checks';
import { withRetry, type RetryPolicy } from './retry';

export interface VersionCheckContext {
  readonly bounds: DeadlineBounds;
  readonly policy: RetryPolicy;
  readonly connect: (signal: AbortSignal) => OPConnect;
}

/** Compares `held` with Connect's lists; rejects with ConnectError when a list cannot be had. */
export async function checkItemVersions(
  context: VersionCheckContext,
  held: readonly HeldItem[],
  options: Pick<VersionCheckOptions, 'knownVaults'>,
): Promise<VersionCheckOutcome> {
  const vaults = await listed(context, async (client) => vaultVersions(await client.listVaults()));
  const changed: HeldItem[] = [];
  await Promise.all(
    [...groupByVault(held)].map(async ([vaultId, items]) => {
      const contentVersion = vaults.get(vaultId);
      // Gone from the token's view (deleted, or the token lost access): re-reading tells which.
      if (contentVersion === undefined) return void changed.push(...items);
      if (options.knownVaults.get(vaultId) === contentVersion) return;
      const versions = await listed(context, async (client) => itemVersions(await client.listItems(encodeURIComponent(vaultId))));
      changed.push(...items.filter((item) => versions.get(item.itemId) !== item.version));
    }),
  );
  return { changed, vaults };
}

async function listed<T>(context: VersionCheckContext, operation: (client: OPConnect) => Promise<T>): Promise<T> {
  const attempted = await withRetry((signal) => operation(context.connect(signal)), context.policy, context.bounds);
  if (!attempted.ok) throw attempted.error;
  return attempted.value;
}

/** Vault id -> contentVersion, checked: a proxy's or a truncated answer must not pass for "nothing changed". */
export function vaultVersions(vaults: unknown): Map<string, number> {
  if (!Array.isArray(vaults)) throw malformed('vault list');
  return new Map(
    vaults.map((vault: unknown) => {
      const { id, contentVersion } = (vault ?? {}) as { id?: unknown; contentVersion?: unknown };
      if (!isConnectId(id) || !isVersion(contentVersion)) throw malformed('vault list');
      return [id, contentVersion];
    }),
  );
}

/** Item id -> version, trashed items left out (as if deleted), checked. */
export function itemVersions(items: unknown): Map<string, number> {
  if (!Array.isArray(items)) throw malformed('item list');
  const versions = new Map<string, number>();
  for (const item of items as unknown[]) {
    const { id, version, trashed } = (item ?? {}) as { id?: unknown; version?: unknown; trashed?: unknown };
    if (!isConnectId(id) || !isVersion(version)) throw malformed('item list');
    if (trashed !== true) versions.set(id, version);
  }
  return versions;
}

function groupByVault(held: readonly HeldItem[]): Map<string, HeldItem[]> {
  const groups = new Map<string, HeldItem[]>();
  for (const item of held) groups.set(item.vaultId, [...(groups.get(item.vaultId) ?? []), item]);
  return groups;
}

function isVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function malformed(what: string): ConnectError {
  return new ConnectError('INVALID_RESPONSE', `Connect returned a malformed ${what}`);
}
