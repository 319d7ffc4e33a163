/**
 * Connect's REST API as plain JSON, for code that needs more than secret values (the operations
 * functions: rotation, drift checks, activity forwarding). The same host rule, transport, retry
 * policy and name matching as ConnectSource; no SDK models, so a write can hand back attributes
 * the SDK does not know.
 *
 * Reads are retried on transient failures within the caller's deadline; a write is attempted
 * once, and the caller decides what a failed write means.
 */
import { systemClock, type Clock } from '../deadline';
import { ConnectError } from '../errors';
import { looksLikeId } from '../reference';
import { exactlyOne, sameName } from './match';
import { listedId } from './response-checks';
import { withRetry, type Attempted, type RetryPolicy } from './retry';
import { connectServerUrl } from './server-url';
import { NodeHttpClient } from './transport';

export interface ConnectRestOptions {
  /** Connect server URL; https unless loopback or `allowHttp`. */
  host: string;
  token: string;
  allowHttp?: boolean;
  /** @default 5000 */
  attemptTimeoutMs?: number;
  /** @default 3 */
  maxAttempts?: number;
  /** @default 100 */
  backoffBaseMs?: number;
  /** @default Date.now */
  clock?: Clock;
}

export class ConnectRestClient {
  private readonly host: string;
  private readonly token: string;
  private readonly policy: RetryPolicy;
  private readonly clock: Clock;

  constructor(options: ConnectRestOptions) {
    this.host = connectServerUrl(options.host, options.allowHttp === true).replace(/\/$/, '');
    this.token = options.token;
    this.clock = options.clock ?? systemClock;
    this.policy = {
      maxAttempts: options.maxAttempts ?? 3,
      attemptTimeoutMs: options.attemptTimeoutMs ?? 5000,
      backoffBaseMs: options.backoffBaseMs ?? 100,
      random: Math.random,
    };
  }

  /** The vault's id: given as an id, or looked up by exact (case-insensitive) name. */
  async vaultId(vault: string, deadline: number): Promise<string> {
    if (looksLikeId(vault)) return vault;
    // Matched here rather than with a `filter` query, as ConnectSource does: same request count,
    // and no dependence on which filter attribute (name or title) a server version understands.
    const vaults = await this.vaults(deadline);
    return onlyMatch(vaults.filter((candidate) => sameName(candidate.name, vault)), 'vault').id;
  }

  /** Every vault the token can see (what its scope in 1Password grants), each id checked. */
  async vaults(deadline: number): Promise<{ id: string; name: string }[]> {
    const vaults = listOf(await this.get<{ id: string; name: string }[]>('/v1/vaults', deadline));
    return vaults.map((candidate) => ({ ...candidate, id: listedId(candidate.id, 'vault list') }));
  }

  /** The item's id in a vault: given as an id, or looked up by exact (case-insensitive) title. */
  async itemId(vaultId: string, item: string, deadline: number): Promise<string> {
    if (looksLikeId(item)) return item;
    const items = await this.get<{ id: string; title: string }[]>(`/v1/vaults/${encodeURIComponent(vaultId)}/items`, deadline);
    return listedId(onlyMatch(listOf(items).filter((candidate) => sameName(candidate.title, item)), 'item').id, 'item list');
  }

  /** GET `path` as JSON, retried on transient failures; throws ConnectError. */
  async get<T>(path: string, deadline: number, params?: Record<string, string>): Promise<T> {
    const outcome = await withRetry(
      (signal) => this.client(signal).request('get', this.url(path), { authToken: this.token, params }),
      this.policy,
      { deadline, clock: this.clock },
    );
    if (!outcome.ok) throw outcome.error;
    return outcome.value.data as T;
  }

  /** PUT `body` to `path`, once; the failure, if any, is the caller's to interpret. */
  async put(path: string, body: object, deadline: number): Promise<Attempted<unknown>> {
    const outcome = await withRetry(
      (signal) => this.client(signal).request('put', this.url(path), { authToken: this.token, data: body }),
      { ...this.policy, maxAttempts: 1 },
      { deadline, clock: this.clock },
    );
    return outcome.ok ? { ok: true, value: outcome.value.data, attempts: outcome.attempts } : outcome;
  }

  private client(signal: AbortSignal): NodeHttpClient {
    return new NodeHttpClient(signal, undefined, this.clock);
  }

  private url(path: string): string {
    return `${this.host}${path}`;
  }
}

function listOf<T>(value: T[]): T[] {
  if (!Array.isArray(value)) throw new ConnectError('INVALID_RESPONSE', 'Connect answered a list request with something that is not a list');
  return value;
}

function onlyMatch<T>(matches: T[], what: 'vault' | 'item'): T {
  const match = exactlyOne(matches, {
    none: () => new ConnectError('NOT_FOUND', `Connect has no ${what} with that name`, { status: 404 }),
    many: () => new ConnectError('AMBIGUOUS', `several ${what}s have that name`),
  });
  if (match instanceof ConnectError) throw match;
  return match;
}
