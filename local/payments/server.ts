/**
 * A small payments provider for local runs and tests: a real HTTP server that accepts one API key
 * (whatever `acceptKey` returns at the time of the request, so rotating the key in the local vault
 * takes effect at once) and creates payment objects.
 *
 * Routes: `POST /v1/payments`, `GET /v1/payments/{id}`, `GET /health`. Errors are `{ error, message }`.
 * Requests are recorded for tests without their Authorization header.
 *
 * `misbehave` turns it into a hostile provider for the API routes: one that redirects elsewhere,
 * or one whose errors echo the request, Authorization header (the key) included.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PaymentsUpstreamOptions {
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The key a request must bear, read on every request. */
  acceptKey: () => Promise<string> | string;
  /** Delay before every answer, to try client timeouts. Default 0. */
  delayMs?: number;
}

export interface PaymentRecord {
  id: string;
  object: 'payment';
  amount: number;
  currency: string;
  description?: string;
  metadata?: Record<string, string>;
  status: 'succeeded';
  /** Unix seconds. */
  created: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Whether the bearer key matched. Never the key itself. */
  authorized: boolean;
  idempotencyKey?: string;
  /** The parsed JSON body, when there was one. */
  body?: unknown;
  status: number;
}

/** How a hostile provider answers every API request (`/health` stays honest). */
export type Misbehaviour =
  /** A redirect to `location` (another origin, say), before the key is even checked. */
  | { kind: 'redirect'; status: 301 | 302 | 303 | 307 | 308; location: string }
  /** An error whose body echoes the request: its headers (the bearer key among them) and body. */
  | { kind: 'echo'; status: number };

