/**
 * One HTTP exchange with the local gateway, timed, with a hard timeout: a load run must end even
 * when a request hangs, and a hang must show up as a failure, not as a slow run.
 */
import { Agent, request as httpRequest } from 'node:http';
import type { ApiRequest } from './requests';

/** What `send` needs of a request. */
export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface Exchange<R extends RawRequest = ApiRequest> {
  request: R;
  /** 0 when no response arrived (connection error or timeout). */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Epoch ms when the request was sent. */
  startedAt: number;
  durationMs: number;
  /** Why no response arrived. */
  failure?: 'timeout' | 'connection';
  /** The gateway's `apigw-requestid`, to find the invoke behind the answer. */
  requestId?: string;
}

/** A keep-alive pool sized for `clients` concurrent requests. */
export function createAgent(clients: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: clients });
}

export function send<R extends RawRequest>(baseUrl: string, apiRequest: R, options: { agent?: Agent; timeoutMs: number }): Promise<Exchange<R>> {
  // The path goes out as given: resolving it against the base would read `//x` as a host.
  const url = new URL(baseUrl);
  const startedAt = Date.now();
  const began = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (partial: Pick<Exchange<R>, 'status' | 'headers' | 'body' | 'failure'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const requestId = partial.headers['apigw-requestid'];
      resolve({ request: apiRequest, startedAt, durationMs: performance.now() - began, ...partial, ...(requestId ? { requestId } : {}) });
    };
    const req = httpRequest(
      { method: apiRequest.method, hostname: url.hostname, port: url.port, path: apiRequest.path, headers: apiRequest.headers, agent: options.agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, headers: flatHeaders(res.headers), body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => done({ status: 0, headers: {}, body: '', failure: 'connection' }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done({ status: 0, headers: {}, body: '', failure: 'timeout' });
    }, options.timeoutMs);
    req.on('error', () => done({ status: 0, headers: {}, body: '', failure: 'connection' }));
    req.end(apiRequest.body);
  });
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
