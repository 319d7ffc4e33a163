// Items: list (with filter), create, get, replace, patch, delete.
import { ConnectError } from '../errors';
import { Filter } from '../filter';
import { isJsonObject } from '../item-input';
import { jsonResponse, parseJsonBody, type ConnectResponse } from '../http-io';
import { contentAsDocument, readItemContent } from '../item-input';
import { toItemJson, toItemSummaryJson } from '../item-json';
import { applyPatch, readPatch } from '../patch';
import { authenticate, openItem, openVault, recordActivity, type RequestContext } from './context';

const ITEM_FILTER = { titleAttributes: ['title'], tags: true } as const;

/** Summaries only: Connect lists items without their fields. */
export function listItems(ctx: RequestContext): ConnectResponse {
  const vault = openVault(ctx, authenticate(ctx), 'read');
  const filter = Filter.fromQuery(ctx.rawQuery, ITEM_FILTER);
  const selected = filter ? filter.select(vault.items, (item) => ({ title: item.title, tags: item.tags })) : vault.items;
  return jsonResponse(200, selected.map(toItemSummaryJson));
}

export function getItem(ctx: RequestContext): ConnectResponse {
  const grant = authenticate(ctx);
  const vault = openVault(ctx, grant, 'read');
  const item = openItem(ctx, vault);
  recordActivity(ctx, grant, { action: 'READ', result: 'SUCCESS', vaultId: vault.id, itemId: item.id, itemVersion: item.version });
  return jsonResponse(200, toItemJson(item, ctx.now.getTime()));
}

export function createItem(ctx: RequestContext): ConnectResponse {
  const grant = authenticate(ctx);
  const vault = openVault(ctx, grant, 'write');
  const content = readItemContent(parseJsonBody(ctx.body), { vaultId: vault.id });
  const item = ctx.state.store.createItem(vault, content, grant.userId, ctx.now);
  recordActivity(ctx, grant, { action: 'CREATE', result: 'SUCCESS', vaultId: vault.id, itemId: item.id, itemVersion: item.version });
  return jsonResponse(200, toItemJson(item, ctx.now.getTime()));
}

/**
 * Optimistic concurrency: a replacement that names the version it was read at is refused with
 * 409 once the item has moved on. A body without `version` replaces unconditionally.
 */
function checkVersion(body: unknown, current: number): void {
  const sent = isJsonObject(body) ? body['version'] : undefined;
  if (typeof sent === 'number' && sent !== current) {
    throw new ConnectError(409, `item version ${sent} is not the current version ${current}`);
  }
}

export function replaceItem(ctx: RequestContext): ConnectResponse {
  const grant = authenticate(ctx);
  const vault = openVault(ctx, grant, 'write');
  const item = openItem(ctx, vault);
  const body = parseJsonBody(ctx.body);
  checkVersion(body, item.version);
  const content = readItemContent(body, { vaultId: vault.id, itemId: item.id });
  ctx.state.store.updateItem(vault, item, content, grant.userId, ctx.now);
  recordActivity(ctx, grant, { action: 'UPDATE', result: 'SUCCESS', vaultId: vault.id, itemId: item.id, itemVersion: item.version });
  return jsonResponse(200, toItemJson(item, ctx.now.getTime()));
}

/** An empty patch leaves the item (and its version) as it is. */
export function patchItem(ctx: RequestContext): ConnectResponse {
  const grant = authenticate(ctx);
  const vault = openVault(ctx, grant, 'write');
  const item = openItem(ctx, vault);
  const operations = readPatch(parseJsonBody(ctx.body));
  if (operations.length > 0) {
    const patched = applyPatch(contentAsDocument(item), operations);
    const content = readItemContent(patched, { vaultId: vault.id, itemId: item.id });
    ctx.state.store.updateItem(vault, item, content, grant.userId, ctx.now);
    recordActivity(ctx, grant, { action: 'UPDATE', result: 'SUCCESS', vaultId: vault.id, itemId: item.id, itemVersion: item.version });
  }
  return jsonResponse(200, toItemJson(item, ctx.now.getTime()));
}

export function deleteItem(ctx: RequestContext): ConnectResponse {
  const grant = authenticate(ctx);
  const vault = openVault(ctx, grant, 'write');
  const item = openItem(ctx, vault);
  ctx.state.store.deleteItem(vault, item, ctx.now);
  recordActivity(ctx, grant, { action: 'DELETE', result: 'SUCCESS', vaultId: vault.id, itemId: item.id, itemVersion: item.version });
  return { status: 204 };
}
