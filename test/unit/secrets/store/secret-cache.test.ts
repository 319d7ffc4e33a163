import { SecretCache, type CacheListener, type CacheResult } from '../../../../shared/secrets/store/secret-cache';
import type { SecretSource, SourcedSecret, SourceOutcome } from '../../../../shared/secrets/source';
import { ConnectError } from '../../../../shared/secrets/errors';
import { parseReference, type SecretReference } from '../../../../shared/secrets/reference';

/** An in-process stand-in for the Connect source: values and failures by reference key. */
class FakeSource implements SecretSource {
  readonly values = new Map<string, { value: string; itemVersion: number }>();
  readonly failures = new Map<string, ConnectError>();
  /** Where each reference resolves, as the Connect source reports it (none: not reported). */
  readonly locations = new Map<string, { vaultId: string; itemId: string }>();
  readonly calls: string[][] = [];
  /** When set, fetches wait for it before answering. */
  gate?: Promise<void>;

  set(reference: SecretReference, value: string): void {
    const itemVersion = (this.values.get(reference.key)?.itemVersion ?? 0) + 1;
    this.values.set(reference.key, { value, itemVersion });
    this.failures.delete(reference.key);
  }

  fail(reference: SecretReference, error: ConnectError): void {
    this.failures.set(reference.key, error);
  }

