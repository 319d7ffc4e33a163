/**
 * The HTTP transport under `@1password/connect`: `node:http`/`node:https` over a keep-alive agent,
 * one AbortSignal per attempt, and the one place where whatever a request produced becomes a
 * ConnectError.
 *
 * The SDK's own transport (axios, 15 s timeout, no retries, rejections in four shapes, the
 * request config with the Authorization header attached to errors) cannot honour a deadline
 * that belongs to a Lambda invocation; its `httpClient` option lets this one take its place.
 * Not global `fetch`: Node loads undici on its first use, which costs a fresh process some 30 ms
 * before its first request, and every cold start makes one.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { ClientRequestOptions, IRequestClient } from '@1password/connect';
import { ConnectError } from '../errors';
import { systemClock, type Clock } from '../deadline';
import type { ByteBudget } from './byte-budget';
import { clip, codeForStatus, describeStatus, parseRetryAfter } from './connect-errors';
import { takeEarlyResponse, type RawResponse } from './early-responses';

type HttpMethod = Parameters<IRequestClient['request']>[0];
type SdkResponse = Awaited<ReturnType<IRequestClient['request']>>;

/**
 * The largest body read (16 MiB). An item is a few KiB and an item list of a large vault a few
 * MiB; a bigger answer is not Connect's, and reading it all would only exhaust the function's memory.
 * A client given a ByteBudget (as every resolve's are) is held to that too, all its responses together.
 */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * Keep-alive connections to Connect, one pool per scheme: each request of a ConnectSource after the
 * first reuses a warm connection (and, over https, its TLS session) instead of opening one.
 * Idle sockets do not keep the process alive.
 */
export class ConnectionPool {
  private http: HttpAgent | undefined;
  private https: HttpsAgent | undefined;

  agentFor(protocol: string): HttpAgent {
    if (protocol === 'https:') {
      // node:https (and tls under it) loads on first use: a loopback Connect never needs it.
      this.https ??= new (process.getBuiltinModule('node:https').Agent)({ keepAlive: true });
      return this.https;
    }
    this.http ??= new HttpAgent({ keepAlive: true });
    return this.http;
  }

  /** Closes every socket, idle or not. */
  destroy(): void {
    this.http?.destroy();
    this.https?.destroy();
    this.http = undefined;
    this.https = undefined;
  }
}

/** The pool of clients made without one of their own. */
const sharedPool = new ConnectionPool();

/** An IRequestClient whose every request is bounded by `signal`. */
export class NodeHttpClient implements IRequestClient {
  /** Required by IRequestClient; the signal, not this number, bounds each request. */
  defaultTimeout = 0;

  constructor(
    private readonly signal: AbortSignal,
    private readonly pool: ConnectionPool = sharedPool,
    /** For Retry-After given as an HTTP date. */
    private readonly clock: Clock = systemClock,
    /** Bytes this client may read, shared with the other clients of the same resolve. */
    private readonly budget?: ByteBudget,
    /** Told when an answer came from the early start (./early-start.ts), with the time its request left. */
    private readonly onEarlyAnswer?: (startedAt: number) => void,
  ) {}

  async request(method: HttpMethod, url: string, options: ClientRequestOptions): Promise<SdkResponse> {
    // Nothing more can be read: asking would only make the server send it.
    if (this.budget?.exhausted) throw this.budget.exceeded();
    const target = withParams(url, options.params);
    // A cold start's first requests may have left before this code was loaded: their answers go
    // through the same checks as any other.
    const early = await takeEarlyResponse(method, target.href, options.authToken);
    if (early) {
      this.onEarlyAnswer?.(early.startedAt);
      if (this.budget && !this.budget.spend(Buffer.byteLength(early.text))) throw this.budget.exceeded(early.status);
    }
    const { status, text, retryAfter } = early ?? (await this.exchange(method, target, options));
    if (status < 200 || status > 299) throw errorFromResponse(status, text, retryAfter, this.clock());
    return { status, data: parseJsonBody(text, status) };
  }

  private async exchange(method: HttpMethod, target: URL, options: ClientRequestOptions): Promise<RawResponse> {
    const body = requestBody(options.data);
    const response = await send(target, {
      method: method.toUpperCase(),
      headers: requestHeaders(options, body),
      agent: this.pool.agentFor(target.protocol),
      signal: this.signal,
    }, body);
    // Connect never redirects, and a 3xx is not followed: following one could hand the token to
    // another origin. It is an unexpected status like any other.
    const status = response.statusCode ?? 0;
    const text = await readBody(response, status, this.signal, this.budget);
    return { status, text, retryAfter: headerValue(response.headers['retry-after']) };
  }
}

