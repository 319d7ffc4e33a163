/**
 * Resolves secret references over 1Password Connect with as few requests as the references allow:
 *
 * - references by ID (vault and item both 26-char IDs): one GET per distinct item, nothing else;
 * - references by name: GET /v1/vaults once per resolver, GET /v1/vaults/{id}/items once per vault,
 *   then one GET per distinct item. Names are matched here, case-insensitively, instead of in a
 *   `filter` query: that costs no more requests, and titles with `& # + %` need no URL-encoding
 *   (which the SDK's filters lack);
 * - all items of a batch in parallel, at most `concurrency` requests at a time.
 *
 * Requests go through `@1password/connect` (its request shapes and models) over NodeHttpClient,
 * on keep-alive connections the resolver keeps for its lifetime: every attempt carries an
 * AbortSignal bounded by the caller's deadline, and failures are retried or reported as typed
 * ConnectErrors. No error carries a value, the token or a header.
 */
import { OnePasswordConnect, type FullItem, type OPConnect } from '@1password/connect';
import { connectLocation, connectServerUrl } from './connect-host';
import { ConnectError } from './errors';
import { selectField, matchByIdThenName } from './fields';
import { normaliseConnectError } from './normalise';
import { looksLikeId, type SecretReference } from './reference';
import { withRetry, withinDeadline, type Attempted, type Gate, type RetryBounds, type RetryPolicy } from './retry';
import { TitleIndex, toItemEntries, toVaultEntries, type ItemEntry, type VaultEntry } from './title-index';
import { ConnectionPool, NodeHttpClient } from './transport';

export interface ConnectResolverOptions {
  /** Base URL of the Connect server (OP_CONNECT_HOST), without `/v1`. */
  host: string;
  /** The Connect token, or a function that provides it; called once per `resolve` that has work. */
  token: string | (() => Promise<string>);
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
  /** Cap on one attempt, always further capped by the deadline. Default 5000. */
  attemptTimeoutMs?: number;
  /** Attempts per request, the first included. Default 4. */
  maxAttempts?: number;
  /** Backoff before attempt n+1 is random in [0, backoffBaseMs * 2^(n-1)] (full jitter). Default 100. */
  backoffBaseMs?: number;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
}

export interface ResolvedSecret {
  reference: SecretReference;
  value: string;
  vaultId: string;
  itemId: string;
  itemVersion: number;
  fieldId: string;
}

/** One item GET (with its retries), for audit events and metrics. */
export interface ItemFetchEvent {
  /** Canonical keys (`SecretReference.key`) of the references this fetch serves. */
  references: readonly string[];
  vaultId?: string;
  itemId?: string;
  itemVersion?: number;
  latencyMs: number;
  attempts: number;
  outcome: 'success' | 'failure';
  error?: ConnectError;
}

export interface ResolveOptions {
  /** Absolute epoch milliseconds by which `resolve` settles. */
  deadline: number;
  signal?: AbortSignal;
  /** Called once per item GET; exceptions it throws are ignored. */
  onFetch?: (event: ItemFetchEvent) => void;
}

/** Keyed by `SecretReference.key`; every requested reference is in exactly one of the maps. */
export interface ResolveOutcome {
  values: Map<string, ResolvedSecret>;
  errors: Map<string, ConnectError>;
}

const DEFAULTS = { concurrency: 32, attemptTimeoutMs: 5_000, maxAttempts: 4, backoffBaseMs: 100 } as const;

export class ConnectResolver {
  private readonly serverUrl: string;
  private readonly token: string | (() => Promise<string>);
  private readonly policy: RetryPolicy;
  private readonly concurrency: number;
  private readonly index = new TitleIndex();
  private readonly pool = new ConnectionPool();
  private batches = 0;

  constructor(options: ConnectResolverOptions) {
    this.serverUrl = connectServerUrl(options.host, options.allowHttp ?? false);
    this.token = options.token;
    this.concurrency = positiveInteger('concurrency', options.concurrency ?? DEFAULTS.concurrency);
    this.policy = {
      maxAttempts: positiveInteger('maxAttempts', options.maxAttempts ?? DEFAULTS.maxAttempts),
      attemptTimeoutMs: positiveInteger('attemptTimeoutMs', options.attemptTimeoutMs ?? DEFAULTS.attemptTimeoutMs),
      backoffBaseMs: nonNegative('backoffBaseMs', options.backoffBaseMs ?? DEFAULTS.backoffBaseMs),
      random: options.random ?? Math.random,
    };
  }

