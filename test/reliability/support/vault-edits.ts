/**
 * Vault changes made the way an operator makes them: over Connect's HTTP API with the read-write
 * token, so that what a function then sees (a field gone, an item deleted and created again under
 * a new id) is the server's real answer, not an injected one.
 */
import type { ConnectItemJson, LocalConnect } from '../../../local/connect/server';

const WRITE_TOKEN = 'dev-write';

async function call(connect: LocalConnect, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${connect.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${connect.tokens[WRITE_TOKEN]}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/** Removes a field (by label) from an item; returns what puts it back. */
export async function removeField(connect: LocalConnect, vault: string, item: string, label: string): Promise<() => Promise<void>> {
  const original = connect.getItem(vault, item);
  const path = `/v1/vaults/${original.vault.id}/items/${original.id}`;
  const without = { ...original, fields: original.fields.filter((field) => field.label !== label) };
  if (without.fields.length === original.fields.length) throw new Error(`no field ${label} in ${item}`);
  await call(connect, 'PUT', path, without);
  return async () => {
    const current = connect.getItem(vault, item);
    await call(connect, 'PUT', path, { ...original, version: current.version });
  };
}

/** Deletes an item; returns what creates it again (with the same content, under a new id). */
export async function deleteItem(connect: LocalConnect, vault: string, item: string): Promise<() => Promise<void>> {
  const original = connect.getItem(vault, item);
  await call(connect, 'DELETE', `/v1/vaults/${original.vault.id}/items/${original.id}`);
  return async () => {
    const { id: _id, version: _version, createdAt: _created, updatedAt: _updated, ...content } = original as ConnectItemJson & Record<string, unknown>;
    const created = (await call(connect, 'POST', `/v1/vaults/${original.vault.id}/items`, content)) as { id: string };
    if (created.id === original.id) throw new Error('the re-created item kept its id');
  };
}
