// Connect's API activity log (`GET /v1/activity`): one APIRequest per item read or write.
import { randomUUID } from 'node:crypto';
import type { TokenGrant } from './auth';
import { deriveId } from './ids';

export type ActivityAction = 'READ' | 'CREATE' | 'UPDATE' | 'DELETE';
export type ActivityResult = 'SUCCESS' | 'DENY';

export interface ApiRequestJson {
  requestId: string;
  timestamp: string;
  action: ActivityAction;
  result: ActivityResult;
  actor: { id: string; account: string; jti: string; userAgent: string; requestIp: string };
  resource: {
    type: 'ITEM' | 'VAULT';
    vault: { id: string };
    item?: { id: string };
    itemVersion?: number;
  };
}

export interface ActivityEvent {
  action: ActivityAction;
  result: ActivityResult;
  vaultId: string;
  itemId?: string;
  itemVersion?: number;
}

export interface RequestOrigin {
  userAgent: string;
  requestIp: string;
}

/** The (local, made-up) 1Password account every token belongs to. */
export const LOCAL_ACCOUNT_ID = deriveId('account', 'op-lambda-local').toUpperCase();

/** An entry of any shape, as a compromised or impersonated Connect server could serve it. */
export type InjectedActivityJson = Readonly<Record<string, unknown>>;

export class ActivityLog {
  private readonly entries: (ApiRequestJson | InjectedActivityJson)[] = [];

  record(grant: TokenGrant, origin: RequestOrigin, event: ActivityEvent, now: Date = new Date()): void {
    this.entries.push({
      requestId: randomUUID(),
      timestamp: now.toISOString(),
      action: event.action,
      result: event.result,
      actor: { id: grant.actorId, account: LOCAL_ACCOUNT_ID, jti: grant.jti, ...origin },
      resource: {
        type: event.itemId ? 'ITEM' : 'VAULT',
        vault: { id: event.vaultId },
        ...(event.itemId ? { item: { id: event.itemId } } : {}),
        ...(event.itemVersion !== undefined ? { itemVersion: event.itemVersion } : {}),
      },
    });
  }

  /** Appends an entry as is, for tests of what reads the log. */
  inject(entry: InjectedActivityJson): void {
    this.entries.push(structuredClone(entry));
  }

  get size(): number {
    return this.entries.length;
  }

  /** Oldest first, so that paging with `offset` is stable while new requests arrive. */
  page(offset: number, limit: number): (ApiRequestJson | InjectedActivityJson)[] {
    return structuredClone(this.entries.slice(offset, offset + limit));
  }
}
