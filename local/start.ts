/**
 * `npm start`: the whole API on this machine.
 *
 * Synthesizes the stage (STAGE, default staging) into `cdk.out`, starts a 1Password Connect server
 * with the demo vault (or uses the one in OP_CONNECT_HOST / OP_CONNECT_TOKEN), a local JWT issuer
 * in place of the stage's (`npm run token` prints a token from it), a payments provider that
 * accepts the key the vault holds, a local DynamoDB with the stack's tables, and the gateway on
 * http://127.0.0.1:3000 (PORT overrides)
 * running the very bundles `cdk deploy` would upload. Function output streams to the console,
 * prefixed with each function's name. Ctrl-C (or SIGTERM) stops everything.
 */
import { join } from 'node:path';
import { DEFAULT_STAGE } from '../infra/config';
import type { GatewayRoute } from './gateway/server';
import { watchLaunchers } from './dev/launcher-watch';
import { startLocalApi, type ExternalConnect, type LocalApi } from './dev/local-api';
import { LogPrinter, useColour } from './dev/log-printer';
import { PROJECT_ROOT, synthesizeStage } from './dev/synth';
import { removeIssuerState, writeIssuerState } from './issuer/state-file';

const DEFAULT_PORT = 3000;
const STOP_TIMEOUT_MS = 10_000;

interface StartSettings {
  stage: string;
  /** The cloud assembly folder: CDK_OUTDIR (as the CDK CLI names it), else `cdk.out`. */
  cdkOut: string;
  port: number;
  externalConnect: ExternalConnect | undefined;
}

function readSettings(env: NodeJS.ProcessEnv): StartSettings {
  const port = env.PORT === undefined || env.PORT === '' ? DEFAULT_PORT : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be an integer from 0 to 65535, got "${env.PORT}"`);
  const host = env.OP_CONNECT_HOST?.trim();
  const token = env.OP_CONNECT_TOKEN?.trim();
  if (Boolean(host) !== Boolean(token)) {
    throw new Error('set both OP_CONNECT_HOST and OP_CONNECT_TOKEN to use your own Connect server, or neither for the local demo vault');
  }
  const externalConnect = host && token ? { host, token, allowHttp: /^(true|1)$/i.test(env.OP_CONNECT_ALLOW_HTTP?.trim() ?? '') } : undefined;
  const cdkOut = env.CDK_OUTDIR?.trim() || join(PROJECT_ROOT, 'cdk.out');
  return { stage: env.STAGE?.trim() || DEFAULT_STAGE, cdkOut, port, externalConnect };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function printRoutes(routes: readonly GatewayRoute[], functionNames: readonly string[]): void {
  const width = Math.max(...routes.map((route) => route.routeKey.length));
  console.log('Routes:');
  for (const route of routes) {
    const [method = '', path = ''] = route.routeKey.split(' ');
    console.log(`  ${`${method.padEnd(5)} ${path}`.padEnd(width + 1)}  ->  ${route.functionName}`);
  }
  const routed = new Set(routes.map((route) => route.functionName));
  const unrouted = functionNames.filter((name) => !routed.has(name));
  if (unrouted.length > 0) console.log(`Also running, without a route: ${unrouted.join(', ')}`);
}

function printReady(api: LocalApi, stage: string, startedAt: number): void {
  const { gateway } = api;
  console.log('');
  printRoutes(gateway.routes, gateway.functions.map((fn) => fn.name));
  console.log('');
  if (api.connect) {
    console.log(`1Password Connect: ${api.connectUrl} (local demo vault; each function uses its own token, named after it and scoped to its vaults)`);
  } else {
    console.log(`1Password Connect: ${api.connectUrl} (from OP_CONNECT_HOST; functions use OP_CONNECT_TOKEN)`);
  }
  console.log(`Payments upstream: ${api.payments.url} (accepts ${api.paymentsKeyReference ?? 'no key: no function declares PAYMENTS_API_KEY'})`);
  if (api.issuer) console.log(`JWT issuer: ${api.issuer.url} (in place of the stage's; \`npm run token\` prints a token for the authorized routes)`);
  if (api.dynamo) console.log(`DynamoDB: ${api.dynamo.endpoint} (local, in memory, with the stack's tables)`);
  for (const warning of gateway.warnings) console.log(`Note: ${warning}`);
  console.log('');
  console.log(`Stage ${stage} ready at ${gateway.url} in ${seconds(performance.now() - startedAt)}. Try: curl ${gateway.url}/health`);
  console.log('Ctrl-C to stop.\n');
}

async function start(settings: StartSettings, signal: AbortSignal, startedAt: number): Promise<LocalApi | undefined> {
  console.log(`op-lambda: stage ${settings.stage}`);
  console.log('Synthesizing...');
  const synth = await synthesizeStage({
    stage: settings.stage,
    outdir: settings.cdkOut,
    signal,
    onProgress: (step) => console.log(`  ${step}`),
  });
  console.log(`Synthesized ${synth.stackName} in ${seconds(synth.durationMs)}`);
  for (const warning of synth.warnings) console.log(`Warning: ${warning}`);
  if (signal.aborted) return undefined;

  // Nothing is logged before the gateway is up; the printer needs its function names.
  const output: { printer?: LogPrinter } = {};
  const api = await startLocalApi({
    cdkOut: synth.cdkOut,
    stackName: synth.stackName,
    port: settings.port,
    externalConnect: settings.externalConnect,
    onLog: (line) => output.printer?.functionLine(line),
    onRequest: (record) => output.printer?.gatewayRequest(record),
    onConnectRequest: (entry, durationMs) => output.printer?.connectRequest(entry, durationMs),
  }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`port ${settings.port} is in use: stop what uses it, or set PORT`);
    throw error;
  });
  output.printer = new LogPrinter({ functionNames: api.gateway.functions.map((fn) => fn.name), colour: useColour() });
  if (api.issuer) writeIssuerState(settings.cdkOut, { issuer: api.issuer.url, tokenEndpoint: api.issuer.tokenEndpoint, pid: process.pid });
  printReady(api, settings.stage, startedAt);
  return api;
}

function main(): void {
  const startedAt = performance.now();
  const controller = new AbortController();
  let settings: StartSettings;
  try {
    settings = readSettings(process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
    return;
  }
  const starting = start(settings, controller.signal, startedAt);
  let stopping: Promise<void> | undefined;
  const stop = (reason: string, exitCode: number): Promise<void> =>
    (stopping ??= (async () => {
      if (reason) console.log(`\n${reason}: stopping...`);
      controller.abort();
      setTimeout(() => {
        console.error(`still stopping after ${seconds(STOP_TIMEOUT_MS)}: giving up`);
        process.exit(1);
      }, STOP_TIMEOUT_MS).unref();
      const api = await starting.catch(() => undefined);
      removeIssuerState(settings.cdkOut);
      try {
        await api?.close();
      } catch (error) {
        console.error((error as Error).message);
        exitCode = 1;
      }
      process.exit(exitCode);
    })());

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal, 0));
  watchLaunchers((pid) => void stop(`launcher (pid ${pid}) exited`, 0));
  process.on('uncaughtException', (error) => {
    console.error(error);
    void stop('unexpected error', 1);
  });
  starting.catch((error: unknown) => {
    if (controller.signal.aborted) return;
    console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
    void stop('', 1);
  });
}

main();
