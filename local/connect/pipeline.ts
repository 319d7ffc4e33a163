// One request's way through the server: log, latency, fault injection, routing, response.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FaultBook, FaultSpec } from './faults';
import {
  CONNECT_VERSION,
  VERSION_HEADER,
  bodyBytes,
  errorResponse,
  readBody,
  responseForError,
  responseHeaders,
  writeResponse,
  type ConnectResponse,
} from './http-io';
import type { Lifetime } from './lifetime';
import { normalizePath } from './paths';
import type { LoggedRequest, RequestLog } from './request-log';
import type { RequestContext, ServerState } from './routes/context';
import { matchRoute } from './routes/table';

export interface PipelineDeps {
  state: ServerState;
  log: RequestLog;
  faults: FaultBook;
  lifetime: Lifetime;
  latencyMs: () => number;
  /** Called once per request when its connection is done with it (also for resets and hangs). */
  onRequestLogged?: (entry: LoggedRequest, durationMs: number) => void;
}

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  entry: LoggedRequest;
  routeLabel: string;
  rawQuery: string;
}

function splitUrl(url: string): { path: string; rawQuery: string } {
  const mark = url.indexOf('?');
  return mark < 0 ? { path: url, rawQuery: '' } : { path: url.slice(0, mark), rawQuery: url.slice(mark + 1) };
}

function statusFaultResponse(spec: Extract<FaultSpec, { kind: 'status' }>): ConnectResponse {
  const message = STATUS_CODES[spec.status] ?? 'Injected fault';
  const headers: Record<string, string> = spec.retryAfter !== undefined ? { 'Retry-After': spec.retryAfter } : {};
  if (spec.body === 'text') {
    return { status: spec.status, headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }, body: message };
  }
  if (spec.body === 'empty') return { status: spec.status, headers };
  return errorResponse(spec.status, message, headers);
}

const MALFORMED: ConnectResponse = {
  status: 200,
  headers: { 'Content-Type': 'application/json' },
  body: '[{"id": "malformed", "title": ',
};

function finish(deps: PipelineDeps, exchange: Exchange, response: ConnectResponse): void {
  exchange.entry.status = response.status;
  deps.state.metrics.add('op_connect_http_requests_total', {
    method: exchange.entry.method,
    route: exchange.routeLabel,
    status: String(response.status),
  });
  writeResponse(exchange.res, response);
}

/** Headers and the first half of the body, then the connection dies. */
function finishHalfway(exchange: Exchange, response: ConnectResponse): void {
  const body = bodyBytes(response);
  exchange.entry.status = response.status;
  exchange.res.writeHead(response.status, responseHeaders(response, body));
  exchange.res.write(body.subarray(0, Math.floor(body.length / 2)), () => exchange.req.socket.destroy());
}

/** The answer with its JSON body rewritten; a body that is not JSON is left as it is. */
function tampered(response: ConnectResponse, edit: (body: unknown) => unknown): ConnectResponse {
  let body: unknown;
  try {
    body = JSON.parse(bodyBytes(response).toString('utf8'));
  } catch {
    return response;
  }
  return { ...response, body: JSON.stringify(edit(body)) };
}

/** A JSON body `{"pad":"<x repeated>"}` of exactly `bytes` bytes, in chunks, as the client takes them. */
function* oversizedBody(bytes: number): Generator<Buffer> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  yield Buffer.from('{"pad":"');
  for (let left = bytes - 10; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
  yield Buffer.from('"}');
}

async function streamOversized(deps: PipelineDeps, exchange: Exchange, spec: Extract<FaultSpec, { kind: 'oversized' }>): Promise<void> {
  exchange.entry.status = 200;
  deps.state.metrics.add('op_connect_http_requests_total', { method: exchange.entry.method, route: exchange.routeLabel, status: '200' });
  const length: Record<string, string> = spec.declareLength ? { 'Content-Length': String(spec.bytes) } : {};
  exchange.res.writeHead(200, { [VERSION_HEADER]: CONNECT_VERSION, 'Content-Type': 'application/json', ...length });
  try {
    await pipeline(Readable.from(oversizedBody(spec.bytes)), exchange.res);
  } catch {
    // The client hung up before the end: what a client with a size limit does.
  }
}