  /** A resolver for OP_CONNECT_HOST, allowing plain http only when OP_CONNECT_ALLOW_HTTP is "true" (or "1"). */
  static fromEnv(env: Record<string, string | undefined>, token: string | (() => Promise<string>)): ConnectResolver {
    return new ConnectResolver({ ...connectLocation(env), token });
  }

  /** Resolves every reference it can; per-reference failures land in `errors`, never in a rejection. */
  async resolve(references: readonly SecretReference[], options: ResolveOptions): Promise<ResolveOutcome> {
    if (Number.isNaN(options.deadline)) throw new TypeError('ResolveOptions.deadline must be epoch milliseconds');
    const outcome: ResolveOutcome = { values: new Map(), errors: new Map() };
    const unique = [...new Map(references.map((reference) => [reference.key, reference])).values()];
    if (unique.length === 0) return outcome;
    const bounds: RetryBounds = { deadline: options.deadline, signal: options.signal };
    const token = await obtainToken(this.token, bounds);
    if (token instanceof ConnectError) {
      for (const reference of unique) outcome.errors.set(reference.key, token.forReference(reference.raw));
      return outcome;
    }
    const batch = new Batch({
      id: ++this.batches,
      index: this.index,
      bounds,
      policy: this.policy,
      gate: createGate(this.concurrency),
      connect: (signal) => OnePasswordConnect({ serverURL: this.serverUrl, token, httpClient: new NodeHttpClient(signal, this.pool) }),
      onFetch: options.onFetch,
    });
    await batch.resolveAll(unique, outcome);
    for (const [key, error] of outcome.errors) outcome.errors.set(key, redacted(error, token));
    return outcome;
  }

  /** Forgets the vault and item-title indexes (the next resolve by name reloads them). */
  clearIndex(): void {
    this.index.clear();
  }

  /** Closes the resolver's connections to Connect; a later resolve opens new ones. */
  closeConnections(): void {
    this.pool.destroy();
  }
}

/** Where a reference points, and whether each id came from the reference's shape or an index. */
interface Location {
  vaultId: string;
  itemId: string;
  vaultByShape: boolean;
  itemByShape: boolean;
}

/** `shape`: ID-shaped segments are ids; `items`: the item by index; `index`: vault and item by index. */
type LocateMode = 'shape' | 'items' | 'index';

interface Found {
  id: string;
  byShape: boolean;
}

interface Placed {
  reference: SecretReference;
  location: Location;
}

interface BatchContext {
  id: number;
  index: TitleIndex;
  bounds: RetryBounds;
  policy: RetryPolicy;
  gate: Gate;
  connect: (signal: AbortSignal) => OPConnect;
  onFetch: ((event: ItemFetchEvent) => void) | undefined;
}

/** One `resolve` call: one token, one deadline, one concurrency gate, one GET per distinct item. */
class Batch {
  private readonly fetches = new Map<string, Promise<Attempted<FullItem>>>();

  constructor(private readonly context: BatchContext) {}

  async resolveAll(references: readonly SecretReference[], outcome: ResolveOutcome): Promise<void> {
    const placed: Placed[] = [];
    await Promise.all(
      references.map(async (reference) => {
        const location = await this.locate(reference, 'shape');
        if (location instanceof ConnectError) outcome.errors.set(reference.key, location.forReference(reference.raw));
        else placed.push({ reference, location });
      }),
    );
    await Promise.all(groupByItem(placed).map((group) => this.settle(group, outcome, true)));
  }

  /** Fetches one item for its references and selects their fields; relocates once on 404/403. */
  private async settle(group: Placed[], outcome: ResolveOutcome, mayRelocate: boolean): Promise<void> {
    const { vaultId, itemId } = group[0]!.location;
    const fetched = await this.fetchItem(vaultId, itemId, group.map((entry) => entry.reference.key));
    if (fetched.ok) {
      for (const { reference } of group) record(outcome, reference, fetched.value, vaultId);
      return;
    }
    const relocated: Placed[] = [];
    await Promise.all(
      group.map(async (entry) => {
        const mode = mayRelocate ? this.relocationMode(entry.location, fetched.error) : undefined;
        const location = mode === undefined ? fetched.error : await this.locate(entry.reference, mode);
        if (location instanceof ConnectError || sameLocation(location, entry.location)) {
          outcome.errors.set(entry.reference.key, fetched.error.forReference(entry.reference.raw));
        } else {
          relocated.push({ reference: entry.reference, location });
        }
      }),
    );
    await Promise.all(groupByItem(relocated).map((next) => this.settle(next, outcome, false)));
  }

