/**
 * One stage of op-lambda running locally for a test file, exactly as `npm start` runs it:
 * synthesized into a temporary folder, a local Connect server with the demo vault, the payments
 * upstream, and the gateway with every function, all on ephemeral ports. Everything the run
 * prints or answers is captured for the leak scan.
 *
 *   let stack: StackFixture;
 *   beforeAll(async () => { stack = await startStackFixture(); }, STACK_STARTUP_TIMEOUT_MS);
 *   afterAll(() => stack?.close());
 *   test('...', async () => { const res = await stack.request('GET', '/health'); ... });
 *   test('leaks', () => expectNoLeaks(stack.captured(), stack.secretValues()));
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectSeed, LocalConnect } from '../../local/connect/server';
import type { TokenRequest } from '../../local/issuer/server';
import { LogPrinter } from '../../local/dev/log-printer';
import { startLocalApi, type LocalApi } from '../../local/dev/local-api';
import { synthesizeStage } from '../../local/dev/synth';
import type { LocalGateway } from '../../local/gateway/server';
import type { PaymentsUpstream } from '../../local/payments/server';
import { collectSecretValues } from './leak-scan';

/** Synthesis (esbuild bundles included) and startup on a busy two-core machine. */
export const STACK_STARTUP_TIMEOUT_MS = 180_000;

export interface StackFixtureOptions {
  /** @default 'staging' */
  stage?: string;
  /** Contents of the local Connect server. @default the demo vault */
  seed?: ConnectSeed;
  maxContainersPerFunction?: number;
  /** Variables set in every function over the template's. */
  environment?: Readonly<Record<string, string>>;
}

export interface FixtureResponse {
  status: number;
  headers: Headers;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface StackFixture {
  readonly stage: string;
  readonly stackName: string;
  readonly cdkOut: string;
  readonly api: LocalApi;
  readonly gateway: LocalGateway;
  readonly connect: LocalConnect;
  readonly payments: PaymentsUpstream;
  /** The gateway's base URL. */
  readonly url: string;
  /** The function behind a route, e.g. `functionOf('GET /health')`. */
  functionOf(routeKey: string): string;
  /** A real HTTP request to the gateway; the response is captured. */
  request(method: string, path: string, options?: RequestOptions): Promise<FixtureResponse>;
  /** Changes a field in the local vault (a rotation); the new value joins the secrets scanned for. */
  rotate(vault: string, item: string, field: string, value: string): void;
  /** An access token from the local issuer the gateway trusts (remembered as a secret to scan for). */
  accessToken(request?: TokenRequest): Promise<string>;
  /** Adds a value (a bearer token, a generated key) to the secrets scanned for. */
  rememberSecret(value: string): void;
  /** The seed's values and tokens, and every value given to rotate() or rememberSecret(). */
  secretValues(): string[];
  /** Everything captured so far, by source, for `expectNoLeaks`. */
  captured(): Record<string, string[]>;
  close(): Promise<void>;
}

export async function startStackFixture(options: StackFixtureOptions = {}): Promise<StackFixture> {
  const stage = options.stage ?? 'staging';
  const outdir = mkdtempSync(join(tmpdir(), 'op-lambda-e2e-'));
  const removeOutdir = (): void => rmSync(outdir, { recursive: true, force: true });
  try {
    const synth = await synthesizeStage({ stage, outdir });
    const fixture = await startFixture(stage, synth.stackName, synth.cdkOut, options, removeOutdir);
    return fixture;
  } catch (error) {
    removeOutdir();
    throw error;
  }
}

async function startFixture(stage: string, stackName: string, cdkOut: string, options: StackFixtureOptions, removeOutdir: () => void): Promise<StackFixture> {
  const printed: string[] = [];
  const responses: string[] = [];
  const extraSecrets = new Set<string>();
  const output: { printer?: LogPrinter } = {};
  const api = await startLocalApi({
    cdkOut,
    stackName,
    connectSeed: options.seed,
    maxContainersPerFunction: options.maxContainersPerFunction,
    environment: options.environment,
    onLog: (line) => output.printer?.functionLine(line),
    onRequest: (record) => output.printer?.gatewayRequest(record),
    onConnectRequest: (entry, durationMs) => output.printer?.connectRequest(entry, durationMs),
  });
  output.printer = new LogPrinter({ functionNames: api.gateway.functions.map((fn) => fn.name), colour: false, write: (line) => printed.push(line) });
  const connect = api.connect!;
  const seedSecrets = options.seed ? collectSecretValues(options.seed) : collectSecretValues();

  return {
    stage,
    stackName,
    cdkOut,
    api,
    gateway: api.gateway,
    connect,
    payments: api.payments,
    url: api.gateway.url,
    functionOf: (routeKey) => {
      const route = api.gateway.routes.find((candidate) => candidate.routeKey === routeKey);
      if (!route) throw new Error(`no route ${routeKey} (known: ${api.gateway.routes.map((r) => r.routeKey).join(', ')})`);
      return route.functionName;
    },
    request: async (method, path, requestOptions = {}) => {
      const response = await fetch(`${api.gateway.url}${path}`, { method, headers: requestOptions.headers, body: requestOptions.body });
      const text = await response.text();
      responses.push(`${method} ${path} -> ${response.status}\n${[...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n')}\n\n${text}`);
      return { status: response.status, headers: response.headers, text, json: <T>() => JSON.parse(text) as T };
    },
    rotate: (vault, item, field, value) => {
      extraSecrets.add(value);
      connect.setField(vault, item, field, value);
    },
    rememberSecret: (value) => void extraSecrets.add(value),
    accessToken: async (request) => {
      if (!api.issuer) throw new Error('no route of the stack has a JWT authorizer: there is no local issuer');
      const token = await api.issuer.issue(request);
      extraSecrets.add(token);
      return token;
    },
    secretValues: () => [...new Set([...seedSecrets, ...extraSecrets])],
    captured: () => ({
      'function logs': api.gateway.logs.map((line) => line.text),
      'console output': [...printed],
      responses: [...responses],
      'gateway request records': api.gateway.requests.map((record) => JSON.stringify(record)),
      'gateway warnings': [...api.gateway.warnings],
      'connect request log': connect.requests.map((entry) => JSON.stringify(entry)),
      'payments upstream log': api.payments.requests().map((entry) => JSON.stringify(entry)),
    }),
    close: async () => {
      try {
        await api.close();
      } finally {
        removeOutdir();
      }
    },
  };
}