async function route(deps: PipelineDeps, exchange: Exchange): Promise<ConnectResponse> {
  const { req, entry } = exchange;
  const match = matchRoute(entry.method, entry.path);
  if (match.kind === 'not-found') return errorResponse(404, 'Not Found');
  if (match.kind === 'method-not-allowed') {
    return errorResponse(405, 'Method Not Allowed', { Allow: match.allowed.join(', ') });
  }
  try {
    const ctx: RequestContext = {
      state: deps.state,
      method: entry.method,
      params: match.params,
      rawQuery: exchange.rawQuery,
      query: new URLSearchParams(exchange.rawQuery),
      body: await readBody(req),
      authorization: req.headers.authorization,
      origin: { userAgent: req.headers['user-agent'] ?? '', requestIp: req.socket.remoteAddress ?? '' },
      now: new Date(),
    };
    return await match.route.handle(ctx);
  } catch (error) {
    return responseForError(error);
  }
}

/** Applies a fault; returns true when the request needs no further handling. */
async function injectFault(deps: PipelineDeps, exchange: Exchange, spec: FaultSpec): Promise<boolean> {
  deps.state.metrics.add('op_connect_injected_faults_total', { kind: spec.kind });
  switch (spec.kind) {
    case 'status':
      finish(deps, exchange, statusFaultResponse(spec));
      return true;
    case 'malformed':
      finish(deps, exchange, MALFORMED);
      return true;
    case 'reset':
      exchange.req.socket.destroy();
      return true;
    case 'hang':
      // Left open on purpose; closing the server destroys the connection.
      return true;
    case 'reset-mid-body':
      finishHalfway(exchange, await route(deps, exchange));
      return true;
    case 'latency':
      await deps.lifetime.delay(spec.latencyMs);
      return false;
    case 'tamper':
      finish(deps, exchange, tampered(await route(deps, exchange), spec.edit));
      return true;
    case 'oversized':
      await streamOversized(deps, exchange, spec);
      return true;
    case 'redirect':
      finish(deps, exchange, { status: spec.status, headers: { Location: spec.location } });
      return true;
  }
}

function routeLabel(method: string, path: string): string {
  const match = matchRoute(method, path);
  return match.kind === 'found' ? match.route.template : match.kind === 'method-not-allowed' ? match.template : 'unmatched';
}

export async function handleRequest(deps: PipelineDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const startedAt = performance.now();
  const method = (req.method ?? 'GET').toUpperCase();
  const { path: rawPath, rawQuery } = splitUrl(req.url ?? '/');
  const path = normalizePath(rawPath);
  const tokenName = deps.state.tokens.lookup(req.headers.authorization)?.name;
  const entry = deps.log.record({ method, path, query: rawQuery, status: 0, ...(tokenName ? { tokenName } : {}), at: Date.now() });
  const exchange: Exchange = { req, res, entry, routeLabel: routeLabel(method, path), rawQuery };
  const metrics = deps.state.metrics;
  metrics.add('op_connect_http_requests_in_flight', {});
  res.once('close', () => {
    metrics.add('op_connect_http_requests_in_flight', {}, -1);
    const durationMs = performance.now() - startedAt;
    metrics.add('op_connect_http_request_duration_seconds_total', { route: exchange.routeLabel }, durationMs / 1000);
    deps.onRequestLogged?.(entry, durationMs);
  });
  try {
    await deps.lifetime.delay(deps.latencyMs());
    const fault = deps.faults.take(method, path);
    if (fault && (await injectFault(deps, exchange, fault))) return;
    finish(deps, exchange, await route(deps, exchange));
  } catch {
    // Only a closing server interrupts a delay: drop the connection.
    req.socket.destroy();
  }
}
