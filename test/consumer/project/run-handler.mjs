// Runs src/handler.<ext> (argv[2]: mjs or cjs) against op-lambda/testing's server; prints the response and request counts.
import { readFileSync } from 'node:fs';
import { startConnectServer } from 'op-lambda/testing';

const seed = JSON.parse(readFileSync(new URL('./seed.json', import.meta.url), 'utf8'));
const connect = await startConnectServer({ seed });
process.env.OP_CONNECT_HOST = connect.url;
process.env.OP_CONNECT_TOKEN = connect.tokens.ci;
// The CommonJS handler declares its secret by environment, as SecretsFunction deploys it.
if (process.argv[2] === 'cjs') process.env.API_KEY = 'op://app/api/credential';
const context = { awsRequestId: 'req-1', functionName: 'consumer', getRemainingTimeInMillis: () => 5000 };
try {
  const { handler } = await import(`./src/handler.${process.argv[2]}`);
  const first = await handler({}, context);
  const second = await handler({}, context);
  console.log(JSON.stringify({ first, second, itemGets: connect.countRequests({ method: 'GET', path: /^\/v1\/vaults\/[^/]+\/items\/[^/]+$/ }) }));
} finally {
  await connect.close();
}
