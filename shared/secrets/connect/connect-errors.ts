/**
 * Every way a Connect call can fail, as one ConnectError.
 *
 * `@1password/connect` rejects in four shapes: Connect's `{status, message}` body (or the SDK's own
 * imitation of it), a bare string (a non-JSON error body), an AxiosError (network failures, with
 * the request config and its Authorization header attached) and plain Errors. Whatever arrives,
 * the result carries a code, a status when there was one, and a `cause` that is a fresh Error with
 * a clipped message: never the original object, so no header, config or body travels on. Also
 * what an HTTP status means (its code and words) and how long a Retry-After asks to wait.
 */
import { ConnectError, type ConnectErrorCode } from '../errors';

/** How long Connect may ask us to wait, at most, before we stop believing it (1 hour). */
const MAX_RETRY_AFTER_MS = 3_600_000;
/** Connect's error messages are short; anything longer is not Connect talking. */
const MAX_MESSAGE_LENGTH = 200;

const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ERR_NETWORK',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'ETIMEDOUT',
  'ECONNABORTED',
  'ESOCKETTIMEDOUT',
  'ERR_CANCELED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Turns any rejection into a ConnectError, attributed to `reference` when given. */
export function toConnectError(error: unknown, reference?: string): ConnectError {
  const normalised = classify(error);
  return reference === undefined ? normalised : normalised.forReference(reference);
}

function classify(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (typeof error === 'string') {
    return new ConnectError('INVALID_RESPONSE', 'Connect failed with a body that is not JSON', {
      cause: new Error(`unstructured rejection of ${error.length} characters`),
    });
  }
  if (!isRecord(error)) {
    return new ConnectError('NETWORK', 'Connect request failed for an unrecognised reason', {
      cause: new Error(`rejection of type ${error === null ? 'null' : typeof error}`),
    });
  }
  if (error['isAxiosError'] === true) return fromAxiosError(error);
  if (typeof error['status'] === 'number' && !isErrorLike(error)) return fromStatusBody(error);
  if (isErrorLike(error)) return fromError(error);
  return new ConnectError('NETWORK', 'Connect request failed for an unrecognised reason', {
    cause: new Error('rejection of an object without status'),
  });
}

/** `{status, message}`: Connect's error body, or the SDK's HttpErrorFactory imitating it. */
function fromStatusBody(body: Record<string, unknown>): ConnectError {
  const status = body['status'] as number;
  const message = typeof body['message'] === 'string' ? body['message'] : undefined;
  // The SDK reports several vaults or items with one title as a 400 "Found multiple ...".
  const code: ConnectErrorCode = status === 400 && message !== undefined && /multiple/i.test(message) ? 'AMBIGUOUS' : codeForStatus(status);
  const detail = code === 'AMBIGUOUS' ? 'several vaults or items match the title' : describeStatus(status);
  return new ConnectError(code, detail, { status, cause: message === undefined ? undefined : new Error(`Connect said: ${clip(message)}`) });
}

function fromAxiosError(error: Record<string, unknown>): ConnectError {
  const response = isRecord(error['response']) ? error['response'] : undefined;
  const cause = sanitisedCause(error, 'AxiosError', typeof error['code'] === 'string' ? error['code'] : undefined);
  if (response && typeof response['status'] === 'number') {
    const status = response['status'];
    const headers = isRecord(response['headers']) ? response['headers'] : {};
    const retryAfter = headers['retry-after'];
    return new ConnectError(codeForStatus(status), describeStatus(status), {
      status,
      retryAfterMs: parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : undefined),
      cause,
    });
  }
  const code = typeof error['code'] === 'string' ? error['code'] : undefined;
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new ConnectError('TIMEOUT', `Connect request timed out (${code})`, { cause });
  return new ConnectError('NETWORK', `Connect could not be reached${code === undefined ? '' : ` (${code})`}`, { cause });
}

function fromError(error: ErrorLike): ConnectError {
  const code = systemCode(error);
  const cause = sanitisedCause(error, error.name, code);
  if (error.name === 'TimeoutError' || error.name === 'AbortError') {
    return new ConnectError('TIMEOUT', 'Connect request was cut off by its deadline', { cause });
  }
  if (error.name === 'SyntaxError') return new ConnectError('INVALID_RESPONSE', 'Connect answered with a malformed body', { cause });
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new ConnectError('TIMEOUT', `Connect request timed out (${code})`, { cause });
  if (code !== undefined && NETWORK_CODES.has(code)) return new ConnectError('NETWORK', `Connect could not be reached (${code})`, { cause });
  // fetch rejects with TypeError("fetch failed" | "terminated") for refused, reset and cut-short bodies.
  if (error.name === 'TypeError' && /fetch failed|terminated|socket|network/i.test(error.message)) {
    return new ConnectError('NETWORK', 'Connect connection failed', { cause });
  }
  return new ConnectError('NETWORK', 'Connect request failed', { cause });
}

/** The system error code of an error or of the error that caused it (fetch nests them). */
function systemCode(error: ErrorLike): string | undefined {
  for (let current: unknown = error, depth = 0; isRecord(current) && depth < 4; current = current['cause'], depth++) {
    if (typeof current['code'] === 'string') return current['code'];
  }
  return undefined;
}

/** A fresh Error with the original's name, code and clipped message, and nothing else. */
function sanitisedCause(error: object, name: string, code: string | undefined): Error {
  const message = 'message' in error && typeof error.message === 'string' ? error.message : 'request failed';
  const cause = new Error(clip(code === undefined ? message : `${message} [${code}]`));
  // Non-enumerable, as on any Error: the cause serialises to {}.
  Object.defineProperty(cause, 'name', { value: name, enumerable: false, writable: true, configurable: true });
  return cause;
}

interface ErrorLike extends Record<string, unknown> {
  name: string;
  message: string;
}

/**
 * Errors by shape, not `instanceof`: errors made by Node's internals (fetch's TypeError, an
 * AbortSignal's DOMException) may come from another realm, where `instanceof Error` is false.
 */
function isErrorLike(value: Record<string, unknown>): value is ErrorLike {
  return value instanceof Error || (typeof value['name'] === 'string' && typeof value['message'] === 'string');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
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

/** Keeps a message printable and short. */
export function clip(message: string): string {
  const printable = message.replace(/[^\x20-\x7e]/g, ' ');
  return printable.length > MAX_MESSAGE_LENGTH ? `${printable.slice(0, MAX_MESSAGE_LENGTH)}…` : printable;
}
