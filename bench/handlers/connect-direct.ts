/**
 * What a hand-written handler using `@1password/connect` directly does: read `op://vault/item/field`
 * references from the environment, find the vault by title (unless the segment is an id), then
 * `getItem` (by id: one request; by title: a filter, then a GET) and pick the field.
 */
import { OnePasswordConnect, type OPConnect } from '@1password/connect';

export interface PlainReference {
  name: string;
  vault: string;
  item: string;
  field: string;
}

const REFERENCE = /^op:\/\/([^/]+)\/([^/]+)\/([^/?]+)$/;
const ID_SHAPE = /^[a-z0-9]{26}$/;

/** Every variable holding a plain three-segment reference, in variable-name order. */
export function referencesFromEnv(env: Readonly<Record<string, string | undefined>>): PlainReference[] {
  return Object.entries(env).flatMap(([name, value]) => {
    const match = value === undefined ? null : REFERENCE.exec(value);
    return match ? [{ name, vault: match[1]!, item: match[2]!, field: match[3]! }] : [];
  }).sort((a, b) => a.name.localeCompare(b.name));
}

/** The SDK client as its README shows it, with keep-alive connections. */
export function connectFromEnv(env: Readonly<Record<string, string | undefined>>): OPConnect {
  return OnePasswordConnect({ serverURL: env['OP_CONNECT_HOST'] ?? '', token: env['OP_CONNECT_TOKEN'] ?? '', keepAlive: true });
}

export async function fetchSecret(op: OPConnect, reference: PlainReference): Promise<string> {
  const vaultId = ID_SHAPE.test(reference.vault) ? reference.vault : (await op.getVaultByTitle(reference.vault)).id!;
  const item = await op.getItem(vaultId, reference.item);
  const wanted = reference.field.toLowerCase();
  const field = item.fields?.find((candidate) => candidate.id === reference.field || candidate.label?.toLowerCase() === wanted);
  if (field?.value === undefined) throw new Error(`${reference.name}: no field ${reference.field}`);
  return field.value;
}

/** Starts loading at module load, as opSecrets does, so both start the clock at the same place. */
export function prefetch(load: () => Promise<string[]>): Promise<string[]> {
  const loading = load();
  // The handler awaits it; this only keeps a failure from being an unhandled rejection at INIT.
  loading.catch(() => undefined);
  return loading;
}
