/**
 * How old a cached value may be. Values live for the container's lifetime unless `ttlMs` is set;
 * past `ttlMs` a value is still served while a refresh runs in the background of the invocation
 * that noticed it (refresh-ahead; no timers, so nothing runs while the container is frozen). A
 * refresh that fails transiently keeps the last good value for up to `maxStaleMs` past `ttlMs`
 * (stale-if-error).
 */
import { nonNegativeMs, positiveMs } from '../durations';
import type { Entry } from './entry';

export type Age = 'fresh' | 'stale' | 'expired';

export class Freshness {
  readonly ttlMs: number;
  readonly maxStaleMs: number;

  constructor(options: { ttlMs?: number; maxStaleMs?: number }) {
    this.ttlMs = positiveMs('ttlMs', options.ttlMs ?? Infinity);
    this.maxStaleMs = nonNegativeMs('maxStaleMs', options.maxStaleMs ?? Infinity);
  }

  /** fresh: serve; stale: serve and refresh; expired (or no value): fetch. */
  age(entry: Entry, now: number): Age {
    if (entry.value === undefined) return 'expired';
    const ageMs = now - entry.fetchedAt;
    if (ageMs < this.ttlMs) return 'fresh';
    return ageMs < this.ttlMs + this.maxStaleMs ? 'stale' : 'expired';
  }

  /** Whether the entry has a value that may still be served. */
  isUsable(entry: Entry, now: number): entry is Entry & { value: string } {
    return entry.value !== undefined && now - entry.fetchedAt < this.ttlMs + this.maxStaleMs;
  }

  /** When a usable entry turns stale. */
  freshUntil(entry: Entry): number {
    return entry.fetchedAt + this.ttlMs;
  }
}
