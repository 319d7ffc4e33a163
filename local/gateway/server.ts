/**
 * Local API Gateway (HTTP API) + Lambda emulation, driven by a synthesized cloud assembly.
 *
 * What it does: reads the templates in `cdk.out`; runs every Node.js function from the very asset
 * folder `cdk deploy` would upload, each invoke in a child process under AWS's runtime interface
 * client (`aws-lambda-ric`) talking to a local Lambda Runtime API (cold start = new process +
 * INIT, warm = reused idle process, timeout = process killed); builds payload format 2.0 events
 * from real HTTP requests, routes them as API Gateway does, and maps responses back.
 *
 * What it does NOT emulate:
 * - IAM: no execution role, no credentials in the function's environment (the host's ~/.aws files
 *   are masked), no resource policies; AWS SDK calls fail unless `environment` supplies endpoints
 *   and credentials.
 * - Authorizers other than JWT: Lambda (CUSTOM) and AWS_IAM authorizers are not run. JWT
 *   authorizers ARE enforced as API Gateway does (see jwt-authorizer.ts), against the issuer the
 *   template names or the local one given in `issuerOverrides`; only header identity sources.
 * - Payload format 1.0 (those routes answer 500), REST APIs (API Gateway v1), WebSocket APIs,
 *   non-Lambda integrations, custom domains, parameter mapping, CORS preflight handling, access logs.
 * - Throttling, quotas, the 30 s integration timeout; beyond `maxContainersPerFunction`, invokes
 *   wait for a free container instead of being throttled. Reserved/provisioned concurrency,
 *   SnapStart, Lambda's INIT-phase rules beyond "10 s, then retried under the function timeout".
 * - Layers, extensions, container-image functions, runtimes other than Node.js (skipped, with a
 *   warning), the function's architecture (the host's is used), response streaming, function URLs,
 *   asynchronous invokes, retries, destinations, DLQs, event source mappings, X-Ray (no daemon).
 * - Isolation: no VPC, no read-only file system, no /tmp size limit, no cgroup memory limit (only
 *   the V8 heap is sized from MemorySize, as Lambda's bootstrap does); the emulator's Node binary
 *   runs every function whatever its `Runtime`. Module resolution offers `@aws-sdk/*` through
 *   NODE_PATH as the managed runtime does, but a cloud assembly inside the project can still
 *   resolve the project's node_modules by walking up from the asset folder.
 * - `requestContext.domainName` is the Host header as received (with its port); account id,
 *   API id and ARNs are fake but stable; intrinsic functions resolve to plausible local strings.
 * - CloudWatch: logs are captured in memory and passed to `onLog`; metrics (EMF) stay log lines.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { LocalLambdaFunction, type FunctionStats } from '../lambda/local-function';
import { createRuntimeDir, type RuntimeDir } from '../lambda/runtime-dir';
import type { FunctionDefinition, InvokeResult, LogLine } from '../lambda/types';
import { readCloudAssembly } from './cloud-assembly';
import { buildHttpApiEvent, type GatewayRequest } from './event';
import { JwtAuthorizers, type AuthorizationOutcome } from './jwt-authorizer';
import { mapFunctionResponse, type MappedResponse } from './response';
import { RouteTable, type RouteMatch } from './routes';
import { buildEmulationModel, type HttpApiModel, type HttpRoute } from './template-model';

export type { FunctionStats } from '../lambda/local-function';
export type { InvokeOutcome, InvokeResult, LambdaErrorPayload, LogLine, LogStream } from '../lambda/types';

export interface StartGatewayOptions {
  /** Folder of the cloud assembly (`cdk.out`). */
  cdkOut: string;
  /** Stack names, artifact ids or display names; default: every stack with an HTTP API. */
  stacks?: string[];
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default us-east-1. */
  region?: string;
  /** Default 000000000000. */
  accountId?: string;
  /** Applied to every function's variables; `undefined` deletes a variable. */
  environment?: Record<string, string | undefined>;
  /** Per function (by readable name), applied after `environment`. */
  functionEnvironment?: Record<string, Record<string, string | undefined>>;
  /**
   * Template issuer -> issuer trusted in its place (a local one), for the JWT authorizers the
   * template declares. Without an entry, tokens are verified against the template's issuer.
   */
  issuerOverrides?: Record<string, string>;
  /** Containers per function; more concurrent invokes wait. Default 10. */
  maxContainersPerFunction?: number;
  /** Every line a function's process prints, plus START/END/REPORT `platform` lines. */
  onLog?: (line: LogLine) => void;
  /** Every HTTP request, as its response goes out (also kept in `requests`). */
  onRequest?: (record: GatewayRequestRecord) => void;
}