/**
 * Sends one request and settles with the response head. Rejections are Node's own errors (with
 * `code`: ECONNREFUSED, ECONNRESET, ...) or the signal's reason; toConnectError maps them.
 */
function send(target: URL, options: RequestOptions, body: string | undefined): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(target, options, resolve);
    // `on`, not `once`: a socket can fail again after the first error, and an 'error' with no
    // listener would crash the process. Later calls to reject do nothing.
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * The body as text, at most MAX_RESPONSE_BYTES and within `budget`; a connection that ends early
 * rejects. A body declared too large is not read at all; one that grows too large is abandoned.
 */
function readBody(response: IncomingMessage, status: number, signal: AbortSignal, budget: ByteBudget | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    // Aborting destroys the socket, which fails the body with ECONNRESET: the signal's reason says why.
    const fail = (error: unknown): void => reject(signal.aborted ? signal.reason : error);
    const abandon = (error: ConnectError): void => {
      response.destroy();
      reject(error);
    };
    const declared = Number(response.headers['content-length']);
    if (declared > MAX_RESPONSE_BYTES) return abandon(tooLarge(status));
    if (budget && declared > budget.remainingBytes) return abandon(budget.exceeded(status));
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (budget && !budget.spend(chunk.length)) return abandon(budget.exceeded(status));
      if (size > MAX_RESPONSE_BYTES) return abandon(tooLarge(status));
      chunks.push(chunk);
    });
    response.once('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')));
    // A socket closed mid-body emits 'error' (ECONNRESET, "aborted"); an aborted signal does too.
    response.on('error', fail);
    response.once('close', () => {
      if (!response.complete) fail(Object.assign(new Error('the connection closed before the body ended'), { code: 'ECONNRESET' }));
    });
  });
}

function tooLarge(status: number): ConnectError {
  // Asking again brings the same body back: not worth the retries.
  return new ConnectError('INVALID_RESPONSE', `Connect answered ${status} with a body over ${MAX_RESPONSE_BYTES} bytes`, {
    status,
    retryable: false,
  });
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

/** The ConnectError for a non-2xx answer: code from the status, Connect's message kept as cause only. */
function errorFromResponse(status: number, body: string, retryAfter: string | null, now: number): ConnectError {
  const connectMessage = messageFromBody(body);
  return new ConnectError(codeForStatus(status), describeStatus(status), {
    status,
    retryAfterMs: parseRetryAfter(retryAfter, now),
    cause: connectMessage === undefined ? undefined : new Error(`Connect said: ${connectMessage}`),
  });
}

function withParams(url: string, params: ClientRequestOptions['params']): URL {
  const target = new URL(url);
  if (!params) return target;
  // URLSearchParams percent-encodes every value, which the SDK's own query building does not.
  for (const [name, value] of Object.entries(params)) {
    for (const entry of Array.isArray(value) ? value : [value]) target.searchParams.append(name, String(entry));
  }
  return target;
}

function requestHeaders(options: ClientRequestOptions, body: string | undefined): Record<string, string> {
  const extra = Object.fromEntries(Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));
  const headers: Record<string, string> = {
    ...extra,
    accept: 'application/json',
    // Without the field any coding would be acceptable (RFC 9110 section 12.5.3); bodies are small.
    'accept-encoding': 'identity',
    'content-type': 'application/json',
    'user-agent': 'op-lambda',
    authorization: `Bearer ${options.authToken}`,
  };
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return headers;
}

function requestBody(data: ClientRequestOptions['data']): string | undefined {
  if (data === undefined) return undefined;
  return typeof data === 'string' ? data : JSON.stringify(data);
}

function parseJsonBody(text: string, status: number): unknown {
  if (status === 204) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The parser's message would quote the body, and bodies hold secret values.
    throw new ConnectError('INVALID_RESPONSE', `Connect answered ${status} with a body that is not JSON`, { status });
  }
}

function messageFromBody(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'message' in parsed && typeof parsed.message === 'string') {
      return clip(parsed.message);
    }
  } catch {
    // Not Connect's {status, message}: a proxy's page, say. Its text is not worth keeping.
  }
  return undefined;
}
