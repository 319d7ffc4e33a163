// The route table: method + path template -> handler. Templates double as metric labels.
import { listActivity } from './activity';
import type { RouteHandler } from './context';
import { getFile, getFileContent, listFiles } from './files';
import { health, heartbeat, metrics } from './health';
import { createItem, deleteItem, getItem, listItems, patchItem, replaceItem } from './items';
import { getVault, listVaults } from './vaults';

export interface Route {
  method: string;
  template: string;
  handle: RouteHandler;
}

const ITEM = '/v1/vaults/{vaultUuid}/items/{itemUuid}';

export const ROUTES: readonly Route[] = [
  { method: 'GET', template: '/heartbeat', handle: heartbeat },
  { method: 'GET', template: '/health', handle: health },
  { method: 'GET', template: '/metrics', handle: metrics },
  { method: 'GET', template: '/v1/activity', handle: listActivity },
  { method: 'GET', template: '/v1/vaults', handle: listVaults },
  { method: 'GET', template: '/v1/vaults/{vaultUuid}', handle: getVault },
  { method: 'GET', template: '/v1/vaults/{vaultUuid}/items', handle: listItems },
  { method: 'POST', template: '/v1/vaults/{vaultUuid}/items', handle: createItem },
  { method: 'GET', template: ITEM, handle: getItem },
  { method: 'PUT', template: ITEM, handle: replaceItem },
  { method: 'PATCH', template: ITEM, handle: patchItem },
  { method: 'DELETE', template: ITEM, handle: deleteItem },
  { method: 'GET', template: `${ITEM}/files`, handle: listFiles },
  { method: 'GET', template: `${ITEM}/files/{fileUuid}`, handle: getFile },
  { method: 'GET', template: `${ITEM}/files/{fileUuid}/content`, handle: getFileContent },
];

export type RouteMatch =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[]; template: string }
  | { kind: 'not-found' };

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function matchTemplate(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of want.entries()) {
    const actual = got[index]!;
    if (part.startsWith('{')) {
      if (actual === '') return undefined;
      params[part.slice(1, -1)] = safeDecode(actual);
    } else if (part !== actual) {
      return undefined;
    }
  }
  return params;
}

/** Matches a normalized path (no query, no trailing slash). */
export function matchRoute(method: string, path: string): RouteMatch {
  const candidates = ROUTES.flatMap((route) => {
    const params = matchTemplate(route.template, path);
    return params ? [{ route, params }] : [];
  });
  const hit = candidates.find(({ route }) => route.method === method);
  if (hit) return { kind: 'found', ...hit };
  if (candidates.length > 0) {
    return { kind: 'method-not-allowed', allowed: candidates.map(({ route }) => route.method), template: candidates[0]!.route.template };
  }
  return { kind: 'not-found' };
}