  readonly resolve: SecretSource['resolve'] = async (references) => {
    this.calls.push(references.map((reference) => reference.key));
    if (this.gate) await this.gate;
    const outcome: SourceOutcome = { values: new Map(), errors: new Map() };
    for (const reference of references) {
      const failure = this.failures.get(reference.key);
      const found = this.values.get(reference.key);
      if (failure) (outcome.errors as Map<string, ConnectError>).set(reference.key, failure.forReference(reference.raw));
      else if (found) (outcome.values as Map<string, SourcedSecret>).set(reference.key, { ...found, ...this.locations.get(reference.key) });
      else (outcome.errors as Map<string, ConnectError>).set(reference.key, new ConnectError('NOT_FOUND', 'item not found', { status: 404, reference: reference.raw }));
    }
    return outcome;
  };
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const STRIPE = parseReference('op://payments/stripe/credential');
const GITHUB = parseReference('op://payments/github/credential');
const transient = (): ConnectError => new ConnectError('SERVER', 'server error', { status: 503 });
const forbidden = (): ConnectError => new ConnectError('FORBIDDEN', 'vault out of scope', { status: 403 });

let now: number;
let source: FakeSource;
const clock = (): number => now;
const soon = (): number => now + 2000;

function cacheWith(options: Partial<ConstructorParameters<typeof SecretCache>[0]> = {}): SecretCache {
  return new SecretCache({ source, clock, ...options });
}

function valueOf(result: CacheResult | undefined): string | undefined {
  return result?.ok ? result.value : undefined;
}

function errorOf(result: CacheResult | undefined): ConnectError | undefined {
  return result && !result.ok ? result.error : undefined;
}

/** Lets background fetches settle. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

beforeEach(() => {
  now = 1_700_000_000_000;
  source = new FakeSource();
  source.set(STRIPE, 'stripe-v1');
  source.set(GITHUB, 'github-v1');
});

describe('SecretCache', () => {
  it('fetches missing references in one call and serves them from memory afterwards', async () => {
    const cache = cacheWith();
    const first = await cache.get([{ reference: STRIPE }, { reference: GITHUB }], soon());
    expect(valueOf(first.get(STRIPE.key))).toBe('stripe-v1');
    expect(first.get(STRIPE.key)).toMatchObject({ ok: true, fromCache: false, itemVersion: 1 });
    now += 24 * 3600_000;
    const second = await cache.get([{ reference: STRIPE }, { reference: GITHUB }], soon());
    expect(second.get(GITHUB.key)).toMatchObject({ ok: true, value: 'github-v1', fromCache: true });
    expect(source.calls).toEqual([[STRIPE.key, GITHUB.key]]);
  });

  it('shares one fetch between concurrent misses (single flight)', async () => {
    const cache = cacheWith();
    const held = gate();
    source.gate = held.promise;
    const pending = Promise.all([cache.get([{ reference: STRIPE }], soon()), cache.get([{ reference: STRIPE }], soon()), cache.refresh(STRIPE, soon())]);
    held.open();
    const [a, b, forced] = await pending;
    expect([valueOf(a.get(STRIPE.key)), valueOf(b.get(STRIPE.key)), valueOf(forced)]).toEqual(['stripe-v1', 'stripe-v1', 'stripe-v1']);
    // The forced refresh needs a fetch of its own; the two misses share one.
    expect(source.calls).toHaveLength(2);
  });

  it('refreshes ahead past ttlMs: serves the cached value and fetches once in the background', async () => {
    const listener = { refreshed: jest.fn() };
    const cache = cacheWith({ ttlMs: 60_000, listener });
    await cache.get([{ reference: STRIPE }], soon());
    source.set(STRIPE, 'stripe-v2');
    now += 61_000;
    const held = gate();
    source.gate = held.promise;
    const during = await cache.get([{ reference: STRIPE }], soon());
    const again = await cache.get([{ reference: STRIPE }], soon());
    expect(valueOf(during.get(STRIPE.key))).toBe('stripe-v1');
    expect(valueOf(again.get(STRIPE.key))).toBe('stripe-v1');
    expect(source.calls).toHaveLength(2);
    held.open();
    await flush();
    const after = await cache.get([{ reference: STRIPE }], soon());
    expect(after.get(STRIPE.key)).toMatchObject({ value: 'stripe-v2', itemVersion: 2, fromCache: true });
    expect(listener.refreshed).toHaveBeenCalledWith(STRIPE, { previousItemVersion: 1, itemVersion: 2, changed: true });
  });

  it('serves the last good value when a refresh fails transiently, then fails past maxStaleMs', async () => {
    const listener = { stale: jest.fn(), failed: jest.fn() } satisfies CacheListener;
    const cache = cacheWith({ ttlMs: 60_000, maxStaleMs: 30_000, listener });
    await cache.get([{ reference: STRIPE }], soon());
    source.fail(STRIPE, transient());
    now += 61_000;
    expect(valueOf((await cache.get([{ reference: STRIPE }], soon())).get(STRIPE.key))).toBe('stripe-v1');
    await flush();
    expect(listener.failed).toHaveBeenCalledWith(STRIPE, expect.objectContaining({ servingStale: true }));
    expect(listener.stale).toHaveBeenCalledWith(STRIPE, expect.objectContaining({ ageMs: 61_000 }));
    expect(valueOf((await cache.get([{ reference: STRIPE }], soon())).get(STRIPE.key))).toBe('stripe-v1');

    now += 30_000; // 91 s old: past ttlMs + maxStaleMs
    const expired = await cache.get([{ reference: STRIPE }], soon());
    expect(errorOf(expired.get(STRIPE.key))?.code).toBe('SERVER');
    expect(cache.state(STRIPE.key)).toEqual({ ready: false });
  });

  it('backs off after a failed background refresh instead of refetching on every call', async () => {
    const cache = cacheWith({ ttlMs: 1000 });
    await cache.get([{ reference: STRIPE }], soon());
    source.fail(STRIPE, transient());
    now += 1500;
    await cache.get([{ reference: STRIPE }], soon());
    await flush();
    for (let call = 0; call < 10; call++) await cache.get([{ reference: STRIPE }], soon());
    expect(source.calls).toHaveLength(2);
    now += 1000; // first backoff elapsed
    await cache.get([{ reference: STRIPE }], soon());
    expect(source.calls).toHaveLength(3);
  });

  it('remembers permanent failures for a doubling backoff capped at maxFailureBackoffMs', async () => {
    source.fail(STRIPE, forbidden());
    const cache = cacheWith({ failureBackoffMs: 1000, maxFailureBackoffMs: 4000 });
    const first = (await cache.get([{ reference: STRIPE }], soon())).get(STRIPE.key);
    expect(errorOf(first)?.code).toBe('FORBIDDEN');
    expect(first).toMatchObject({ retryAfterMs: 1000 });
    const requestsAt = (offsetMs: number): Promise<number> =>
      (async () => {
        now += offsetMs;
        await cache.get([{ reference: STRIPE }], soon());
        return source.calls.length;
      })();
    expect(await requestsAt(999)).toBe(1); // held for 1 s
    expect(await requestsAt(1)).toBe(2); // then 2 s
    expect(await requestsAt(1999)).toBe(2);
    expect(await requestsAt(1)).toBe(3); // then 4 s
    expect(await requestsAt(3999)).toBe(3);
    expect(await requestsAt(1)).toBe(4); // capped: 4 s again
    expect(await requestsAt(3999)).toBe(4);
    expect(await requestsAt(1)).toBe(5);
    source.set(STRIPE, 'granted');
    now += 4000;
    expect(valueOf((await cache.get([{ reference: STRIPE }], soon())).get(STRIPE.key))).toBe('granted');
  });

  it('drops a cached value when a refresh fails permanently', async () => {
    const cache = cacheWith();
    await cache.get([{ reference: STRIPE }], soon());
    source.fail(STRIPE, forbidden());
    const refreshed = await cache.refresh(STRIPE, soon());
    expect(errorOf(refreshed)?.code).toBe('FORBIDDEN');
    expect(errorOf((await cache.get([{ reference: STRIPE }], soon())).get(STRIPE.key))?.code).toBe('FORBIDDEN');
  });

  it('treats a token outage as transient: the stale value is served and the next call retries', async () => {
    const outage = new ConnectError('TOKEN_UNAVAILABLE', 'Secrets Manager unreachable', { retryable: true });
    const cache = cacheWith({ ttlMs: 1000 });
    await cache.get([{ reference: STRIPE }], soon());
    source.fail(STRIPE, outage);
    now += 1500;
    const forced = await cache.refresh(STRIPE, soon());
    expect(forced).toMatchObject({ ok: false, retryAfterMs: 0 });
    expect(errorOf(forced)).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: true });
    expect(cache.state(STRIPE.key)).toMatchObject({ ready: true });
    expect(valueOf((await cache.get([{ reference: STRIPE }], soon())).get(STRIPE.key))).toBe('stripe-v1');
    source.set(STRIPE, 'stripe-v2');
    now += 1000; // the refresh's backoff has passed
    await cache.get([{ reference: STRIPE }], soon());
    await flush();
    expect(valueOf((await cache.get([{ reference: STRIPE }], soon())).get(STRIPE.key))).toBe('stripe-v2');
  });

  it('treats a token that cannot exist (a missing token secret) as permanent: the value is dropped', async () => {
    const missing = new ConnectError('TOKEN_UNAVAILABLE', 'the Connect token secret does not exist', { retryable: false });
    const cache = cacheWith({ ttlMs: 1000 });
    await cache.get([{ reference: STRIPE }], soon());
    source.fail(STRIPE, missing);
    now += 1500;
    expect(errorOf(await cache.refresh(STRIPE, soon()))).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: false });
    expect(cache.state(STRIPE.key)).toEqual({ ready: false });
  });

  it('holds a transient failure of a required secret for its short backoff, an optional one for the long one', async () => {
    source.fail(STRIPE, transient());
    source.fail(GITHUB, transient());
    const cache = cacheWith({ failureBackoffMs: 4000 });
    const requests = [{ reference: STRIPE }, { reference: GITHUB, optional: true }];
    for (let failures = 0; failures < 2; failures++) {
      await cache.get(requests, soon());
      now += 5000; // the required secret's hold, capped at 5 s; the optional one's is 4 s, then 8 s
    }
    expect(source.calls).toEqual([[STRIPE.key, GITHUB.key], [STRIPE.key, GITHUB.key]]);
    await cache.get(requests, soon());
    expect(source.calls.at(-1)).toEqual([STRIPE.key]);
    source.set(STRIPE, 'back');
    now += 5000;
    expect(valueOf((await cache.get(requests, soon())).get(STRIPE.key))).toBe('back');
  });

  it("honours the server's Retry-After before fetching again", async () => {
    source.fail(STRIPE, new ConnectError('RATE_LIMITED', 'too many requests', { status: 429, retryAfterMs: 5000 }));
    const cache = cacheWith();
    await cache.get([{ reference: STRIPE }], soon());
    now += 4000;
    const held = (await cache.get([{ reference: STRIPE }], soon())).get(STRIPE.key);
    expect(held).toMatchObject({ ok: false, retryAfterMs: 1000 });
    expect(source.calls).toHaveLength(1);
    now += 1000;
    await cache.get([{ reference: STRIPE }], soon());
    expect(source.calls).toHaveLength(2);
  });

  it('stops waiting at the deadline, keeps the fetch shared while it lives, and abandons it after', async () => {
    const cache = cacheWith();
    source.gate = new Promise<void>(() => undefined); // never answers
    const result = (await cache.get([{ reference: STRIPE }], now + 30)).get(STRIPE.key);
    expect(errorOf(result)?.code).toBe('TIMEOUT');
    expect(errorOf(result)?.retryable).toBe(true);
    await cache.get([{ reference: STRIPE }], now + 10);
    expect(source.calls).toHaveLength(1);
    now += 5000; // the first fetch is long past its deadline: treat it as lost
    source.gate = undefined;
    expect(valueOf((await cache.get([{ reference: STRIPE }], soon())).get(STRIPE.key))).toBe('stripe-v1');
    expect(source.calls).toHaveLength(2);
  });

  it('ignores an older fetch that lands after a newer one', async () => {
    const cache = cacheWith();
    const slow = gate();
    source.gate = slow.promise;
    const old = cache.get([{ reference: STRIPE }], now + 30); // the stale fetch, which lands last
    await old;
    source.gate = undefined;
    source.set(STRIPE, 'stripe-v2');
    now += 5000;
    await cache.get([{ reference: STRIPE }], soon());
    source.values.set(STRIPE.key, { value: 'stripe-old', itemVersion: 1 });
    slow.open();
    await flush();
    expect(valueOf((await cache.get([{ reference: STRIPE }], soon())).get(STRIPE.key))).toBe('stripe-v2');
  });

  it('refresh() fetches even a fresh value and reports the new one', async () => {
    const cache = cacheWith();
    await cache.get([{ reference: STRIPE }], soon());
    source.set(STRIPE, 'rotated');
    expect(await cache.refresh(STRIPE, soon())).toMatchObject({ ok: true, value: 'rotated', itemVersion: 2 });
    expect(cache.state(STRIPE.key)).toMatchObject({ ready: true, itemVersion: 2 });
  });

  it('refresh() rejects rather than return the old value when the refresh fails transiently', async () => {
    const cache = cacheWith();
    await cache.get([{ reference: STRIPE }], soon());
    source.fail(STRIPE, transient());
    expect(errorOf(await cache.refresh(STRIPE, soon()))?.code).toBe('SERVER');
    expect(valueOf((await cache.get([{ reference: STRIPE }], soon())).get(STRIPE.key))).toBe('stripe-v1');
  });

  it('refresh() answers a permanent failure in backoff without a request', async () => {
    source.fail(STRIPE, forbidden());
    const cache = cacheWith();
    await cache.get([{ reference: STRIPE }], soon());
    expect(errorOf(await cache.refresh(STRIPE, soon()))?.code).toBe('FORBIDDEN');
    expect(source.calls).toHaveLength(1);
  });

  it('prefetch() starts the fetch that a later get() joins; a failed prefetch is held for its backoff only', async () => {
    const cache = cacheWith();
    source.fail(STRIPE, transient());
    cache.prefetch([{ reference: STRIPE }, { reference: GITHUB }], soon());
    cache.prefetch([{ reference: STRIPE }, { reference: GITHUB }], soon());
    const joined = await cache.get([{ reference: GITHUB }], soon());
    expect(valueOf(joined.get(GITHUB.key))).toBe('github-v1');
    expect(source.calls).toHaveLength(1);
    source.set(STRIPE, 'recovered');
    expect((await cache.get([{ reference: STRIPE }], soon())).get(STRIPE.key)).toMatchObject({ ok: false, retryAfterMs: 1000 });
    expect(source.calls).toHaveLength(1);
    now += 1000;
    expect(valueOf((await cache.get([{ reference: STRIPE }], soon())).get(STRIPE.key))).toBe('recovered');
  });

  it('wraps a fetcher that throws into a transient failure for every reference', async () => {
    const cache = new SecretCache({ source: { resolve: () => Promise.reject(new Error('boom')) }, clock });
    const results = await cache.get([{ reference: STRIPE }, { reference: GITHUB }], soon());
    expect(errorOf(results.get(STRIPE.key))).toMatchObject({ code: 'NETWORK', retryable: true, reference: STRIPE.raw });
    expect(errorOf(results.get(GITHUB.key))?.reference).toBe(GITHUB.raw);
  });

  it('keeps working when a listener throws', async () => {
    const cache = cacheWith({
      listener: {
        failed: () => {
          throw new Error('sink down');
        },
      },
    });
    source.fail(STRIPE, transient());
    expect(errorOf((await cache.get([{ reference: STRIPE }], soon())).get(STRIPE.key))?.code).toBe('SERVER');
  });

  it('snapshot() says how long its answer holds', async () => {
    const cache = cacheWith({ ttlMs: 10_000 });
    const requests = [{ reference: STRIPE }, { reference: GITHUB, optional: true }];
    expect(cache.snapshot(requests).validUntil).toBe(-Infinity);
    source.fail(GITHUB, forbidden());
    await cache.get(requests, soon());
    const snapshot = cache.snapshot(requests);
    expect(snapshot.values.get(STRIPE.key)).toBe('stripe-v1');
    expect(snapshot.values.get(GITHUB.key)).toBeUndefined();
    expect(snapshot.validUntil).toBe(now + 1000); // the optional secret's backoff ends first
    expect(snapshot.version).toBe(cache.version);
    expect(cacheWith().snapshot([]).validUntil).toBe(Infinity);
  });

  it('clear() forgets everything', async () => {
    const cache = cacheWith();
    await cache.get([{ reference: STRIPE }], soon());
    const version = cache.version;
    cache.clear();
    expect(cache.version).not.toBe(version);
    expect(cache.state(STRIPE.key)).toEqual({ ready: false });
    await cache.get([{ reference: STRIPE }], soon());
    expect(source.calls).toHaveLength(2);
  });

  it('rejects nonsensical options', () => {
    expect(() => cacheWith({ ttlMs: 0 })).toThrow(/ttlMs/);
    expect(() => cacheWith({ maxStaleMs: -1 })).toThrow(/maxStaleMs/);
    expect(() => cacheWith({ failureBackoffMs: 5000, maxFailureBackoffMs: 1000 })).toThrow(/maxFailureBackoffMs/);
  });
});

describe('SecretCache: a required secret failing transiently with no usable value', () => {
  /** Calls get() for STRIPE `offsetMs` later; answers the result and the fetches so far. */
  async function getAfter(cache: SecretCache, offsetMs: number): Promise<{ result: CacheResult | undefined; calls: number }> {
    now += offsetMs;
    const result = (await cache.get([{ reference: STRIPE }], soon())).get(STRIPE.key);
    return { result, calls: source.calls.length };
  }

