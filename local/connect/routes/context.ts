// What a route handler gets: the server's state and one parsed request.
import type { ActivityEvent, ActivityLog, RequestOrigin } from '../activity';
import { grantCoversVault, type TokenGrant, type TokenRegistry } from '../auth';
import { ConnectError, notFound } from '../errors';
import type { ConnectResponse } from '../http-io';
import type { Metrics } from '../metrics';
import type { ItemRecord, VaultRecord } from '../model';
import type { ConnectStore } from '../store';

export interface ServerState {
  store: ConnectStore;
  tokens: TokenRegistry;
  activity: ActivityLog;
  metrics: Metrics;
}

export interface RequestContext {
  state: ServerState;
  method: string;
  params: Readonly<Record<string, string>>;
  /** Raw query string without `?`, for the filter parser. */
  rawQuery: string;
  query: URLSearchParams;
  body: Buffer;
  authorization: string | undefined;
  origin: RequestOrigin;
  now: Date;
}

export type RouteHandler = (ctx: RequestContext) => ConnectResponse | Promise<ConnectResponse>;

export function authenticate(ctx: RequestContext): TokenGrant {
  return ctx.state.tokens.authenticate(ctx.authorization);
}

export function recordActivity(ctx: RequestContext, grant: TokenGrant, event: ActivityEvent): void {
  ctx.state.activity.record(grant, ctx.origin, event, ctx.now);
}

/**
 * The vault named by the `vaultUuid` parameter, checked as Connect does: unknown 404, out of the
 * token's scope 403, a write with a read-only token 401.
 */
export function openVault(ctx: RequestContext, grant: TokenGrant, access: 'read' | 'write'): VaultRecord {
  const vaultId = ctx.params['vaultUuid'] ?? '';
  const vault = ctx.state.store.vaultById(vaultId);
  if (!vault) throw notFound(`vault ${vaultId} not found`);
  const denied = (status: number, message: string): ConnectError => {
    const action = access === 'read' ? 'READ' : ctx.method === 'POST' ? 'CREATE' : ctx.method === 'DELETE' ? 'DELETE' : 'UPDATE';
    recordActivity(ctx, grant, { action, result: 'DENY', vaultId: vault.id, itemId: ctx.params['itemUuid'] });
    return new ConnectError(status, message);
  };
  if (!grantCoversVault(grant, vault)) throw denied(403, `vault ${vault.id} is not in scope`);
  if (access === 'write' && !grant.write) throw denied(401, 'token does not have write access to the vault');
  return vault;
}

export function openItem(ctx: RequestContext, vault: VaultRecord): ItemRecord {
  const itemId = ctx.params['itemUuid'] ?? '';
  const item = ctx.state.store.itemById(vault, itemId);
  if (!item) throw notFound(`item ${itemId} not found`);
  return item;
}
