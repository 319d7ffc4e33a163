/**
 * One `resolve` of ConnectSource: one token, one deadline, one concurrency gate, and one GET per
 * distinct item, whichever references lead to it.
 *
 * A reference by ID costs its item GET and nothing else. A reference by name is located through
 * the title index (vault list once per source, item list once per vault); a 404 or 403 on a
 * location guessed from an ID-shaped segment, or learnt by an earlier resolution, relocates once.
 */
import type { FullItem, OPConnect } from '@1password/connect';
import { withinDeadline, type DeadlineBounds } from '../deadline';
import { ConnectError } from '../errors';
import { looksLikeId, type SecretReference } from '../reference';
import type { FetchReport } from '../source';
import type { Gate } from './concurrency';
import { toConnectError } from './connect-errors';
import { selectField } from './field-selection';
import { exactlyOne, matchByIdThenName } from './match';
import { checkedItem } from './response-checks';
import { withRetry, type Attempted, type RetryPolicy } from './retry';
import { toItemEntries, toVaultEntries, type ItemEntry, type TitleIndex, type VaultEntry } from './title-index';

/** One secret as Connect resolved it. */
export interface ConnectSecret {
  reference: SecretReference;
  value: string;
  vaultId: string;
  itemId: string;
  itemVersion: number;
  fieldId: string;
}

/** Keyed by `SecretReference.key`; every requested reference is in exactly one of the maps. */
export interface ConnectOutcome {
  values: Map<string, ConnectSecret>;
  errors: Map<string, ConnectError>;
  /** Bytes of Connect's answers (bodies) this resolve read, held to `maxBytesPerResolve`. */
  bytesRead: number;
}

export interface ResolutionContext {
  /** Numbers resolutions, so the title index can tell a list learnt by this one from an older one. */
  id: number;
  index: TitleIndex;
  bounds: DeadlineBounds;
  policy: RetryPolicy;
  gate: Gate;
  /** A client whose requests `signal` bounds; `onEarlyAnswer` hears when an answer came from the early start, sent at `startedAt`. */
  connect: (signal: AbortSignal, onEarlyAnswer?: (startedAt: number) => void) => OPConnect;
  onFetch: ((report: FetchReport) => void) | undefined;
}

/** Where a reference points, and whether each id came from the reference's shape or an index. */
interface ItemLocation {
  vaultId: string;
  itemId: string;
  vaultByShape: boolean;
  itemByShape: boolean;
}

/** A reference with the item it points to. */
interface LocatedReference {
  reference: SecretReference;
  location: ItemLocation;
}

/** `shape`: ID-shaped segments are ids; `items`: the item by index; `index`: vault and item by index. */
type LocateMode = 'shape' | 'items' | 'index';

interface Found {
  id: string;
  byShape: boolean;
}

export class Resolution {
  private readonly fetches = new Map<string, Promise<Attempted<FullItem>>>();

  constructor(private readonly context: ResolutionContext) {}

  async resolveAll(references: readonly SecretReference[], outcome: ConnectOutcome): Promise<void> {
    const located: LocatedReference[] = [];
    await Promise.all(
      references.map(async (reference) => {
        const location = await this.locate(reference, 'shape');
        if (location instanceof ConnectError) outcome.errors.set(reference.key, location.forReference(reference.raw));
        else located.push({ reference, location });
      }),
    );
    await Promise.all(groupByItem(located).map((group) => this.settle(group, outcome, true)));
  }

