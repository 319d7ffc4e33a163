/**
 * The HTTP transport under `@1password/connect`: global fetch with one AbortSignal per attempt,
 * and the one place where whatever a request produced becomes a ConnectError.
 *
 * The SDK's own transport (axios, 15 s timeout, no retries, rejections in four shapes, the
 * request config with the Authorization header attached to errors) cannot honour a deadline
 * that belongs to a Lambda invocation; its `httpClient` option lets this one take its place.
 */
import type { ClientRequestOptions, IRequestClient } from '@1password/connect';
import { ConnectError, type ConnectErrorCode } from './errors';

type HttpMethod = Parameters<IRequestClient['request']>[0];
type SdkResponse = Awaited<ReturnType<IRequestClient['request']>>;

/** How long Connect may ask us to wait, at most, before we stop believing it (1 hour). */
const MAX_RETRY_AFTER_MS = 3_600_000;
/** Connect's error messages are short; anything longer is not Connect talking. */
const MAX_MESSAGE_LENGTH = 200;

/** An IRequestClient whose every request is bounded by `signal`. */
export class FetchHttpClient implements IRequestClient {
  /** Required by IRequestClient; the signal, not this number, bounds each request. */
  defaultTimeout = 0;

  constructor(private readonly signal: AbortSignal) {}

  async request(method: HttpMethod, url: string, options: ClientRequestOptions): Promise<SdkResponse> {
    const target = withParams(url, options.params);
    const response = await fetch(target, {
      method: method.toUpperCase(),
      headers: requestHeaders(options),
      body: requestBody(options.data),
      // Connect never redirects; following one could hand the token to another origin.
      redirect: 'manual',
      signal: this.signal,
    });
    const text = await response.text();
    if (response.status < 200 || response.status > 299) {
      throw errorFromResponse(response.status, text, response.headers.get('retry-after'));
    }
    return { status: response.status, data: parseJsonBody(text, response.status) };
  }
}

/** The ConnectError for a non-2xx answer: code from the status, Connect's message kept as cause only. */
export function errorFromResponse(status: number, body: string, retryAfter: string | null): ConnectError {
  const connectMessage = messageFromBody(body);
  return new ConnectError(codeForStatus(status), describeStatus(status), {
    status,
    retryAfterMs: parseRetryAfter(retryAfter),
    cause: connectMessage === undefined ? undefined : new Error(`Connect said: ${connectMessage}`),
  });
}

/** Maps an HTTP status to the error code that decides whether it is retried. */
export function codeForStatus(status: number): ConnectErrorCode {
  if (status === 400) return 'BAD_REQUEST';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 408) return 'TIMEOUT';
  if (status === 429) return 'RATE_LIMITED';
  if (status >= 500 && status <= 599) return 'SERVER';
  if (status >= 400 && status <= 499) return 'BAD_REQUEST';
  return 'INVALID_RESPONSE';
}

/** What a status means for the caller, in words that name neither host nor token. */
export function describeStatus(status: number): string {
  switch (codeForStatus(status)) {
    case 'UNAUTHORIZED':
      return 'Connect rejected the token (401): it is invalid, expired or lacks permission';
    case 'FORBIDDEN':
      return 'Connect refused access (403): the vault is outside the token\'s scope';
    case 'NOT_FOUND':
      return 'Connect found no such vault or item (404)';
    case 'RATE_LIMITED':
      return 'Connect is rate limiting requests (429)';
    case 'SERVER':
      return `Connect failed with a server error (${status})`;
    case 'TIMEOUT':
      return `Connect timed out the request (${status})`;
    case 'BAD_REQUEST':
      return `Connect rejected the request (${status})`;
    default:
      return `Connect answered with unexpected status ${status}`;
  }
}

/**
 * Retry-After as milliseconds from now: delta-seconds or an HTTP date (RFC 9110 section 10.2.3).
 * Unparseable or absent values give undefined; dates in the past give 0.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date) || !/[a-z]/i.test(trimmed)) return undefined;
  return Math.min(Math.max(0, date - now), MAX_RETRY_AFTER_MS);
}

function withParams(url: string, params: ClientRequestOptions['params']): string {
  if (!params) return url;
  // URLSearchParams percent-encodes every value, which the SDK's own query building does not.
  const target = new URL(url);
  for (const [name, value] of Object.entries(params)) {
    for (const entry of Array.isArray(value) ? value : [value]) target.searchParams.append(name, String(entry));
  }
  return target.href;
}

function requestHeaders(options: ClientRequestOptions): Record<string, string> {
  const extra = Object.fromEntries(Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));
  return {
    ...extra,
    accept: 'application/json',
    'content-type': 'application/json',
    'user-agent': 'op-lambda',
    authorization: `Bearer ${options.authToken}`,
  };
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

/** Keeps a message printable and short. */
export function clip(message: string): string {
  const printable = message.replace(/[^\x20-\x7e]/g, ' ');
  return printable.length > MAX_MESSAGE_LENGTH ? `${printable.slice(0, MAX_MESSAGE_LENGTH)}…` : printable;
}
