/**
 * The 1Password Connect token: `OP_CONNECT_TOKEN` (local runs, tests) or, on AWS, the Secrets
 * Manager secret named by `OP_CONNECT_TOKEN_SECRET_ARN`, read once per container. The secret holds
 * the bare token or JSON `{"token": "..."}`.
 *
 * Concurrent readers share one Secrets Manager call; a failure is never kept, so the next read
 * tries again; `invalidate()` (after Connect answers 401) forces a fresh read. An outage of Secrets
 * Manager (network, throttling, 5xx, timeout) is a retryable failure; a missing or unreadable
 * secret, or one that holds no token, is permanent.
 */
import { RUNTIME_ENV, type Environment } from '../environment';
import { ConnectError } from '../errors';
import { takeEarlyTokenRead } from './early-responses';

export interface ConnectTokenSource {
  /** The token. Rejects with ConnectError `TOKEN_UNAVAILABLE`, whose message never holds a secret. */
  get(): Promise<string>;
  /** Forgets a token read from Secrets Manager, so the next `get()` reads it again. */
  invalidate(): void;
}

export interface ConnectTokenOptions {
  /** @default process.env */
  readonly env?: Environment;
  /**
   * Reads a secret's value (SecretString, or SecretBinary as UTF-8) from Secrets Manager.
   * @default GetSecretValue signed over node:https (secrets-manager-reader), loaded on first use
   */
  readonly readSecret?: SecretReader;
  /**
   * Upper bound for one Secrets Manager read, retries included.
   * @default 5000
   */
  readonly timeoutMs?: number;
}

export type SecretReader = (secretId: string, signal: AbortSignal) => Promise<string>;

export const TOKEN_ENV = RUNTIME_ENV.OP_CONNECT_TOKEN;
export const TOKEN_SECRET_ARN_ENV = RUNTIME_ENV.OP_CONNECT_TOKEN_SECRET_ARN;

/**
 * Where this container gets its Connect token. Throws ConnectError `TOKEN_UNAVAILABLE` when the
 * environment names no token at all: that is a deployment mistake, best reported at INIT.
 */
export function connectTokenSource(options: ConnectTokenOptions = {}): ConnectTokenSource {
  const env = options.env ?? process.env;
  const token = env[TOKEN_ENV];
  if (token) return fixedToken(token);
  const secretId = env[TOKEN_SECRET_ARN_ENV];
  if (secretId) {
    // The early start read the secret with the default reader: a reader of the caller's own reads it again.
    const earlyRead = options.readSecret ? undefined : takeEarlyTokenRead(secretId);
    return new SecretsManagerTokenSource(secretId, options.readSecret ?? readerFor(env), options.timeoutMs ?? 5000, earlyRead);
  }
  throw new ConnectError('TOKEN_UNAVAILABLE', `no Connect token configured: set ${TOKEN_ENV} or ${TOKEN_SECRET_ARN_ENV}`);
}

/** A token given as it is: nothing to read again after a 401. */
export function fixedToken(token: string): ConnectTokenSource {
  return { get: () => Promise.resolve(token), invalidate: () => undefined };
}

class SecretsManagerTokenSource implements ConnectTokenSource {
  private token?: string;
  private pending?: Promise<string>;

  constructor(
    private readonly secretId: string,
    private readonly readSecret: SecretReader,
    private readonly timeoutMs: number,
    /** The read the early start sent during INIT (./early-start.ts), used once. */
    private earlyRead: Promise<string> | undefined,
  ) {}

  get(): Promise<string> {
    if (this.token !== undefined) return Promise.resolve(this.token);
    this.pending ??= this.read().then(
      (token) => {
        this.token = token;
        this.pending = undefined;
        return token;
      },
      (error: unknown) => {
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending;
  }

  invalidate(): void {
    this.token = undefined;
  }

  private async read(): Promise<string> {
    let secret: string;
    try {
      secret = await this.readEarlyOr(() => this.readSecret(this.secretId, AbortSignal.timeout(this.timeoutMs)));
    } catch (error) {
      throw new ConnectError('TOKEN_UNAVAILABLE', `reading the Connect token from Secrets Manager failed (${errorName(error)})`, {
        retryable: isSecretsManagerOutage(error),
        cause: error,
      });
    }
    return tokenFrom(secret);
  }

  /** The early start's read, once; if it failed, a read of our own. */
  private async readEarlyOr(read: () => Promise<string>): Promise<string> {
    const early = this.earlyRead;
    this.earlyRead = undefined;
    if (early) {
      try {
        return await early;
      } catch {
        // Failed before this code was loaded: ask again, and report this read's failure if any.
      }
    }
    return read();
  }
}

/**
 * GetSecretValue without the AWS SDK client (evaluating it costs some 30 ms of INIT), its module
 * loaded on first use so that containers given OP_CONNECT_TOKEN never evaluate the signer either:
 * a dynamic import, which esbuild's CommonJS bundle turns into a `require` run on first use.
 */
function readerFor(env: Environment): SecretReader {
  return async (secretId, signal) => (await import('./secrets-manager-reader')).getSecretValue(secretId, { env, signal });
}

/**
 * The token inside a secret string. Parse failures carry no cause: JSON.parse quotes its input
 * in its message, and the input is the secret.
 */
export function tokenFrom(secret: string): string {
  const text = secret.trim();
  if (!text.startsWith('{')) {
    if (text) return text;
    throw new ConnectError('TOKEN_UNAVAILABLE', 'the Connect token secret is empty');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConnectError('TOKEN_UNAVAILABLE', 'the Connect token secret is not valid JSON');
  }
  const token = typeof parsed === 'object' && parsed !== null ? (parsed as { token?: unknown }).token : undefined;
  if (typeof token === 'string' && token.trim()) return token.trim();
  throw new ConnectError('TOKEN_UNAVAILABLE', 'the Connect token secret is JSON without a non-empty "token" string');
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** Errors of the service or the SDK that say "try again later", not "this will never work". */
const TRANSIENT_ERROR_NAMES: ReadonlySet<string> = new Set([
  'InternalServiceError', // Secrets Manager's 5xx
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError', // connection or socket timeout
  'AbortError', // our own timeout aborted the call
]);
/** Node socket errors: the endpoint could not be reached, or the connection broke. */
const TRANSIENT_SYSTEM_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

interface AwsErrorShape {
  name?: unknown;
  code?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  cause?: unknown;
}

/**
 * Whether a failed GetSecretValue may succeed when tried again: network failures, throttling,
 * 5xx and timeouts. ResourceNotFoundException, AccessDeniedException, DecryptionFailure and other
 * client faults are permanent.
 */
function isSecretsManagerOutage(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const shape = error as AwsErrorShape;
  const status = shape.$metadata?.httpStatusCode;
  if (typeof shape.name === 'string' && TRANSIENT_ERROR_NAMES.has(shape.name)) return true;
  if (typeof shape.code === 'string' && TRANSIENT_SYSTEM_CODES.has(shape.code)) return true;
  if (shape.$fault === 'server' || shape.$retryable !== undefined) return true;
  if (typeof status === 'number' && (status === 429 || status >= 500)) return true;
  return isSecretsManagerOutage(shape.cause, depth + 1);
}
