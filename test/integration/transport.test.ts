// The node:http transport under the resolver, over real loopback HTTP: keep-alive reuse, no
// redirects, the response size cap, query encoding, headers, and the errors Node produces.
import { Agent as HttpAgent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ConnectError } from '../../shared/secrets/errors';
import { toConnectError } from '../../shared/secrets/connect/connect-errors';
import { ConnectionPool, MAX_RESPONSE_BYTES, NodeHttpClient } from '../../shared/secrets/connect/transport';

const TOKEN = 'opl-transport-token-r5t8y2u6i0';

interface Recorded {
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

interface TestServer {
  url: string;
  requests: Recorded[];
  /** TCP connections accepted so far. */
  connections: () => number;
  close: () => Promise<void>;
}

async function serve(answer: (request: IncomingMessage, response: ServerResponse) => void): Promise<TestServer> {
  const requests: Recorded[] = [];
  let connections = 0;
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; });
    request.on('end', () => {
      requests.push({ url: request.url ?? '', headers: request.headers, body });
      answer(request, response);
    });
  });
  server.on('connection', () => { connections += 1; });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

async function rejectionOf(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const open: TestServer[] = [];
const pools: ConnectionPool[] = [];

async function server(answer: (request: IncomingMessage, response: ServerResponse) => void): Promise<TestServer> {
  const started = await serve(answer);
  open.push(started);
  return started;
}

function client(signal: AbortSignal = new AbortController().signal): NodeHttpClient {
  const pool = new ConnectionPool();
  pools.push(pool);
  return new NodeHttpClient(signal, pool);
}

afterEach(async () => {
  for (const pool of pools.splice(0)) pool.destroy();
  await Promise.all(open.splice(0).map((started) => started.close()));
});

describe('requests', () => {
  it('parses a JSON answer and sends the token, JSON headers and identity encoding', async () => {
    const target = await server((_request, response) => json(response, 200, [{ id: 'v1', name: 'Payments' }]));
    const answer = await client().request('get', `${target.url}/v1/vaults`, { authToken: TOKEN });
    expect(answer).toEqual({ status: 200, data: [{ id: 'v1', name: 'Payments' }] });
    expect(target.requests[0]!.headers).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      accept: 'application/json',
      'accept-encoding': 'identity',
      'user-agent': 'op-lambda',
    });
  });

  it('percent-encodes query parameters, & # + % included', async () => {
    const target = await server((_request, response) => json(response, 200, []));
    await client().request('get', `${target.url}/v1/vaults`, { authToken: TOKEN, params: { filter: 'title eq "R&D #1 + 100%"' } });
    expect(new URL(target.requests[0]!.url, target.url).searchParams.get('filter')).toBe('title eq "R&D #1 + 100%"');
    expect(target.requests[0]!.url).not.toMatch(/[#&]D/);
  });

  it('sends a JSON body with its length', async () => {
    const target = await server((_request, response) => json(response, 200, { id: 'i1' }));
    await client().request('put', `${target.url}/v1/vaults/v/items/i`, { authToken: TOKEN, data: { title: 'été' } });
    expect(target.requests[0]!.body).toBe('{"title":"été"}');
    expect(target.requests[0]!.headers['content-length']).toBe(String(Buffer.byteLength('{"title":"été"}')));
  });

  it('answers 204 with no data', async () => {
    const target = await server((_request, response) => { response.writeHead(204).end(); });
    expect(await client().request('delete', `${target.url}/v1/vaults/v/items/i`, { authToken: TOKEN })).toEqual({ status: 204, data: undefined });
  });

  it('keeps the connection alive: requests one after the other share one socket', async () => {
    const target = await server((_request, response) => json(response, 200, { ok: true }));
    const sharing = client();
    for (let round = 0; round < 5; round += 1) await sharing.request('get', `${target.url}/v1/vaults`, { authToken: TOKEN });
    expect(target.requests).toHaveLength(5);
    expect(target.connections()).toBe(1);
  });

  it('keeps a connection alive after an error status too (its body is read to the end)', async () => {
    let calls = 0;
    const target = await server((_request, response) => {
      calls += 1;
      if (calls === 1) json(response, 503, { status: 503, message: 'busy' });
      else json(response, 200, { ok: true });
    });
    const sharing = client();
    await rejectionOf(sharing.request('get', `${target.url}/v1/vaults`, { authToken: TOKEN }));
    await sharing.request('get', `${target.url}/v1/vaults`, { authToken: TOKEN });
    expect(target.connections()).toBe(1);
  });
});

describe('pools', () => {
  it('hands out one keep-alive agent per scheme, loading https only when asked', () => {
    const pool = new ConnectionPool();
    pools.push(pool);
    const http = pool.agentFor('http:');
    const https = pool.agentFor('https:');
    expect(http).toBeInstanceOf(HttpAgent);
    expect(https).toBeInstanceOf(HttpsAgent);
    expect(pool.agentFor('http:')).toBe(http);
    expect(pool.agentFor('https:')).toBe(https);
  });

  it('destroy closes the connections; the next request opens a new one', async () => {
    const target = await server((_request, response) => json(response, 200, { ok: true }));
    const pool = new ConnectionPool();
    pools.push(pool);
    const sharing = new NodeHttpClient(new AbortController().signal, pool);
    await sharing.request('get', `${target.url}/v1/vaults`, { authToken: TOKEN });
    pool.destroy();
    await sharing.request('get', `${target.url}/v1/vaults`, { authToken: TOKEN });
    expect(target.connections()).toBe(2);
  });
});

describe('answers that are not followed or not read', () => {
  it('does not follow a redirect: the 3xx is INVALID_RESPONSE and the other origin sees nothing', async () => {
    const elsewhere = await server((_request, response) => json(response, 200, { stolen: true }));
    const target = await server((_request, response) => {
      response.writeHead(302, { location: `${elsewhere.url}/v1/vaults` }).end();
    });
    const error = await rejectionOf(client().request('get', `${target.url}/v1/vaults`, { authToken: TOKEN }));
    expect(error).toBeInstanceOf(ConnectError);
    expect(error).toMatchObject({ code: 'INVALID_RESPONSE', status: 302 });
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('refuses a body declared larger than the cap without reading it, and does not retry it', async () => {
    const target = await server((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(MAX_RESPONSE_BYTES + 1) });
      response.write('[');
    });
    const error = await rejectionOf(client().request('get', `${target.url}/v1/vaults`, { authToken: TOKEN }));
    expect(error).toMatchObject({ code: 'INVALID_RESPONSE', status: 200, retryable: false });
  });

  it('stops reading a streamed body once it passes the cap', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let written = 0;
    const target = await server((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const pump = (): void => {
        // Up to twice the cap, unless the client hangs up first.
        while (written < 2 * MAX_RESPONSE_BYTES && !response.destroyed) {
          written += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
        response.end();
      };
      pump();
    });
    const error = await rejectionOf(client().request('get', `${target.url}/v1/vaults`, { authToken: TOKEN }));
    expect(error).toMatchObject({ code: 'INVALID_RESPONSE', retryable: false });
  });
});

describe('errors', () => {
  it('maps the status, keeps Connect\'s message as the cause only, and reads Retry-After', async () => {
    const target = await server((_request, response) => json(response, 429, { status: 429, message: 'slow down' }, { 'retry-after': '7' }));
    const error = await rejectionOf(client().request('get', `${target.url}/v1/vaults`, { authToken: TOKEN }));
    expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfterMs: 7_000, retryable: true });
    expect(((error as ConnectError).cause as Error).message).toBe('Connect said: slow down');
  });

  it('a 200 that is not JSON is INVALID_RESPONSE, without quoting the body', async () => {
    const target = await server((_request, response) => { response.writeHead(200).end(`{"value":"SEEDVALUE-${TOKEN}`); });
    const error = await rejectionOf(client().request('get', `${target.url}/v1/vaults`, { authToken: TOKEN }));
    expect(error).toMatchObject({ code: 'INVALID_RESPONSE', status: 200, retryable: true });
    expect(String(error)).not.toContain('SEEDVALUE');
  });

  it('a refused connection rejects with ECONNREFUSED, which is NETWORK', async () => {
    const closed = await serve(() => undefined);
    await closed.close();
    const raw = await rejectionOf(client().request('get', `${closed.url}/v1/vaults`, { authToken: TOKEN }));
    expect(raw).toMatchObject({ code: 'ECONNREFUSED' });
    expect(toConnectError(raw)).toMatchObject({ code: 'NETWORK', retryable: true });
  });

  it('a connection reset before the answer rejects with ECONNRESET, which is NETWORK', async () => {
    const target = await server((request) => { request.socket.destroy(); });
    const raw = await rejectionOf(client().request('get', `${target.url}/v1/vaults`, { authToken: TOKEN }));
    expect(raw).toMatchObject({ code: 'ECONNRESET' });
    expect(toConnectError(raw)).toMatchObject({ code: 'NETWORK' });
  });

  it('a connection closed mid-body rejects with ECONNRESET, which is NETWORK', async () => {
    const target = await server((request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      response.write('{"id":');
      setTimeout(() => request.socket.destroy(), 20);
    });
    const raw = await rejectionOf(client().request('get', `${target.url}/v1/vaults`, { authToken: TOKEN }));
    expect(raw).toMatchObject({ code: 'ECONNRESET' });
    expect(toConnectError(raw)).toMatchObject({ code: 'NETWORK' });
  });

  it('an aborted signal cuts off a request that gets no answer, as TIMEOUT', async () => {
    const target = await server(() => undefined);
    const controller = new AbortController();
    const pending = rejectionOf(client(controller.signal).request('get', `${target.url}/v1/vaults`, { authToken: TOKEN }));
    setTimeout(() => controller.abort(new DOMException('attempt timed out', 'TimeoutError')), 50);
    const raw = await pending;
    expect(toConnectError(raw)).toMatchObject({ code: 'TIMEOUT' });
  });

  it('an aborted signal cuts off a body that stops arriving', async () => {
    const target = await server((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('[');
    });
    const controller = new AbortController();
    const pending = rejectionOf(client(controller.signal).request('get', `${target.url}/v1/vaults`, { authToken: TOKEN }));
    setTimeout(() => controller.abort(new DOMException('attempt timed out', 'TimeoutError')), 50);
    expect(toConnectError(await pending)).toMatchObject({ code: 'TIMEOUT' });
  });
});
