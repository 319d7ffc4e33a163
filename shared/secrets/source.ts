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

export interface SecretSource {
  /** Resolves every reference it can; per-reference failures land in `errors`, never in a rejection. */
  resolve(references: readonly SecretReference[], options: ResolveOptions): Promise<SourceOutcome>;
  /** Forgets what the source learnt besides values (name indexes): the store's `clearCache()` calls it. */
  forget?(): void;
}
