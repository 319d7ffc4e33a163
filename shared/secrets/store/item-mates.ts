/**
 * An item's other declared secrets. A forced refresh fetches whole items: every declared
 * reference in the same 1Password item comes along in the same fetch, which costs no extra
 * request and keeps an item's fields from different versions apart (a rotated username and
 * password, say).
 */
import type { Entry } from './entry';

/** `entries` and every candidate in the same item as one of them that `eligible` lets in. */
export function withItemMates(entries: readonly Entry[], candidates: readonly Entry[], eligible: (candidate: Entry) => boolean): Entry[] {
  const chosen = new Set(entries);
  for (const candidate of candidates) {
    if (chosen.has(candidate) || !eligible(candidate)) continue;
    if (entries.some((entry) => sameItem(entry, candidate))) chosen.add(candidate);
  }
  return [...chosen];
}

/**
 * Whether two references lead to the same item, as far as the cache knows: by the ids they were
 * last resolved to when both were, else by their vault and item segments (names match
 * case-insensitively; a segment may also be the id the other was resolved to).
 */
export function sameItem(a: Entry, b: Entry): boolean {
  if (a.location && b.location) return a.location.vaultId === b.location.vaultId && a.location.itemId === b.location.itemId;
  const matches = (x: string, y: string, yId: string | undefined): boolean => x.toLowerCase() === y.toLowerCase() || x === yId;
  const sameSegment = (part: 'vault' | 'item', id: 'vaultId' | 'itemId'): boolean =>
    matches(a.reference[part], b.reference[part], b.location?.[id]) || matches(b.reference[part], a.reference[part], a.location?.[id]);
  return sameSegment('vault', 'vaultId') && sameSegment('item', 'itemId');
}
