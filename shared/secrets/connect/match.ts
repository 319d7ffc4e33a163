/**
 * Finding vaults, items, sections and fields by what a reference says: by id, else by name
 * (case-insensitive), and then exactly one of them, since guessing between two would hand the
 * handler the wrong credential.
 */
import { ConnectError } from '../errors';

/** Entries whose id equals `wanted`; failing that, those whose name matches it case-insensitively. */
export function matchByIdThenName<T extends { id?: string }>(entries: readonly T[], wanted: string, nameOf: (entry: T) => string | undefined): T[] {
  const byId = entries.filter((entry) => entry.id === wanted);
  return byId.length > 0 ? byId : entries.filter((entry) => sameName(nameOf(entry), wanted));
}

export function sameName(name: string | undefined, wanted: string): boolean {
  return name !== undefined && name.toLowerCase() === wanted.toLowerCase();
}

/** What to say when a search finds nothing, or more than one. */
export interface MatchFailures {
  /** The error for no match. */
  readonly none: () => ConnectError;
  /** The error for `count` (> 1) matches: AMBIGUOUS. */
  readonly many: (count: number) => ConnectError;
}

/** The one match, else the `none` (NOT_FOUND, FIELD_NOT_FOUND) or `many` (AMBIGUOUS) error. */
export function exactlyOne<T>(matches: readonly T[], failures: MatchFailures): T | ConnectError {
  if (matches.length === 0) return failures.none();
  if (matches.length > 1) return failures.many(matches.length);
  return matches[0]!;
}