  it('is held for failureBackoffMs: no fetch meanwhile, and retryAfterMs is what is left of the hold', async () => {
    source.fail(STRIPE, transient());
    const listener = { failed: jest.fn() } satisfies CacheListener;
    const cache = cacheWith({ listener });
    expect(await getAfter(cache, 0)).toMatchObject({ result: { ok: false, retryAfterMs: 1000 }, calls: 1 });
    expect(listener.failed).toHaveBeenCalledWith(STRIPE, expect.objectContaining({ servingStale: false, retryAfterMs: 1000 }));
    const held = await getAfter(cache, 300);
    expect(held).toMatchObject({ result: { ok: false, retryAfterMs: 700 }, calls: 1 });
    expect(errorOf(held.result)).toMatchObject({ code: 'SERVER', retryable: true });
    expect(await getAfter(cache, 699)).toMatchObject({ result: { ok: false, retryAfterMs: 1 }, calls: 1 });
    expect(cache.snapshot([{ reference: STRIPE }]).validUntil).toBe(-Infinity); // the middleware asks the cache each time
    expect(await getAfter(cache, 1)).toMatchObject({ calls: 2 });
  });

  it('doubles with each consecutive failure up to 5 s, or to maxFailureBackoffMs when that is lower', async () => {
    source.fail(STRIPE, transient());
    const byDefault = cacheWith();
    const holds: number[] = [];
    for (let failure = 0; failure < 5; failure++) {
      const { result } = await getAfter(byDefault, holds.at(-1) ?? 0);
      holds.push(result && !result.ok ? result.retryAfterMs : Number.NaN);
    }
    expect(holds).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(source.calls).toHaveLength(5);

    const lowCap = cacheWith({ failureBackoffMs: 1000, maxFailureBackoffMs: 3000 });
    expect((await getAfter(lowCap, 0)).result).toMatchObject({ retryAfterMs: 1000 });
    expect((await getAfter(lowCap, 1000)).result).toMatchObject({ retryAfterMs: 2000 });
    expect((await getAfter(lowCap, 2000)).result).toMatchObject({ retryAfterMs: 3000 });
  });

