/**
 * What each function's own Connect token should reach in 1Password: the vaults holding exactly the
 * secrets it reads (the canary reads every function's), or rotates (write access, rotate only).
 * `npm run secrets:check` compares this with what each token can actually see.
 */
import { buildManifest, manifestEntries } from 'op-lambda';
import type { StageConfig } from './config';

export interface TokenScope {
  /** Function name, as in the function table (`payments`) or of the operations (`rotate`, `canary`, `activity`). */
  readonly functionName: string;
  /** Vault names or ids, lower case, sorted. */
  readonly vaults: readonly string[];
  /** Whether the token must be able to write (only rotate's). */
  readonly write: boolean;
}

/** Every function of the stage, with the vaults its token should reach and no other. */
export function tokenScopes(config: StageConfig): TokenScope[] {
  const entries = manifestEntries(buildManifest(config.functions));
  const vaultsOf = (functionName?: string): string[] =>
    unique(entries.filter((entry) => functionName === undefined || entry.functionName === functionName).map((entry) => entry.reference.vault));
  return [
    ...config.functions.map((fn) => ({ functionName: fn.name, vaults: vaultsOf(fn.name), write: false })),
    { functionName: 'canary', vaults: vaultsOf(), write: false },
    { functionName: 'rotate', vaults: unique(config.rotation.items.map((item) => item.vault)), write: true },
    { functionName: 'activity', vaults: [], write: false },
  ];
}

function unique(vaults: readonly string[]): string[] {
  return [...new Set(vaults.map((vault) => vault.toLowerCase()))].sort();
}
