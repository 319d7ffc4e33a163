/**
 * The secret source over 1Password Connect, with as few requests as the references allow:
 *
 * - references by ID (vault and item both 26-char IDs): one GET per distinct item, nothing else;
 * - references by name: GET /v1/vaults once per source, GET /v1/vaults/{id}/items once per vault,
 *   then one GET per distinct item. Names are matched here, case-insensitively, instead of in a
 *   `filter` query: that costs no more requests, and titles with `& # + %` need no URL-encoding
 *   (which the SDK's filters lack);
 * - all items of a resolve in parallel, at most `concurrency` requests at a time.
 *
 * Requests go through `@1password/connect` (its request shapes and models) over NodeHttpClient,
 * on keep-alive connections the source keeps for its lifetime: every attempt carries an
 * AbortSignal bounded by the caller's deadline, and failures are retried or reported as typed
 * ConnectErrors. No error carries a value, the token or a header. A 401 makes the token source
 * read the token again before the next resolve (it may have been rotated).
 */
import { OnePasswordConnect, type OPConnect } from '@1password/connect';
import { systemClock, withinDeadline, type Clock, type DeadlineBounds } from '../deadline';
import type { Environment } from '../environment';
import { ConnectError } from '../errors';
import type { SecretReference } from '../reference';
import type { HeldItem, ResolveOptions, SecretSource, VersionCheckOptions, VersionCheckOutcome } from '../source';
import { ByteBudget } from './byte-budget';
import { createGate } from './concurrency';
import { Resolution, type ConnectOutcome } from './resolution';
import type { RetryPolicy } from './retry';
import { connectLocation, connectServerUrl } from './server-url';
import { TitleIndex } from './title-index';
import { connectTokenSource, fixedToken, type ConnectTokenOptions, type ConnectTokenSource } from './token-source';
import { ConnectionPool, NodeHttpClient } from './transport';
import { checkItemVersions } from './version-check';

export interface ConnectSourceOptions {
  /** Base URL of the Connect server (OP_CONNECT_HOST), without `/v1`. */
  host: string;
  /** The Connect token, or where to get it (read once per `resolve` that has work). */
  token: string | ConnectTokenSource;
  /** Allow plain http to a host that is not loopback (OP_CONNECT_ALLOW_HTTP). Default false. */
  allowHttp?: boolean;
  /**
   * Requests in flight at once per `resolve`. Default 32.
   *
   * A cap, so that a function declaring hundreds of items cannot flood Connect or its own sockets;
   * a high one, because every round of requests a cold start waits for is a full round trip
   * (25 items by id: one round at 32, four at 8). Connect serves reads from its local cache, and
   * 32 requests cost 1Password's rate limits no more than 32 requests one after the other.
   */
  concurrency?: number;
  /**
   * Bytes of Connect's answers one `resolve` may read, all its responses (and their retries)
   * together; a read that would go over it is abandoned, and the references it served fail with
   * INVALID_RESPONSE. The memory a resolve can take stays bounded however many requests are in flight.
   *
   * An item is a few KiB and an item list some 400 bytes per item, so 8 MiB holds hundreds of
   * items and the lists of vaults with some 20,000 items, while parsing it stays well within the
   * smallest function's memory (a per-response cap alone allowed `concurrency` x 16 MiB).
   * @default 8388608 (8 MiB)
   */
  maxBytesPerResolve?: number;
  /** Cap on one attempt, always further capped by the deadline. Default 5000. */
  attemptTimeoutMs?: number;
  /** Attempts per request, the first included. Default 4. */
  maxAttempts?: number;
  /** Backoff before attempt n+1 is random in [0, backoffBaseMs * 2^(n-1)] (full jitter). Default 100. */
  backoffBaseMs?: number;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
  /** Epoch milliseconds, for deadlines, retries and latencies. Default Date.now. */
  clock?: Clock;
}

const DEFAULTS = { concurrency: 32, maxBytesPerResolve: 8 * 1024 * 1024, attemptTimeoutMs: 5_000, maxAttempts: 4, backoffBaseMs: 100 } as const;

export class ConnectSource implements SecretSource {
  private readonly serverUrl: string;
  private readonly token: ConnectTokenSource;
  private readonly policy: RetryPolicy;
  private readonly concurrency: number;
  private readonly maxBytesPerResolve: number;
  private readonly clock: Clock;
  private readonly index = new TitleIndex();
  private readonly pool = new ConnectionPool();
  private resolutions = 0;

  constructor(options: ConnectSourceOptions) {
    this.serverUrl = connectServerUrl(options.host, options.allowHttp ?? false);
    this.token = typeof options.token === 'string' ? fixedToken(options.token) : options.token;
    this.concurrency = positiveInteger('concurrency', options.concurrency ?? DEFAULTS.concurrency);
    this.maxBytesPerResolve = positiveInteger('maxBytesPerResolve', options.maxBytesPerResolve ?? DEFAULTS.maxBytesPerResolve);
    this.clock = options.clock ?? systemClock;
    this.policy = {
      maxAttempts: positiveInteger('maxAttempts', options.maxAttempts ?? DEFAULTS.maxAttempts),
      attemptTimeoutMs: positiveInteger('attemptTimeoutMs', options.attemptTimeoutMs ?? DEFAULTS.attemptTimeoutMs),
      backoffBaseMs: nonNegative('backoffBaseMs', options.backoffBaseMs ?? DEFAULTS.backoffBaseMs),
      random: options.random ?? Math.random,
    };
  }

