/**
 * Thundering herd: twenty requests cold-start up to twenty Health containers at the same moment against a Connect server
 * that rate-limits the burst (429, with and without Retry-After). Every request must end in 200 or
 * in a clean 503 with Retry-After within its deadline, no container may crash, and Connect must
 * see no more than
 *
 *   requests (each at most one cold start) × requests per cold start × attempts = 20 × 3 × 4 = 240
 *
 * (a cold start of Health is a vault list, an item list and one item GET, each tried at most 4
 * times). Afterwards every container answers 200 without a new cold start.
 */
import { coldStartCost } from '../../local/load/cost-model';
import type { FaultSpec } from '../../local/connect/server';
import { CONNECT_MAX_ATTEMPTS } from '../../local/load/invariants';
import { collectSecretValues, expectNoLeaks } from '../helpers/leak-scan';
import { startReliabilityApi, vaultOf } from './support/api';
import { expectSecretsUnavailable, HEALTH, invokeOf, reportFigures } from './support/observe';
import { synthesizedStage } from './support/stage';

const CONTAINERS = 20;
/** The middleware's wait (5 s) with a margin, under the 10 s Lambda timeout; measured on each invoke. */
const ANSWER_BOUND_MS = 8000;
const HEALTH_COST = coldStartCost([`op://${vaultOf('database')}/database/connection/url`]);
const REQUEST_BOUND = CONTAINERS * (HEALTH_COST.items + HEALTH_COST.indexes) * CONNECT_MAX_ATTEMPTS;

const scenarios: [string, FaultSpec, number][] = [
  ['the first 30 requests get 429 with Retry-After: 1', { kind: 'status', status: 429, retryAfter: '1' }, 30],
  ['the first 40 requests get 429 without Retry-After', { kind: 'status', status: 429 }, 40],
];

test('the bound is what the comment says', () => {
  expect(REQUEST_BOUND).toBe(240);
});

test.each(scenarios)('%s', async (label, spec, times) => {
  const api = await startReliabilityApi({ stage: await synthesizedStage('staging'), maxContainersPerFunction: CONTAINERS });
  try {
    api.connect().addFault({ spec, times });
    const herd = await Promise.all(Array.from({ length: CONTAINERS }, () => api.send(HEALTH)));

    // Up to one container per request: on two cores a container can finish before the last request
    // arrives and take it warm, so the herd is at most, not exactly, CONTAINERS strong.
    const coldStarts = api.gateway.stats()['Health']!.coldStarts;
    expect(coldStarts).toBeGreaterThan(1);
    expect(coldStarts).toBeLessThanOrEqual(CONTAINERS);
    expect(api.gateway.stats()['Health']).toMatchObject({ errors: 0 });
    for (const exchange of herd) {
      const invoke = invokeOf(api.gateway, exchange);
      expect(invoke?.outcome).toBe('success');
      expect(invoke!.durationMs).toBeLessThan(ANSWER_BOUND_MS);
      if (exchange.status !== 200) expectSecretsUnavailable(exchange, Number(exchange.headers['retry-after']));
    }
    const connectRequests = api.connect().requests.length;
    expect(connectRequests).toBeLessThanOrEqual(REQUEST_BOUND);
    expect(api.connect().countRequests()).toBeGreaterThanOrEqual(times);

    // The herd has passed: the containers, including those that answered 503, now answer 200. As
    // many requests as containers always find one idle, so none of them is a new cold start.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const after = await Promise.all(Array.from({ length: coldStarts }, () => api.send(HEALTH)));
    expect(after.map((exchange) => exchange.status)).toEqual(Array(coldStarts).fill(200));
    expect(api.gateway.stats()['Health']).toMatchObject({ coldStarts, errors: 0 });
    expectNoLeaks({ responses: [...herd, ...after].map((exchange) => exchange.body), logs: api.logs().map((line) => line.text) }, collectSecretValues());

    const ok = herd.filter((exchange) => exchange.status === 200).length;
    reportFigures({
      herd: label,
      ok,
      unavailable: CONTAINERS - ok,
      connectRequests,
      bound: REQUEST_BOUND,
      slowestMs: Math.round(Math.max(...herd.map((exchange) => exchange.durationMs))),
    });
  } finally {
    await api.close();
  }
}, 180_000);
