/**
 * The one port between the store and where secret values come from. ConnectSource (./connect/)
 * is the source in production; tests plug in a fake; another source (a service account, say)
 * plugs in here without touching the store or the middleware.
 */
import type { ConnectError } from './errors';
import type { SecretReference } from './reference';

/** One resolved secret. */
export interface SourcedSecret {
  readonly value: string;
  readonly itemVersion?: number;
  /** Where the value was found; lets a refresh take the item's other declared secrets along. */
  readonly vaultId?: string;
  readonly itemId?: string;
}

/** What a resolve produced, keyed by `SecretReference.key`: every reference lands in exactly one of the maps. */
export interface SourceOutcome {
  readonly values: ReadonlyMap<string, SourcedSecret>;
  readonly errors: ReadonlyMap<string, ConnectError>;
}

/** One item fetched (with its retries), for audit events and metrics. Never carries a value. */
export interface FetchReport {
  /** Canonical keys (`SecretReference.key`) of the references this fetch serves. */
  readonly references: readonly string[];
  readonly vaultId?: string;
  readonly itemId?: string;
  readonly itemVersion?: number;
  readonly latencyMs: number;
  readonly attempts: number;
  readonly outcome: 'success' | 'failure';
  readonly error?: ConnectError;
}

export interface ResolveOptions {
  /** Epoch milliseconds by which `resolve` settles. */
  readonly deadline: number;
  /** Ends the resolve early, as the deadline would. */
  readonly signal?: AbortSignal;
  /** Called once per item fetched; exceptions it throws are ignored. */
  readonly onFetch?: (report: FetchReport) => void;
}

/** An item the store holds values of, at the version it holds. */
export interface HeldItem {
  readonly vaultId: string;
  readonly itemId: string;
  readonly version: number;
}

export interface VersionCheckOptions {
  /** Epoch milliseconds by which the check settles. */
  readonly deadline: number;
  /**
   * Each vault's content version as of the last check that left nothing of it to re-read: a vault
   * whose version is unchanged costs no item list.
   */
  readonly knownVaults: ReadonlyMap<string, number>;
  /** One attempt, no retries: a forced check (a miss) during an outage costs one request. */
  readonly singleAttempt?: boolean;
}

export interface VersionCheckOutcome {
  /** The held items whose version is no longer the one held (changed, deleted, out of reach). */
  readonly changed: readonly HeldItem[];
  /** Every vault's content version as the check saw it, before it listed any item. */
  readonly vaults: ReadonlyMap<string, number>;
}

export interface SecretSource {
  /** Resolves every reference it can; per-reference failures land in `errors`, never in a rejection. */
  resolve(references: readonly SecretReference[], options: ResolveOptions): Promise<SourceOutcome>;
  /**
   * A capability a source may offer: which held items changed, at a fraction of re-reading them.
   * The store then revalidates every `revalidateMs` instead of trusting values for `ttlMs`.
   * Rejects with ConnectError when the check cannot be made.
   */
  checkVersions?(held: readonly HeldItem[], options: VersionCheckOptions): Promise<VersionCheckOutcome>;
  /** Forgets what the source learnt besides values (name indexes): the store's `clearCache()` calls it. */
  forget?(): void;
}