  /** Fetches one item for its references and selects their fields; relocates once on 404/403. */
  private async settle(group: LocatedReference[], outcome: ConnectOutcome, mayRelocate: boolean): Promise<void> {
    const { vaultId, itemId } = group[0]!.location;
    const fetched = await this.fetchItem(vaultId, itemId, group.map((entry) => entry.reference.key));
    if (fetched.ok) {
      for (const { reference } of group) record(outcome, reference, fetched.value, vaultId);
      return;
    }
    const relocated: LocatedReference[] = [];
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
  private relocationMode(location: ItemLocation, error: ConnectError): LocateMode | undefined {
    const { index, id } = this.context;
    const vaultMayBeTitle = location.vaultByShape || !index.isFresh(id);
    if (error.code === 'NOT_FOUND' && (location.itemByShape || !index.isFresh(id, location.vaultId))) return 'items';
    if ((error.code === 'NOT_FOUND' || error.code === 'FORBIDDEN') && vaultMayBeTitle) return 'index';
    return undefined;
  }

  private async locate(reference: SecretReference, mode: LocateMode): Promise<ItemLocation | ConnectError> {
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
    return found(matches, 'vault', reference);
  }

  private async findItem(reference: SecretReference, vaultId: string, mode: LocateMode): Promise<Found | ConnectError> {
    if (mode === 'shape' && looksLikeId(reference.item)) return { id: reference.item, byShape: true };
    const lookup = (fresh: boolean): Promise<ItemEntry[]> => this.itemIndex(vaultId, fresh);
    const matches = await this.lookUp(lookup, mode !== 'shape', () => this.context.index.isFresh(this.context.id, vaultId), (entries) =>
      matchByIdThenName(entries, reference.item, (item) => item.title),
    );
    return found(matches, 'item', reference);
  }

  /** Matches against an index; a miss against a list learnt by an earlier resolution reloads it once. */
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
      return toConnectError(error);
    }
  }

  private vaultIndex(fresh: boolean): Promise<VaultEntry[]> {
    const { index, id, bounds } = this.context;
    const load = (): Promise<VaultEntry[]> => this.retried(async (client) => toVaultEntries(await client.listVaults()));
    // The list may be in flight for another resolution with a later deadline: wait no longer than ours.
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

  /** One GET per distinct item per resolution, whichever references lead to it. */
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
    // From the early start when the answer came from it: that is when the request left.
    let started = bounds.clock();
    const sentEarly = (startedAt: number): void => void (started = Math.min(started, startedAt));
    const attempted = await withRetry(
      async (signal) => checkedItem(await connect(signal, sentEarly).getItemById(encodeURIComponent(vaultId), encodeURIComponent(itemId)), { vaultId, itemId }),
      policy,
      bounds,
      gate,
    );
    const latencyMs = bounds.clock() - started;
    const report: FetchReport = attempted.ok
      ? {
          references,
          vaultId: attempted.value.vault?.id ?? vaultId,
          itemId: attempted.value.id ?? itemId,
          itemVersion: attempted.value.version ?? 0,
          latencyMs,
          attempts: attempted.attempts,
          outcome: 'success',
        }
      : { references, vaultId, itemId, latencyMs, attempts: attempted.attempts, outcome: 'failure', error: attempted.error };
    try {
      onFetch?.(report);
    } catch {
      // An observer's failure must not turn a fetched secret into a missing one.
    }
    return attempted;
  }
}

function record(outcome: ConnectOutcome, reference: SecretReference, item: FullItem, vaultId: string): void {
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

function found(matches: { id: string }[] | ConnectError, kind: 'vault' | 'item', reference: SecretReference): Found | ConnectError {
  if (matches instanceof ConnectError) return matches;
  const match = exactlyOne(matches, {
    none: () =>
      new ConnectError(
        'NOT_FOUND',
        kind === 'vault' ? 'no vault with that name or id is accessible with this token' : 'the vault has no item with that title or id',
        { reference: reference.raw },
      ),
    many: (count) => new ConnectError('AMBIGUOUS', `${count} ${kind}s match the ${kind} name`, { reference: reference.raw }),
  });
  return match instanceof ConnectError ? match : { id: match.id, byShape: false };
}

function groupByItem(located: readonly LocatedReference[]): LocatedReference[][] {
  const groups = new Map<string, LocatedReference[]>();
  for (const entry of located) {
    const key = `${entry.location.vaultId}/${entry.location.itemId}`;
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  return [...groups.values()];
}

function sameLocation(a: ItemLocation, b: ItemLocation): boolean {
  return a.vaultId === b.vaultId && a.itemId === b.itemId;
}
