// A user's own jest test, against op-lambda/testing's server.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { OnePasswordProvider } = require('op-lambda/powertools');
const { startConnectServer } = require('op-lambda/testing');

const seed = JSON.parse(readFileSync(join(__dirname, 'seed.json'), 'utf8'));
const expected = seed.vaults[0].items[0].fields[0].value;
let connect;

beforeAll(async () => {
  connect = await startConnectServer({ seed });
  process.env.OP_CONNECT_HOST = connect.url;
  process.env.OP_CONNECT_TOKEN = connect.tokens.ci;
});
afterAll(() => connect.close());

test('reads the API key', async () => {
  const provider = new OnePasswordProvider();
  expect((await provider.get('op://app/api/credential')) === expected).toBe(true);
});

test('a Connect outage surfaces as an error naming no secret', async () => {
  connect.addFault({ spec: { kind: 'status', status: 503 } });
  const provider = new OnePasswordProvider({ timeoutMs: 500 });
  await expect(provider.get('op://app/api/credential')).rejects.toThrow(/op:\/\/app\/api\/credential/);
  connect.clearFaults();
});
