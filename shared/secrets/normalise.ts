/**
 * Every way a Connect call can fail, as one ConnectError.
 *
 * `@1password/connect` rejects in four shapes: Connect's `{status, message}` body (or the SDK's own
 * imitation of it), a bare string (a non-JSON error body), an AxiosError (network failures, with
 * the request config and its Authorization header attached) and plain Errors. Whatever arrives,
 * the result carries a code, a status when there was one, and a `cause` that is a fresh Error with
 * a clipped message: never the original object, so no header, config or body travels on.
 */
import { ConnectError, type ConnectErrorCode } from './errors';
import { clip, codeForStatus, describeStatus, parseRetryAfter } from './transport';

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
export function normaliseConnectError(error: unknown, reference?: string): ConnectError {
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
