/**
 * op-lambda/powertools: 1Password secrets through Powertools for AWS Lambda's Parameters utility,
 * for teams that use Powertools rather than Middy. `BaseProvider` owns the cache (`maxAge`,
 * `forceFetch`, `transform`); this provider only resolves one reference over 1Password Connect.
 *
 *   const provider = new OnePasswordProvider();
 *   const key = await provider.get('op://payments/stripe/credential', { maxAge: 300 });
 */
import { BaseProvider } from '@aws-lambda-powertools/parameters/base';
import type { GetOptionsInterface } from '@aws-lambda-powertools/parameters/base/types';
import { ConnectSource, parseReference, type SecretSource } from 'op-lambda';

export interface OnePasswordProviderOptions {
  /**
   * Where values come from.
   * @default a Connect source for OP_CONNECT_HOST, with the token from OP_CONNECT_TOKEN or the
   * Secrets Manager secret OP_CONNECT_TOKEN_SECRET_ARN (built on the first `get`)
   */
  readonly source?: SecretSource;
  /**
   * Upper bound of one `get`, retries included, in milliseconds.
   * @default 5000
   */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;

export class OnePasswordProvider extends BaseProvider {
  private source?: SecretSource;
  private readonly timeoutMs: number;

  constructor(options: OnePasswordProviderOptions = {}) {
    super({});
    this.source = options.source;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /**
   * The value of a secret reference (`op://vault/item/[section/]field`), from the provider's cache
   * while younger than `maxAge` seconds (default 5), else from 1Password.
   */
  override get<T = string>(reference: string, options?: GetOptionsInterface): Promise<T | undefined> {
    return super.get(reference, options) as Promise<T | undefined>;
  }

  protected async _get(name: string): Promise<string> {
    const reference = parseReference(name);
    this.source ??= ConnectSource.fromEnv(process.env);
    const outcome = await this.source.resolve([reference], { deadline: Date.now() + this.timeoutMs });
    const error = outcome.errors.get(reference.key);
    if (error) throw error;
    const resolved = outcome.values.get(reference.key);
    if (!resolved) throw new Error(`${reference.raw}: no value was resolved`);
    return resolved.value;
  }

  /** A secret reference names exactly one field: there is no path to list. */
  protected _getMultiple(path: string): Promise<Record<string, unknown> | undefined> {
    return Promise.reject(
      new Error(`OnePasswordProvider does not support getMultiple (${JSON.stringify(path)}): a 1Password reference names one field, get() each one`),
    );
  }
}