  it("is held for Connect's Retry-After when that is longer than the backoff", async () => {
    source.fail(STRIPE, new ConnectError('RATE_LIMITED', 'too many requests', { status: 429, retryAfterMs: 3000 }));
    const cache = cacheWith();
    expect(await getAfter(cache, 0)).toMatchObject({ result: { ok: false, retryAfterMs: 3000 }, calls: 1 });
    expect(await getAfter(cache, 2999)).toMatchObject({ result: { ok: false, retryAfterMs: 1 }, calls: 1 });
    expect(await getAfter(cache, 1)).toMatchObject({ calls: 2 });
  });

  it('starts again from failureBackoffMs after a success', async () => {
    source.fail(STRIPE, transient());
    const cache = cacheWith({ ttlMs: 60_000, maxStaleMs: 0 });
    await getAfter(cache, 0);
    await getAfter(cache, 1000);
    expect((await getAfter(cache, 2000)).result).toMatchObject({ retryAfterMs: 4000 });
    source.set(STRIPE, 'back');
    expect(valueOf((await getAfter(cache, 4000)).result)).toBe('back');
    source.fail(STRIPE, transient());
    expect(await getAfter(cache, 60_000)).toMatchObject({ result: { ok: false, retryAfterMs: 1000 }, calls: 5 });
  });

