/**
 * The load scenario of `npm run loadtest`, small: concurrent requests over every route, a Connect
 * outage and its recovery. Asserts the scenario's invariants (never its timings): no errors while
 * Connect is up, Connect requests explained by cold starts alone, cached answers and clean 503s
 * during the outage, full recovery afterwards.
 */
import { runLoadScenario, type LoadReport } from '../../local/load/scenario';
import { collectSecretValues, expectNoLeaks } from '../helpers/leak-scan';
import { synthesizedStage } from './support/stage';

let report: LoadReport;
const printed: string[] = [];
const answered: string[] = [];

beforeAll(async () => {
  const stage = await synthesizedStage('staging');
  report = await runLoadScenario({
    cdkOut: stage.cdkOut,
    stackName: stage.stackName,
    clients: 8,
    containersPerFunction: 3,
    requests: { steady: 160, outage: 80, recovery: 80 },
    onLog: (line) => printed.push(line.text),
    onExchange: (exchange) => answered.push(exchange.body),
  });
}, 180_000);

test('every phase ran its requests', () => {
  expect(report.phases.map((phase) => [phase.name, phase.figures.requests])).toEqual([
    ['steady', 160],
    ['outage', 80],
    ['recovery', 80],
  ]);
});

test('the steady phase used several containers per function', () => {
  const steady = report.phases[0]!;
  for (const name of ['Health', 'Webhooks', 'Payments']) expect(steady.coldStarts[name]).toBeGreaterThan(1);
});

test.each([
  'steady: every request succeeded',
  'steady: Connect item GETs = Σ cold starts × distinct items',
  'steady: Connect index GETs = Σ cold starts × index lists',
  'steady: warm invokes made no Connect request',
  'outage: containers with cached secrets answer from the cache',
  'outage: containers born in the outage answer 503 with Retry-After',
  'outage: every request reached a function',
  'outage: Connect requests ≤ 4 attempts × invokes without secrets',
  'recovery: every request succeeded',
  'recovery: Connect item GETs = Σ containers without secrets × distinct items',
  'recovery: Connect index GETs = Σ containers without secrets × index lists',
])('%s', (name) => {
  const invariant = report.invariants.find((candidate) => candidate.name === name);
  expect(invariant).toBeDefined();
  expect(invariant).toEqual(expect.objectContaining({ ok: true }));
});

test('no response and no line a function printed holds a vault value or a token', () => {
  expect(answered).toHaveLength(320);
  expect(printed.length).toBeGreaterThan(0);
  expectNoLeaks({ responses: answered, 'function output': printed }, collectSecretValues());
});
