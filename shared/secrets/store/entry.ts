/**
 * One cached reference: its last good value and when it was fetched, where it was found, its last
 * failure, and the fetches in progress for it.
 */
import type { SecretReference } from '../reference';
import type { Failure } from './failure-backoff';
import type { Flight } from './single-flight';

/** The 1Password item a reference was last resolved in. */
export interface ItemLocation {
  readonly vaultId: string;
  readonly itemId: string;
}

export class Entry {
  value?: string;
  itemVersion?: number;
  fetchedAt = 0;
  /** Kept across failures: a reference rarely moves, and a wrong guess costs one request at most. */
  location?: ItemLocation;
  failure?: Failure;
  flight?: Flight;
  /** The forced fetch (a refresh) this entry is part of, if any. */
  forced?: Flight;
  /** Sequence number of the newest fetch whose outcome was applied; older outcomes are ignored. */
  appliedSeq = 0;

  constructor(readonly reference: SecretReference) {}
}