  it('leaves a value still served alone: stale-if-error as before, a refresh may ask again at once', async () => {
    const listener = { failed: jest.fn() } satisfies CacheListener;
    const cache = cacheWith({ ttlMs: 1000, listener });
    await getAfter(cache, 0);
    source.fail(STRIPE, transient());
    expect(valueOf((await getAfter(cache, 1500)).result)).toBe('stripe-v1');
    await flush();
    expect(listener.failed).toHaveBeenCalledWith(STRIPE, expect.objectContaining({ servingStale: true, retryAfterMs: 0 }));
    const forced = await cache.refresh(STRIPE, soon());
    expect(forced).toMatchObject({ ok: false, retryAfterMs: 0 });
    expect(source.calls).toHaveLength(3);
    expect(valueOf((await getAfter(cache, 0)).result)).toBe('stripe-v1');
  });

  it('does not hold back a forced refresh', async () => {
    source.fail(STRIPE, transient());
    const cache = cacheWith();
    await getAfter(cache, 0);
    source.set(STRIPE, 'rotated');
    expect(await cache.refresh(STRIPE, soon())).toMatchObject({ ok: true, value: 'rotated' });
    expect(source.calls).toHaveLength(2);
  });
});

describe('SecretCache.refresh: whole items', () => {
  const VAULT_ID = 'v4u1t000000000000000000000';
  const STRIPE_ITEM_ID = 'str1pe00000000000000000000';
  const STRIPE_PREVIOUS = parseReference('op://Payments/STRIPE/previous');
  const STRIPE_BY_ID = parseReference(`op://${VAULT_ID}/${STRIPE_ITEM_ID}/username`);
  const DATABASE = parseReference('op://payments/database/url');

  beforeEach(() => {
    source.set(STRIPE_PREVIOUS, 'stripe-previous-v1');
    source.set(STRIPE_BY_ID, 'stripe-user-v1');
    source.set(DATABASE, 'database-v1');
  });

  function locate(...references: SecretReference[]): void {
    for (const reference of references) source.locations.set(reference.key, { vaultId: VAULT_ID, itemId: STRIPE_ITEM_ID });
  }

  it('takes along the candidates named with the same vault and item, case-insensitively, when none was resolved yet', async () => {
    const cache = cacheWith();
    const result = await cache.refresh(STRIPE, soon(), [STRIPE, STRIPE_PREVIOUS, GITHUB, DATABASE]);
    expect(result).toMatchObject({ ok: true, value: 'stripe-v1' });
    expect(source.calls).toEqual([[STRIPE.key, STRIPE_PREVIOUS.key]]);
    expect(cache.state(STRIPE_PREVIOUS.key)).toMatchObject({ ready: true });
  });

  it('recognises item mates by the ids they resolved to, however they are written', async () => {
    locate(STRIPE, STRIPE_PREVIOUS, STRIPE_BY_ID);
    const cache = cacheWith();
    const all = [STRIPE, STRIPE_PREVIOUS, STRIPE_BY_ID, GITHUB, DATABASE];
    await cache.get(all.map((reference) => ({ reference })), soon());
    source.calls.length = 0;
    await cache.refresh(STRIPE_BY_ID, soon(), all);
    expect(source.calls).toEqual([[STRIPE_BY_ID.key, STRIPE.key, STRIPE_PREVIOUS.key]]);
  });

  it('matches a reference by id against a resolved mate before the id-written one was ever resolved', async () => {
    locate(STRIPE);
    const cache = cacheWith();
    await cache.get([{ reference: STRIPE }], soon());
    source.calls.length = 0;
    await cache.refresh(STRIPE, soon(), [STRIPE, STRIPE_BY_ID, DATABASE]);
    expect(source.calls).toEqual([[STRIPE.key, STRIPE_BY_ID.key]]);
  });

  it('trusts resolved ids over names: same-looking names in different items stay apart', async () => {
    source.locations.set(STRIPE.key, { vaultId: VAULT_ID, itemId: STRIPE_ITEM_ID });
    source.locations.set(STRIPE_PREVIOUS.key, { vaultId: VAULT_ID, itemId: 'an0ther1tem000000000000000' });
    const cache = cacheWith();
    await cache.get([{ reference: STRIPE }, { reference: STRIPE_PREVIOUS }], soon());
    source.calls.length = 0;
    await cache.refresh(STRIPE, soon(), [STRIPE, STRIPE_PREVIOUS]);
    expect(source.calls).toEqual([[STRIPE.key]]);
  });

  it('leaves out an item mate whose permanent failure is still in its backoff', async () => {
    source.fail(STRIPE_PREVIOUS, new ConnectError('FIELD_NOT_FOUND', 'no such field'));
    const cache = cacheWith();
    await cache.get([{ reference: STRIPE }, { reference: STRIPE_PREVIOUS, optional: true }], soon());
    source.calls.length = 0;
    await cache.refresh(STRIPE, soon(), [STRIPE, STRIPE_PREVIOUS]);
    expect(source.calls).toEqual([[STRIPE.key]]);
  });

  it('refreshes several references in one fetch and answers each by key', async () => {
    const cache = cacheWith();
    source.fail(GITHUB, forbidden());
    const results = await cache.refresh([STRIPE, GITHUB, DATABASE], soon(), [STRIPE_PREVIOUS]);
    expect(source.calls).toEqual([[STRIPE.key, GITHUB.key, DATABASE.key, STRIPE_PREVIOUS.key]]);
    expect(valueOf(results.get(STRIPE.key))).toBe('stripe-v1');
    expect(valueOf(results.get(DATABASE.key))).toBe('database-v1');
    expect(errorOf(results.get(GITHUB.key))?.code).toBe('FORBIDDEN');
    expect(results.size).toBe(3);
  });

  it('joins a forced fetch that already carries a reference as an item mate', async () => {
    const cache = cacheWith();
    const held = gate();
    source.gate = held.promise;
    const candidates = [STRIPE, STRIPE_PREVIOUS];
    const both = Promise.all([cache.refresh(STRIPE, soon(), candidates), cache.refresh(STRIPE_PREVIOUS, soon(), candidates)]);
    held.open();
    expect((await both).map(valueOf)).toEqual(['stripe-v1', 'stripe-previous-v1']);
    expect(source.calls).toEqual([[STRIPE.key, STRIPE_PREVIOUS.key]]);
  });

  it('answers a refresh of only held references without a fetch', async () => {
    source.fail(GITHUB, forbidden());
    const cache = cacheWith();
    await cache.get([{ reference: GITHUB }], soon());
    source.calls.length = 0;
    const results = await cache.refresh([GITHUB], soon());
    expect(errorOf(results.get(GITHUB.key))?.code).toBe('FORBIDDEN');
    expect(source.calls).toEqual([]);
  });
});