export interface GatewayRoute {
  routeKey: string;
  functionName: string;
  /** `$default`, or the stage name that prefixes the path. */
  stage: string;
}

export interface GatewayFunction {
  /** Readable name from the construct path (e.g. `Health`): the key for `invoke`, `stats`, `functionEnvironment`. */
  name: string;
  /** AWS_LAMBDA_FUNCTION_NAME: the template's `FunctionName`, else `name`. */
  deployedName: string;
  logicalId: string;
  handler: string;
  codePath: string;
  timeoutSeconds: number;
  memoryMb: number;
}

export interface GatewayRequestRecord {
  /** Also the `apigw-requestid` response header and `requestContext.requestId`. */
  requestId: string;
  method: string;
  path: string;
  status: number;
  routeKey?: string;
  functionName?: string;
  /** The Lambda invoke behind the response, when there was one. */
  invoke?: InvokeResult;
  /** Why the gateway answered an error itself (never sent to the client). */
  gatewayError?: string;
  /** Epoch milliseconds when the request arrived. */
  at: number;
  durationMs: number;
}

export interface LocalGateway {
  /** `http://host:port`, without a stage prefix. */
  readonly url: string;
  readonly port: number;
  readonly routes: readonly GatewayRoute[];
  readonly functions: readonly GatewayFunction[];
  /** Recent log lines (the last 10,000). */
  readonly logs: readonly LogLine[];
  /** Recent requests (the last 1,000). */
  readonly requests: readonly GatewayRequestRecord[];
  /** What the templates hold that the emulation skips or cannot reproduce. */
  readonly warnings: readonly string[];
  stats(): Record<string, FunctionStats>;
  /** Direct invoke (for non-HTTP events); the event is passed as is. */
  invoke(functionName: string, event: unknown): Promise<InvokeResult>;
  /** Kills the containers of one function (or all): the next invoke is cold. */
  killContainers(functionName?: string): Promise<void>;
  /** Stops the HTTP server and kills every child process. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Lambda's synchronous invoke request limit: a bigger event never reaches the function. */
const MAX_EVENT_BYTES = 6 * 1024 * 1024;
const MAX_LOG_LINES = 10_000;
const MAX_REQUESTS = 1_000;

interface RouteTarget {
  api: HttpApiModel;
  route: HttpRoute;
}

interface Mount {
  /** `''` for the `$default` stage, else `/<stage>`. */
  basePath: string;
  table: RouteTable<RouteTarget>;
}

export async function startGateway(options: StartGatewayOptions): Promise<LocalGateway> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const cdkOut = resolve(options.cdkOut);
  const model = buildEmulationModel(readCloudAssembly(cdkOut), { stacks: options.stacks, region, accountId, cdkOut });
  const warnings = [...model.warnings];
  const logs: LogLine[] = [];
  const requests: GatewayRequestRecord[] = [];
  const runtimeDir = await createRuntimeDir();
  const functions = createFunctions(model.functions, runtimeDir, options, region, accountId, (line) => {
    pushBounded(logs, line, MAX_LOG_LINES);
    options.onLog?.(line);
  });
  const mounts = buildMounts(model.apis, warnings);
  const authorizers = new JwtAuthorizers({ issuerOverrides: options.issuerOverrides });

