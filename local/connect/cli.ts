// `npm run connect:local -- --port <p> --data <file.json>`: the local Connect server, standalone.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO_SEED_FILE, startConnectServer, type LocalConnect, type LoggedRequest } from './server';

const USAGE = `Usage: npm run connect:local -- [--port 8080] [--host 127.0.0.1] [--data seed.json] [--latency ms]

Serves the 1Password Connect API from a JSON seed (default: the op-lambda demo vault).`;

interface CliOptions {
  port: number;
  host: string;
  seedFile: string;
  latencyMs: number;
}

function readOptions(argv: string[]): CliOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', short: 'p', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      data: { type: 'string', short: 'd' },
      latency: { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const port = Number(values.port);
  const latencyMs = Number(values.latency);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be an integer from 0 to 65535');
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error('--latency must be a non-negative number of milliseconds');
  return { port, host: values.host, seedFile: values.data ? resolve(values.data) : DEMO_SEED_FILE, latencyMs };
}

/** One line per request; the Authorization header and the query never appear. */
function logLine(entry: LoggedRequest, durationMs: number): void {
  const status = entry.status === 0 ? 'dropped' : String(entry.status);
  console.log(`${new Date(entry.at).toISOString()} ${entry.method} ${entry.path} ${status} ${durationMs.toFixed(1)}ms`);
}

function printBanner(connect: LocalConnect, seedFile: string): void {
  const names = Object.keys(connect.tokens);
  const example = names.find((name) => name.includes('read')) ?? names[0];
  console.log(`Local 1Password Connect server on ${connect.url} (seed: ${seedFile})`);
  console.log('Tokens (local values defined by the seed):');
  for (const [name, token] of Object.entries(connect.tokens)) console.log(`  ${name.padEnd(16)} ${token}`);
  if (example) {
    console.log('\nTry:');
    console.log(`  curl -s -H "Authorization: Bearer ${connect.tokens[example]}" ${connect.url}/v1/vaults`);
    console.log(`  export OP_CONNECT_HOST=${connect.url} OP_CONNECT_TOKEN=${connect.tokens[example]}`);
  }
  console.log('\nCtrl-C to stop.');
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  if (!options) {
    console.log(USAGE);
    return;
  }
  const connect = await startConnectServer({
    port: options.port,
    host: options.host,
    seedFile: options.seedFile,
    latencyMs: options.latencyMs,
    onRequestLogged: logLine,
  });
  printBanner(connect, options.seedFile);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: closing`);
    connect.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(`connect:local: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
