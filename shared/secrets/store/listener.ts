/**
 * What a store reports as it works, for audit events and metrics (shared/audit's SecretAudit is
 * one). Reports carry names, references, ids, versions and errors: never a value. A listener that
 * throws never breaks the store.
 */
import type { ConnectError } from '../errors';
import type { FetchReport } from '../source';

export interface SecretStoreListener {
  /** The source fetched an item; `coldStart` until the store first answered with every value. */
  fetched?(report: FetchReport, coldStart: boolean): void;
  /** A refresh replaced the value of a reference declared under `names`. */
  refreshed?(names: readonly string[], reference: string, info: { previousItemVersion?: number; itemVersion?: number; changed: boolean }): void;
  /** A refresh failed transiently and the last good value stays in service. */
  stale?(names: readonly string[], reference: string, info: { ageMs: number; error: ConnectError }): void;
  /** A fetch failed for a reference. */
  failed?(names: readonly string[], reference: string, info: { error: ConnectError; servingStale: boolean; retryAfterMs: number }): void;
}
