/**
 * The vaults the cold-start benchmark reads: for N secrets, two fields per item and the items
 * spread over ⌈√items⌉ vaults, so that larger declarations touch more items and more vaults, as a
 * real function's would. Every reference exists by name and by id.
 */
import { randomBytes } from 'node:crypto';
import { deriveId, type ConnectSeed, type ConnectSeedVault } from '../local/connect/server';

export type Addressing = 'name' | 'id';

export interface SecretLayout {
  secrets: number;
  items: number;
  vaults: number;
}

export const FIELDS_PER_ITEM = 2;
const VALUE_LENGTH = 32;

export function layoutFor(secrets: number): SecretLayout {
  const items = Math.ceil(secrets / FIELDS_PER_ITEM);
  return { secrets, items, vaults: Math.ceil(Math.sqrt(items)) };
}

/** Requests a perfect client makes: one GET per item, plus the vault list and one item list per vault by name. */
export function minimalRequests(layout: SecretLayout, addressing: Addressing): number {
  if (layout.secrets === 0) return 0;
  return addressing === 'id' ? layout.items : 1 + layout.vaults + layout.items;
}

interface Placement {
  vaultName: string;
  itemTitle: string;
  field: string;
}

function vaultName(layout: SecretLayout, index: number): string {
  return `bench-${layout.secrets}-vault-${index}`;
}

function placement(layout: SecretLayout, secret: number): Placement {
  const item = Math.floor(secret / FIELDS_PER_ITEM);
  return {
    vaultName: vaultName(layout, item % layout.vaults),
    itemTitle: `bench-${layout.secrets}-item-${item}`,
    field: `field-${secret % FIELDS_PER_ITEM}`,
  };
}

export const vaultId = (name: string): string => deriveId('bench-vault', name);
export const itemId = (vault: string, title: string): string => deriveId('bench-item', vault, title);

/** `S_00` … : variable name -> reference, for a function's environment. */
export function referenceEnvironment(layout: SecretLayout, addressing: Addressing): Record<string, string> {
  const width = String(Math.max(layout.secrets - 1, 0)).length;
  return Object.fromEntries(Array.from({ length: layout.secrets }, (_, secret) => {
    const { vaultName: vault, itemTitle, field } = placement(layout, secret);
    const path = addressing === 'id' ? `${vaultId(vault)}/${itemId(vault, itemTitle)}` : `${vault}/${itemTitle}`;
    return [`S_${String(secret).padStart(width, '0')}`, `op://${path}/${field}`];
  }));
}

export interface ColdFixture {
  seed: ConnectSeed;
  token: string;
  /** Sum of value lengths per layout (by secret count): what a handler must report having seen. */
  totalLength: Map<number, number>;
}

/** One seed holding every layout, values random per run (they are never printed). */
export function buildFixture(secretCounts: readonly number[]): ColdFixture {
  const vaults: ConnectSeedVault[] = [];
  const totalLength = new Map<number, number>();
  for (const secrets of secretCounts) {
    const layout = layoutFor(secrets);
    totalLength.set(secrets, secrets * VALUE_LENGTH);
    const byVault = new Map<string, ConnectSeedVault>();
    for (let secret = 0; secret < secrets; secret += FIELDS_PER_ITEM) {
      const { vaultName: name, itemTitle } = placement(layout, secret);
      const vault = byVault.get(name) ?? { id: vaultId(name), name, items: [] };
      byVault.set(name, vault);
      const fields = Array.from({ length: Math.min(FIELDS_PER_ITEM, secrets - secret) }, (_, offset) => ({
        label: `field-${offset}`,
        type: 'CONCEALED',
        value: randomBytes(VALUE_LENGTH).toString('base64url').slice(0, VALUE_LENGTH),
      }));
      vault.items.push({ id: itemId(name, itemTitle), title: itemTitle, category: 'API_CREDENTIAL', fields });
    }
    vaults.push(...byVault.values());
  }
  const token = `bench-${randomBytes(16).toString('hex')}`;
  return { seed: { tokens: [{ name: 'bench', token, vaults: ['*'], write: false }], vaults }, token, totalLength };
}