  /** After a 404 (or a 403 on an ID-shaped vault), whether the ids may have been titles or stale. */
  private relocationMode(location: Location, error: ConnectError): LocateMode | undefined {
    const { index, id } = this.context;
    const vaultMayBeTitle = location.vaultByShape || !index.isFresh(id);
    if (error.code === 'NOT_FOUND' && (location.itemByShape || !index.isFresh(id, location.vaultId))) return 'items';
    if ((error.code === 'NOT_FOUND' || error.code === 'FORBIDDEN') && vaultMayBeTitle) return 'index';
    return undefined;
  }

  private async locate(reference: SecretReference, mode: LocateMode): Promise<Location | ConnectError> {
    const vault = await this.findVault(reference, mode);
    if (vault instanceof ConnectError) return vault;
    const item = await this.findItem(reference, vault.id, mode);
    if (item instanceof ConnectError) {
      // Connect refusing the item list of an ID-shaped vault segment: the segment may be a title.
      const vaultMayBeTitle = vault.byShape || !this.context.index.isFresh(this.context.id);
      if (mode !== 'index' && vaultMayBeTitle && (item.status === 404 || item.status === 403)) {
        const again = await this.locate(reference, 'index');
        return again instanceof ConnectError ? item : again;
      }
      return item;
    }
    return { vaultId: vault.id, itemId: item.id, vaultByShape: vault.byShape, itemByShape: item.byShape };
  }

  private async findVault(reference: SecretReference, mode: LocateMode): Promise<Found | ConnectError> {
    if (mode !== 'index' && looksLikeId(reference.vault)) return { id: reference.vault, byShape: true };
    const lookup = (fresh: boolean): Promise<VaultEntry[]> => this.vaultIndex(fresh);
    const matches = await this.lookUp(lookup, mode === 'index', () => this.context.index.isFresh(this.context.id), (entries) =>
      matchByIdThenName(entries, reference.vault, (vault) => vault.name),
    );
    return single(matches, 'vault', reference);
  }

  private async findItem(reference: SecretReference, vaultId: string, mode: LocateMode): Promise<Found | ConnectError> {
    if (mode === 'shape' && looksLikeId(reference.item)) return { id: reference.item, byShape: true };
    const lookup = (fresh: boolean): Promise<ItemEntry[]> => this.itemIndex(vaultId, fresh);
    const matches = await this.lookUp(lookup, mode !== 'shape', () => this.context.index.isFresh(this.context.id, vaultId), (entries) =>
      matchByIdThenName(entries, reference.item, (item) => item.title),
    );
    return single(matches, 'item', reference);
  }

  /** Matches against an index; a miss against a list learnt by an earlier batch reloads it once. */
  private async lookUp<E>(
    load: (fresh: boolean) => Promise<E[]>,
    fresh: boolean,
    isFresh: () => boolean,
    match: (entries: E[]) => E[],
  ): Promise<E[] | ConnectError> {
    try {
      const matches = match(await load(fresh));
      if (matches.length > 0 || fresh || isFresh()) return matches;
      return match(await load(true));
    } catch (error) {
      return normaliseConnectError(error);
    }
  }

  private vaultIndex(fresh: boolean): Promise<VaultEntry[]> {
    const { index, id, bounds } = this.context;
    const load = (): Promise<VaultEntry[]> => this.retried(async (client) => toVaultEntries(await client.listVaults()));
    // The list may be in flight for another batch with a later deadline: wait no longer than ours.
    return withinDeadline(index.vaults(load, id, fresh), bounds);
  }

  private itemIndex(vaultId: string, fresh: boolean): Promise<ItemEntry[]> {
    const { index, id, bounds } = this.context;
    const load = (): Promise<ItemEntry[]> => this.retried(async (client) => toItemEntries(await client.listItems(encodeURIComponent(vaultId))));
    return withinDeadline(index.items(vaultId, load, id, fresh), bounds);
  }

  private async retried<T>(operation: (client: OPConnect) => Promise<T>): Promise<T> {
    const { policy, bounds, gate, connect } = this.context;
    const attempted = await withRetry((signal) => operation(connect(signal)), policy, bounds, gate);
    if (!attempted.ok) throw attempted.error;
    return attempted.value;
  }

