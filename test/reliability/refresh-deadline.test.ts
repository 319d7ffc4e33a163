/**
 * Regression found by the fault matrix ("Connect slower than the deadline" at refresh): a forced
 * refresh whose fetch was still running at the deadline answered with the cached value it was
 * meant to replace, so the payments function retried with the key the provider had just refused
 * (502) instead of answering 503 with Retry-After. Deterministic here: the fetch never settles.
 */
import { SecretCache } from '../../shared/secrets/store/secret-cache';
import type { SecretSource } from '../../shared/secrets/source';
import { parseReference } from '../../shared/secrets/reference';

const KEY = parseReference('op://payments/payments-api/credential');

test('refresh() past its deadline is a TIMEOUT, never the value being replaced', async () => {
  let fetches = 0;
  const source: SecretSource = {
    resolve: () => {
      fetches += 1;
      if (fetches === 1) return Promise.resolve({ values: new Map([[KEY.key, { value: 'old-key', itemVersion: 1 }]]), errors: new Map() });
      return new Promise(() => undefined);
    },
  };
  const cache = new SecretCache({ source });
  expect((await cache.get([{ reference: KEY }], Date.now() + 1000)).get(KEY.key)).toMatchObject({ ok: true, value: 'old-key' });

  const refreshed = await cache.refresh(KEY, Date.now() + 50);

  expect(refreshed.ok).toBe(false);
  expect(refreshed.ok ? undefined : refreshed.error.code).toBe('TIMEOUT');
  // The old value still serves ordinary reads (stale-if-error is the cache's business, not refresh's).
  expect((await cache.get([{ reference: KEY }], Date.now() + 1000)).get(KEY.key)).toMatchObject({ ok: true, value: 'old-key' });
});