export interface PaymentsUpstream {
  /** Base URL, e.g. `http://127.0.0.1:40123`; the API is under `/v1`. */
  url: string;
  requests(): RecordedRequest[];
  countRequests(filter?: { method?: string; path?: string; status?: number }): number;
  resetRequests(): void;
  setDelay(ms: number): void;
  /** Answers every API request so from now on; undefined goes back to behaving. */
  misbehave(misbehaviour: Misbehaviour | undefined): void;
  payments(): PaymentRecord[];
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

interface StoredPayment {
  payment: PaymentRecord;
  fingerprint: string;
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

class RequestTooLargeError extends Error {}

function fail(status: number, error: string, message: string): Answer {
  return { status, body: { error, message } };
}

/** Compares keys in constant time, whatever their lengths. */
function sameKey(presented: string, accepted: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return accepted.length > 0 && timingSafeEqual(digest(presented), digest(accepted));
}

function bearerToken(request: IncomingMessage): string | undefined {
  const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
  return match?.[1];
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RequestTooLargeError();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function validationError(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be a JSON object';
  const { amount, currency } = body as Record<string, unknown>;
  if (typeof amount !== 'number' || !Number.isInteger(amount) || amount <= 0) return 'amount must be a positive integer';
  if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)) return 'currency must be three letters';
  return undefined;
}

function newPayment(body: Record<string, unknown>): PaymentRecord {
  return {
    id: `pay_${randomBytes(12).toString('hex')}`,
    object: 'payment',
    amount: body.amount as number,
    currency: (body.currency as string).toLowerCase(),
    ...(typeof body.description === 'string' ? { description: body.description } : {}),
    ...(typeof body.metadata === 'object' && body.metadata !== null ? { metadata: body.metadata as Record<string, string> } : {}),
    status: 'succeeded',
    created: Math.floor(Date.now() / 1000),
  };
}

async function misbehavingAnswer(misbehaviour: Misbehaviour, request: IncomingMessage): Promise<Answer> {
  if (misbehaviour.kind === 'redirect') {
    return { status: misbehaviour.status, body: { redirect: misbehaviour.location }, headers: { location: misbehaviour.location } };
  }
  const body = await readBody(request);
  return {
    status: misbehaviour.status,
    body: {
      error: bearerToken(request) ?? 'no_key',
      message: `rejected: ${request.headers.authorization ?? ''}`,
      request: { method: request.method, url: request.url, headers: request.headers, body },
    },
  };
}

/** Starts the server; resolves once it listens. */
export async function startPaymentsUpstream(options: PaymentsUpstreamOptions): Promise<PaymentsUpstream> {
  const recorded: RecordedRequest[] = [];
  const byId = new Map<string, PaymentRecord>();
  const byIdempotencyKey = new Map<string, StoredPayment>();
  let delayMs = options.delayMs ?? 0;
  let misbehaviour: Misbehaviour | undefined;
  const pendingTimers = new Set<NodeJS.Timeout>();

  function createPaymentAnswer(rawBody: string, idempotencyKey: string | undefined): Answer {
    let body: unknown;
    try {
      body = JSON.parse(rawBody);
    } catch {
      return fail(400, 'invalid_request', 'body is not valid JSON');
    }
    const problem = validationError(body);
    if (problem) return fail(400, 'invalid_request', problem);
    const fingerprint = createHash('sha256').update(rawBody).digest('hex');
    const previous = idempotencyKey === undefined ? undefined : byIdempotencyKey.get(idempotencyKey);
    if (previous) {
      if (previous.fingerprint !== fingerprint) return fail(409, 'idempotency_key_reused', 'this Idempotency-Key was used with another body');
      return { status: 201, body: previous.payment, headers: { 'idempotent-replayed': 'true' } };
    }
    const payment = newPayment(body as Record<string, unknown>);
    byId.set(payment.id, payment);
    if (idempotencyKey !== undefined) byIdempotencyKey.set(idempotencyKey, { payment, fingerprint });
    return { status: 201, body: payment };
  }

  async function answer(request: IncomingMessage, path: string, record: RecordedRequest): Promise<Answer> {
    if (request.method === 'GET' && path === '/health') return { status: 200, body: { status: 'ok' } };
    if (misbehaviour) return misbehavingAnswer(misbehaviour, request);
    const isCreate = request.method === 'POST' && path === '/v1/payments';
    const readMatch = request.method === 'GET' ? /^\/v1\/payments\/([A-Za-z0-9_]+)$/.exec(path) : null;
    if (!isCreate && !readMatch) return fail(404, 'not_found', 'no such route');
    let accepted: string;
    try {
      accepted = await options.acceptKey();
    } catch {
      return fail(503, 'key_unavailable', 'the provider cannot check keys right now');
    }
    record.authorized = sameKey(bearerToken(request) ?? '', accepted);
    if (!record.authorized) return fail(401, 'invalid_api_key', 'invalid API key provided');
    if (readMatch) {
      const payment = byId.get(readMatch[1]!);
      return payment ? { status: 200, body: payment } : fail(404, 'not_found', 'no such payment');
    }
    const rawBody = await readBody(request);
    try {
      record.body = JSON.parse(rawBody);
    } catch {
      // Recorded as absent; the answer says why.
    }
    return createPaymentAnswer(rawBody, record.idempotencyKey);
  }

  function send(response: ServerResponse, reply: Answer): void {
    const timer = setTimeout(() => {
      pendingTimers.delete(timer);
      response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      response.end(JSON.stringify(reply.body));
    }, delayMs);
    pendingTimers.add(timer);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const idempotencyKey = request.headers['idempotency-key'];
    const record: RecordedRequest = {
      method: request.method ?? 'GET',
      path,
      authorized: false,
      ...(typeof idempotencyKey === 'string' ? { idempotencyKey } : {}),
      status: 0,
    };
    let reply: Answer;
    try {
      reply = await answer(request, path, record);
    } catch (error) {
      reply = error instanceof RequestTooLargeError ? fail(413, 'too_large', 'body too large') : fail(500, 'internal', 'unexpected error');
    }
    record.status = reply.status;
    recorded.push(record);
    send(response, reply);
  }

  const server: Server = createServer((request, response) => void handle(request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;

  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    requests: () => recorded.map((entry) => ({ ...entry })),
    countRequests: (filter = {}) =>
      recorded.filter(
        (entry) =>
          (filter.method === undefined || entry.method === filter.method) &&
          (filter.path === undefined || entry.path === filter.path) &&
          (filter.status === undefined || entry.status === filter.status),
      ).length,
    resetRequests: () => void recorded.splice(0),
    setDelay: (ms) => void (delayMs = ms),
    misbehave: (next) => void (misbehaviour = next),
    payments: () => [...byId.values()],
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of pendingTimers) clearTimeout(timer);
        pendingTimers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
