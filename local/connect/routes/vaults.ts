// GET /v1/vaults and GET /v1/vaults/{vaultUuid}.
import { grantCoversVault } from '../auth';
import { Filter } from '../filter';
import { jsonResponse, type ConnectResponse } from '../http-io';
import { toVaultJson } from '../item-json';
import { authenticate, openVault, recordActivity, type RequestContext } from './context';

/** SDKs filter vaults by `title`, the spec says `name`: both are understood. */
const VAULT_FILTER = { titleAttributes: ['name', 'title'], tags: false } as const;

export function listVaults(ctx: RequestContext): ConnectResponse {
  const grant = authenticate(ctx);
  // Vaults outside the token's scope are not listed at all.
  const visible = ctx.state.store.vaults.filter((vault) => grantCoversVault(grant, vault));
  const filter = Filter.fromQuery(ctx.rawQuery, VAULT_FILTER);
  const selected = filter ? filter.select(visible, (vault) => ({ title: vault.name })) : visible;
  return jsonResponse(200, selected.map(toVaultJson));
}

export function getVault(ctx: RequestContext): ConnectResponse {
  const grant = authenticate(ctx);
  const vault = openVault(ctx, grant, 'read');
  recordActivity(ctx, grant, { action: 'READ', result: 'SUCCESS', vaultId: vault.id });
  return jsonResponse(200, toVaultJson(vault));
}
