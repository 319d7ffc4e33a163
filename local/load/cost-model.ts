/**
 * How many Connect requests a cold start costs, read from the functions' declared references:
 * one GET per distinct item, plus (for references by name) one vault list per container and one
 * item list per vault. Warm invokes cost nothing, so a run's Connect requests are fully explained
 * by how many containers resolved their secrets.
 */
import { isReference, looksLikeId, parseReference } from '../../shared/secrets/reference';
import { readCloudAssembly } from '../gateway/cloud-assembly';
import { buildEmulationModel } from '../gateway/template-model';

export interface ColdStartCost {
  /** GET /v1/vaults/{vault}/items/{item}: one per distinct item. */
  items: number;
  /** GET /v1/vaults (0 or 1) plus GET /v1/vaults/{vault}/items per vault addressed by name or holding items by name. */
  indexes: number;
}

export interface FunctionSecrets {
  name: string;
  /** Variable name -> op:// reference. */
  references: Record<string, string>;
}

/** The declared references of every function in a stack, from its synthesized template. */
export function functionSecrets(cdkOut: string, stackName: string): FunctionSecrets[] {
  const model = buildEmulationModel(readCloudAssembly(cdkOut), { stacks: [stackName], region: 'us-east-1', accountId: '000000000000', cdkOut });
  return model.functions.map(({ name, environment }) => ({
    name,
    references: Object.fromEntries(Object.entries(environment).filter(([, value]) => isReference(value))),
  }));
}

export function coldStartCost(references: readonly string[]): ColdStartCost {
  const parsed = references.map(parseReference);
  const items = new Set(parsed.map(({ vault, item }) => `${vault.toLowerCase()}/${item.toLowerCase()}`));
  const vaultsByName = parsed.some(({ vault }) => !looksLikeId(vault));
  const vaultsWithNamedItems = new Set(parsed.filter(({ item }) => !looksLikeId(item)).map(({ vault }) => vault.toLowerCase()));
  return { items: items.size, indexes: (vaultsByName ? 1 : 0) + vaultsWithNamedItems.size };
}

/** Connect paths by kind, as the local Connect server logs them. */
export function connectRequestKind(path: string): 'item' | 'index' | 'other' {
  if (/^\/v1\/vaults\/[^/]+\/items\/[^/]+$/.test(path)) return 'item';
  if (path === '/v1/vaults' || /^\/v1\/vaults\/[^/]+\/items$/.test(path)) return 'index';
  return 'other';
}