  const recordRequest = (record: GatewayRequestRecord): void => {
    pushBounded(requests, record, MAX_REQUESTS);
    options.onRequest?.(record);
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    void serve(req, res, { mounts, functions, accountId, recordRequest, authorizers });
  };
  const server = createServer(handle);
  const host = options.host ?? '127.0.0.1';
  try {
    await listen(server, options.port ?? 0, host);
  } catch (error) {
    await runtimeDir.dispose();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const lookup = (name: string): LocalLambdaFunction => {
    const fn = functions.get(name);
    if (!fn) throw new Error(`no function named ${name} (known: ${[...functions.keys()].join(', ') || 'none'})`);
    return fn;
  };
  let closing: Promise<void> | undefined;

  return {
    url: `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`,
    port,
    routes: model.apis.flatMap((api) => api.routes.map((route) => ({ routeKey: route.routeKey, functionName: route.functionName, stage: api.stageName }))),
    functions: model.functions.map(({ name, deployedName, logicalId, handler, codePath, timeoutSeconds, memoryMb }) => ({
      name, deployedName: deployedName ?? name, logicalId, handler, codePath, timeoutSeconds, memoryMb,
    })),
    logs,
    requests,
    warnings,
    stats: () => Object.fromEntries([...functions].map(([name, fn]) => [name, fn.stats()])),
    invoke: async (functionName, event) => lookup(functionName).invoke(event),
    killContainers: async (functionName) => {
      const targets = functionName === undefined ? [...functions.values()] : [lookup(functionName)];
      await Promise.all(targets.map((fn) => fn.killContainers()));
    },
    close: () => {
      closing ??= (async () => {
        const stopped = new Promise<void>((done) => server.close(() => done()));
        server.closeAllConnections();
        await Promise.all([...functions.values()].map((fn) => fn.close()));
        await stopped;
        await runtimeDir.dispose();
      })();
      return closing;
    },
  };
}

function createFunctions(
  definitions: readonly FunctionDefinition[],
  runtimeDir: RuntimeDir, options: StartGatewayOptions, region: string, accountId: string, onLog: (line: LogLine) => void,
): Map<string, LocalLambdaFunction> {
  return new Map(definitions.map((definition) => [definition.name, new LocalLambdaFunction({
    definition,
    runtimeDir,
    region,
    accountId,
    environment: { ...options.environment, ...options.functionEnvironment?.[definition.name] },
    maxContainers: options.maxContainersPerFunction ?? 10,
    onLog,
  })]));
}

function buildMounts(apis: readonly HttpApiModel[], warnings: string[]): Mount[] {
  const mounts = new Map<string, Mount>();
  for (const api of apis) {
    const basePath = api.stageName === '$default' ? '' : `/${api.stageName}`;
    const mount = mounts.get(basePath) ?? { basePath, table: new RouteTable<RouteTarget>() };
    mounts.set(basePath, mount);
    for (const route of api.routes) {
      if (!mount.table.add(route.routeKey, { api, route })) {
        warnings.push(`route ${route.routeKey} of ${api.stackName}/${api.logicalId} is already served by another API: ignored`);
      }
    }
  }
  // Longest stage prefix first; the `$default` stage last.
  return [...mounts.values()].sort((a, b) => b.basePath.length - a.basePath.length);
}

interface ServeContext {
  mounts: readonly Mount[];
  functions: ReadonlyMap<string, LocalLambdaFunction>;
  accountId: string;
  /** Called once per request, just before the response goes out. */
  recordRequest: (record: GatewayRequestRecord) => void;
  authorizers: JwtAuthorizers;
}

async function serve(req: IncomingMessage, res: ServerResponse, context: ServeContext): Promise<GatewayRequestRecord> {
  const startedAt = performance.now();
  const record: GatewayRequestRecord = {
    requestId: newRequestId(),
    method: req.method ?? 'GET',
    path: (req.url ?? '/').split('?')[0]!,
    status: 0,
    at: Date.now(),
    durationMs: 0,
  };
  const answer = (response: MappedResponse): GatewayRequestRecord => {
    record.status = response.statusCode;
    record.durationMs = performance.now() - startedAt;
    context.recordRequest(record);
    send(res, response, record.requestId);
    return record;
  };
  try {
    const body = await readBody(req);
    if (body === 'too-large') return answer(message(413, 'Request Entity Too Large'));
    const found = findRoute(context.mounts, record.method, record.path);
    if (!found) return answer(message(404, 'Not Found'));
    const { route, api } = found.target;
    record.routeKey = found.routeKey;
    record.functionName = route.functionName;
    const authorization = await authorize(route, req, context.authorizers);
    if (authorization && !authorization.ok) {
      record.gatewayError = `authorizer: ${authorization.reason}`;
      return answer(denied(authorization));
    }
    if (route.payloadFormatVersion !== '2.0') {
      record.gatewayError = `payload format ${route.payloadFormatVersion} is not emulated`;
      return answer(message(500, 'Internal Server Error'));
    }
    const event = buildHttpApiEvent(gatewayRequest(req, body), {
      routeKey: found.routeKey,
      pathParameters: found.pathParameters,
      apiId: api.apiId,
      stage: api.stageName,
      stageVariables: api.stageVariables,
      accountId: context.accountId,
      requestId: record.requestId,
      now: new Date(record.at),
      ...(authorization?.ok ? { jwt: authorization.jwt } : {}),
    });
    if (Buffer.byteLength(JSON.stringify(event)) > MAX_EVENT_BYTES) {
      record.gatewayError = `event larger than Lambda's ${MAX_EVENT_BYTES}-byte invoke payload limit`;
      return answer(message(413, 'Request Entity Too Large'));
    }
    const invoke = await context.functions.get(route.functionName)!.invoke(event);
    record.invoke = invoke;
    if (invoke.outcome !== 'success') return answer(message(500, 'Internal Server Error'));
    const mapped = mapFunctionResponse(invoke.payload);
    if (!mapped.ok) {
      record.gatewayError = `malformed Lambda proxy response: ${mapped.reason}`;
      return answer(message(500, 'Internal Server Error'));
    }
    return answer(mapped.response);
  } catch (error) {
    record.gatewayError = (error as Error).message;
    if (!res.headersSent && record.status === 0) return answer(message(500, 'Internal Server Error'));
    res.destroy();
    return record;
  }
}

function findRoute(mounts: readonly Mount[], method: string, path: string): RouteMatch<RouteTarget> | undefined {
  for (const mount of mounts) {
    if (mount.basePath === '') return mount.table.match(method, path);
    if (path === mount.basePath || path.startsWith(`${mount.basePath}/`)) {
      return mount.table.match(method, path.slice(mount.basePath.length) || '/');
    }
  }
  return undefined;
}

/** The route's JWT authorizer's verdict; undefined for routes without one. */
async function authorize(route: HttpRoute, req: IncomingMessage, authorizers: JwtAuthorizers): Promise<AuthorizationOutcome | undefined> {
  if (route.authorizationType !== 'JWT') return undefined;
  if (!route.jwtAuthorizer) {
    return { ok: false, status: 401, message: 'Unauthorized', wwwAuthenticate: 'Bearer', reason: 'the route names no readable JWT authorizer' };
  }
  return authorizers.authorize(route.jwtAuthorizer, route.authorizationScopes, req.headers);
}

function denied(outcome: Extract<AuthorizationOutcome, { ok: false }>): MappedResponse {
  const response = message(outcome.status, outcome.message);
  return { ...response, headers: [...response.headers, ['www-authenticate', outcome.wwwAuthenticate]] };
}

function gatewayRequest(req: IncomingMessage, body: Buffer): GatewayRequest {
  return {
    method: req.method ?? 'GET',
    target: req.url ?? '/',
    rawHeaders: req.rawHeaders,
    body,
    sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
    httpVersion: req.httpVersion,
    localPort: req.socket.localPort ?? 0,
  };
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
    req.resume();
    return Promise.resolve('too-large');
  }
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolveBody(size > MAX_BODY_BYTES ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function message(statusCode: number, text: string): MappedResponse {
  return { statusCode, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify({ message: text })) };
}

function send(res: ServerResponse, response: MappedResponse, requestId: string): void {
  const raw = response.headers.flatMap(([name, value]) => [name, value]);
  raw.push('apigw-requestid', requestId, 'content-length', String(response.body.length));
  res.writeHead(response.statusCode, raw);
  res.end(response.body);
}

/** API Gateway request ids look like `JKJaXmPLvHcESHA=`. */
function newRequestId(): string {
  return randomBytes(10).toString('base64');
}

function pushBounded<T>(list: T[], item: T, limit: number): void {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      done();
    });
  });
}