  /** One GET per distinct item per batch, whichever references lead to it. */
  private fetchItem(vaultId: string, itemId: string, references: readonly string[]): Promise<Attempted<FullItem>> {
    const key = `${vaultId}/${itemId}`;
    let fetch = this.fetches.get(key);
    if (!fetch) {
      fetch = this.fetchAndReport(vaultId, itemId, references);
      this.fetches.set(key, fetch);
    }
    return fetch;
  }

  private async fetchAndReport(vaultId: string, itemId: string, references: readonly string[]): Promise<Attempted<FullItem>> {
    const { policy, bounds, gate, connect, onFetch } = this.context;
    const started = Date.now();
    const attempted = await withRetry(
      async (signal) => checkedItem(await connect(signal).getItemById(encodeURIComponent(vaultId), encodeURIComponent(itemId))),
      policy,
      bounds,
      gate,
    );
    const event: ItemFetchEvent = attempted.ok
      ? {
          references,
          vaultId: attempted.value.vault?.id ?? vaultId,
          itemId: attempted.value.id ?? itemId,
          itemVersion: attempted.value.version ?? 0,
          latencyMs: Date.now() - started,
          attempts: attempted.attempts,
          outcome: 'success',
        }
      : { references, vaultId, itemId, latencyMs: Date.now() - started, attempts: attempted.attempts, outcome: 'failure', error: attempted.error };
    try {
      onFetch?.(event);
    } catch {
      // An observer's failure must not turn a fetched secret into a missing one.
    }
    return attempted;
  }
}

function record(outcome: ResolveOutcome, reference: SecretReference, item: FullItem, vaultId: string): void {
  const match = selectField(item, reference);
  if (match instanceof ConnectError) {
    outcome.errors.set(reference.key, match);
    return;
  }
  outcome.values.set(reference.key, {
    reference,
    value: match.value,
    vaultId: item.vault?.id ?? vaultId,
    itemId: item.id ?? '',
    itemVersion: item.version ?? 0,
    fieldId: match.fieldId,
  });
}

function single(matches: { id: string }[] | ConnectError, kind: 'vault' | 'item', reference: SecretReference): Found | ConnectError {
  if (matches instanceof ConnectError) return matches;
  if (matches.length === 0) {
    const detail =
      kind === 'vault'
        ? 'no vault with that name or id is accessible with this token'
        : 'the vault has no item with that title or id';
    return new ConnectError('NOT_FOUND', detail, { reference: reference.raw });
  }
  if (matches.length > 1) {
    return new ConnectError('AMBIGUOUS', `${matches.length} ${kind}s match the ${kind} name`, { reference: reference.raw });
  }
  return { id: matches[0]!.id, byShape: false };
}

function groupByItem(placed: readonly Placed[]): Placed[][] {
  const groups = new Map<string, Placed[]>();
  for (const entry of placed) {
    const key = `${entry.location.vaultId}/${entry.location.itemId}`;
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  return [...groups.values()];
}

function sameLocation(a: Location, b: Location): boolean {
  return a.vaultId === b.vaultId && a.itemId === b.itemId;
}

/** A full item as Connect sends it; anything else is a malformed answer, retried like one. */
function checkedItem(item: FullItem | undefined): FullItem {
  if (typeof item?.id !== 'string' || (item.fields !== undefined && !Array.isArray(item.fields))) {
    throw new ConnectError('INVALID_RESPONSE', 'Connect returned a malformed item');
  }
  return item;
}

async function obtainToken(source: string | (() => Promise<string>), bounds: RetryBounds): Promise<string | ConnectError> {
  try {
    const token = typeof source === 'string' ? source : await withinDeadline(source(), bounds);
    if (typeof token !== 'string' || token.length === 0) return new ConnectError('TOKEN_UNAVAILABLE', 'the Connect token is empty');
    return token;
  } catch (error) {
    if (error instanceof ConnectError) return error;
    const cause = new Error(error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 200) : 'token source failed');
    return new ConnectError('TOKEN_UNAVAILABLE', 'the Connect token could not be obtained', { cause });
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

/** A concurrency cap: at most `limit` tasks run; a finishing task hands its slot to the next. */
function createGate(limit: number): Gate {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`ConnectResolver option ${name} must be a positive integer`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`ConnectResolver option ${name} must be a non-negative number`);
  return value;
}
