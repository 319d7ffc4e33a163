// Powertools-style reads through op-lambda/powertools; prints digests and item GETs after each step.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { OnePasswordProvider } from 'op-lambda/powertools';
import { startConnectServer } from 'op-lambda/testing';

const seed = JSON.parse(readFileSync(new URL('./seed.json', import.meta.url), 'utf8'));
const connect = await startConnectServer({ seed });
process.env.OP_CONNECT_HOST = connect.url;
process.env.OP_CONNECT_TOKEN = connect.tokens.ci;
const itemGets = () => connect.countRequests({ method: 'GET', path: /^\/v1\/vaults\/[^/]+\/items\/[^/]+$/ });
const digest = (value) => createHash('sha256').update(value).digest('hex');
const reference = 'op://app/api/credential';
try {
  const provider = new OnePasswordProvider();
  const steps = {};
  steps.first = { digest: digest(await provider.get(reference)), itemGets: itemGets() };
  steps.cached = { digest: digest(await provider.get(reference, { maxAge: 60 })), itemGets: itemGets() };
  steps.forced = { digest: digest(await provider.get(reference, { forceFetch: true })), itemGets: itemGets() };
  steps.noCache = { digest: digest(await provider.get(reference, { maxAge: 0 })), itemGets: itemGets() };
  steps.noCacheAgain = { digest: digest(await provider.get(reference, { maxAge: 0 })), itemGets: itemGets() };
  const failure = await provider.getMultiple('op://app').catch((error) => error);
  steps.getMultiple = { name: failure.name, message: failure.message };
  const missing = await provider.get('op://app/api/nothing').catch((error) => error);
  steps.missingField = { name: missing.name, message: missing.message };
  console.log(JSON.stringify(steps));
} finally {
  await connect.close();
}
