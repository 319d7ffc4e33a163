/**
 * What `createSecretStore` (and the middleware over it) can be told, each option with its default.
 */
import type { Clock } from '../deadline';
import type { Environment } from '../environment';
import type { SecretSource } from '../source';
import type { SecretDeclarations } from './declarations';
import type { SecretStoreListener } from './listener';

export interface SecretStoreOptions<S extends SecretDeclarations = SecretDeclarations> {
  /**
   * Secrets declared in code: `{ NAME: 'op://vault/item/field' }`, or
   * `{ NAME: { reference?, required? } }` where a missing reference is read from the environment
   * variable NAME. Whenever the environment variable NAME holds an `op://` reference, that
   * reference wins over the one in code, whatever `fromEnv` says: one bundle, a reference per stage.
   * @default {}
   */
  readonly secrets?: S;
  /**
   * Also declare every environment variable whose value starts with `op://` (the `op run`
   * convention). With `false`, only names declared in `secrets` are read (still from the
   * environment first, see `secrets`).
   * @default true
   */
  readonly fromEnv?: boolean;
  /**
   * Do not start fetching when the store is created (at INIT); fetch on the first read.
   * @default false
   */
  readonly disablePrefetch?: boolean;
  /**
   * Age after which a value is refreshed in the background of the read that notices it, while
   * still being served.
   * @default Infinity (values live as long as the container)
   */
  readonly ttlMs?: number;
  /**
   * How long past `ttlMs` the last good value is served while refreshes fail transiently (and,
   * with revalidation, past the check that should have confirmed it while checks fail).
   * @default Infinity
   */
  readonly maxStaleMs?: number;
  /**
   * How often held values are revalidated, when the source can tell what changed (Connect can):
   * at the start of the first invocation after the interval, one request checks every vault's
   * version, and only changed items are fetched again. No value whose item changed more than
   * `revalidateMs` ago is used while the source answers. Infinity turns revalidation off.
   * @default OP_REVALIDATE_MS, else 60000
   */
  readonly revalidateMs?: number;
  /**
   * How long a failure is remembered before 1Password is asked again; doubles with each
   * consecutive failure (protects rate limits). Connect's Retry-After wins when it is longer.
   * @default 1000
   */
  readonly failureBackoffMs?: number;
  /**
   * Cap of the doubling. A transient failure (Connect down, 5xx, 429, timeout) of a required secret
   * with no usable value doubles up to `min(maxFailureBackoffMs, 5000)` only, so recovery is quick.
   * @default 60000
   */
  readonly maxFailureBackoffMs?: number;
  /**
   * The longest a read (or a `refresh()`, or the prefetch) waits for secrets.
   * @default 5000
   */
  readonly timeoutMs?: number;
  /** Where env declarations and the Connect settings are read. @default process.env */
  readonly env?: Environment;
  /** Where values come from. @default ConnectSource.fromEnv(env, { clock }) */
  readonly source?: SecretSource;
  /** Told of fetches, refreshes, stale values and failures (audit, metrics). @default none */
  readonly listener?: SecretStoreListener;
  /** Epoch milliseconds, for every timing decision. @default Date.now */
  readonly clock?: Clock;
}

/** The option names `createSecretStore` accepts; any other is a mistake. */
export const STORE_OPTIONS: ReadonlySet<string> = new Set<keyof SecretStoreOptions>([
  'secrets',
  'fromEnv',
  'disablePrefetch',
  'ttlMs',
  'maxStaleMs',
  'revalidateMs',
  'failureBackoffMs',
  'maxFailureBackoffMs',
  'timeoutMs',
  'env',
  'source',
  'listener',
  'clock',
]);