  /**
   * The source for OP_CONNECT_HOST (plain http only when OP_CONNECT_ALLOW_HTTP is "true" or "1"),
   * its token from OP_CONNECT_TOKEN or the Secrets Manager secret OP_CONNECT_TOKEN_SECRET_ARN.
   * Throws ConnectError TOKEN_UNAVAILABLE when the environment names no token at all.
   */
  static fromEnv(env: Environment, options: Omit<ConnectSourceOptions, 'host' | 'allowHttp' | 'token'> & Pick<ConnectTokenOptions, 'readSecret'> = {}): ConnectSource {
    const { readSecret, ...sourceOptions } = options;
    return new ConnectSource({ ...sourceOptions, ...connectLocation(env), token: connectTokenSource({ env, readSecret }) });
  }

  async resolve(references: readonly SecretReference[], options: ResolveOptions): Promise<ConnectOutcome> {
    if (Number.isNaN(options.deadline)) throw new TypeError('ResolveOptions.deadline must be epoch milliseconds');
    const outcome: ConnectOutcome = { values: new Map(), errors: new Map(), bytesRead: 0 };
    const unique = [...new Map(references.map((reference) => [reference.key, reference])).values()];
    if (unique.length === 0) return outcome;
    const bounds: DeadlineBounds = { deadline: options.deadline, signal: options.signal, clock: this.clock };
    const token = await this.obtainToken(bounds);
    if (token instanceof ConnectError) {
      for (const reference of unique) outcome.errors.set(reference.key, token.forReference(reference.raw));
      return outcome;
    }
    const budget = new ByteBudget(this.maxBytesPerResolve);
    const resolution = new Resolution({
      id: ++this.resolutions,
      index: this.index,
      bounds,
      policy: this.policy,
      gate: createGate(this.concurrency),
      connect: (signal, onEarlyAnswer) =>
        OnePasswordConnect({ serverURL: this.serverUrl, token, httpClient: new NodeHttpClient(signal, this.pool, this.clock, budget, onEarlyAnswer) }),
      onFetch: options.onFetch,
    });
    await resolution.resolveAll(unique, outcome);
    outcome.bytesRead = budget.bytesRead;
    for (const [key, error] of outcome.errors) outcome.errors.set(key, redacted(error, token));
    // The token may have been rotated: read it again before the next resolve.
    if ([...outcome.errors.values()].some((error) => error.code === 'UNAUTHORIZED')) this.token.invalidate();
    return outcome;
  }

  /** Which held items changed: one vault list, plus an item list per vault whose content version moved. */
  async checkVersions(held: readonly HeldItem[], options: VersionCheckOptions): Promise<VersionCheckOutcome> {
    const bounds: DeadlineBounds = { deadline: options.deadline, clock: this.clock };
    const token = await this.obtainToken(bounds);
    if (token instanceof ConnectError) throw token;
    const policy = options.singleAttempt ? { ...this.policy, maxAttempts: 1 } : this.policy;
    // Lists are small, but a hostile server's lists are held to the same budget as a resolve's answers.
    const budget = new ByteBudget(this.maxBytesPerResolve);
    const connect = (signal: AbortSignal): OPConnect =>
      OnePasswordConnect({ serverURL: this.serverUrl, token, httpClient: new NodeHttpClient(signal, this.pool, this.clock, budget) });
    try {
      return await checkItemVersions({ bounds, policy, connect }, held, options);
    } catch (error) {
      const failure = error instanceof ConnectError ? redacted(error, token) : new ConnectError('NETWORK', 'the version check failed');
      if (failure.code === 'UNAUTHORIZED') this.token.invalidate();
      throw failure;
    }
  }

  /** Forgets the vault and item-title indexes (the next resolve by name reloads them). */
  forget(): void {
    this.index.clear();
  }

  /** Closes the source's connections to Connect; a later resolve opens new ones. */
  closeConnections(): void {
    this.pool.destroy();
  }

  private async obtainToken(bounds: DeadlineBounds): Promise<string | ConnectError> {
    try {
      const token = await withinDeadline(this.token.get(), bounds);
      if (typeof token !== 'string' || token.length === 0) return new ConnectError('TOKEN_UNAVAILABLE', 'the Connect token is empty');
      return token;
    } catch (error) {
      if (error instanceof ConnectError) return error;
      const cause = new Error(error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 200) : 'token source failed');
      return new ConnectError('TOKEN_UNAVAILABLE', 'the Connect token could not be obtained', { cause });
    }
  }
}

/** A last guard: should the token ever appear in a message (an echoing proxy, say), it is masked. */
function redacted(error: ConnectError, token: string): ConnectError {
  const causeMessage = error.cause instanceof Error ? error.cause.message : '';
  if (!error.message.includes(token) && !causeMessage.includes(token)) return error;
  const mask = (text: string): string => text.split(token).join('[REDACTED]');
  return new ConnectError(error.code, mask(error.detail), {
    status: error.status,
    reference: error.reference,
    retryAfterMs: error.retryAfterMs,
    retryable: error.retryable,
    cause: error.cause instanceof Error ? new Error(mask(causeMessage)) : undefined,
  });
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`ConnectSource option ${name} must be a positive integer`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`ConnectSource option ${name} must be a non-negative number`);
  return value;
}
