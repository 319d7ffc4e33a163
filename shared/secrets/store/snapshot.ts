/**
 * What the warm path reads: every declared value in declaration order, with the cache version it
 * was taken at and until when it holds. While the cache version is unchanged and the moment has
 * not come, an invocation uses it as it is: no I/O, no lookup per name.
 */
import type { DeclaredSecret } from './declarations';
import type { CacheSnapshot } from './secret-cache';

/** Every declared value, by position (declaration order) and by name. */
export interface DeclaredValues {
  /** The cache version the values were read at. */
  readonly version: number;
  readonly values: readonly (string | undefined)[];
  readonly byName: Readonly<Record<string, string | undefined>>;
}

export interface WarmSnapshot extends DeclaredValues {
  /** Epoch ms (exclusive) until which the values hold; -Infinity when a required one is missing. */
  readonly validUntil: number;
}

/** Before the first read: never current. */
export const NO_SNAPSHOT: WarmSnapshot = Object.freeze({ version: -1, validUntil: -Infinity, values: [], byName: {} });

/** The declared values in `snapshot`, holding no longer than the cache's answer does. */
export function warmSnapshot(declared: readonly DeclaredSecret[], snapshot: CacheSnapshot): WarmSnapshot {
  const values = declared.map(({ reference }) => snapshot.values.get(reference.key));
  const requiredMissing = declared.some(({ required }, index) => required && values[index] === undefined);
  const byName = Object.fromEntries(declared.map(({ name }, index) => [name, values[index]]));
  return { version: snapshot.version, validUntil: requiredMissing ? -Infinity : snapshot.validUntil, values, byName };
}
