// Runs the bundle `cdk synth` produced (argv[2]: its index.js) against op-lambda/testing's server.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { startConnectServer } = require('op-lambda/testing');

async function main() {
  const seed = JSON.parse(readFileSync(join(__dirname, 'seed.json'), 'utf8'));
  const connect = await startConnectServer({ seed });
  Object.assign(process.env, { OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN: connect.tokens.ci, API_KEY: 'op://app/api/credential' });
  try {
    const { handler } = require(process.argv[2]);
    const response = await handler({}, { awsRequestId: 'req-1', functionName: 'consumer-api', getRemainingTimeInMillis: () => 5000 });
    console.log(JSON.stringify(response));
  } finally {
    await connect.close();
  }
}
main();
