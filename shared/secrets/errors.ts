/**
 * The error family of op-lambda. Every failure that reaches user code is one of these classes,
 * whatever shape the underlying transport produced. Messages name references, codes and HTTP
 * statuses only: never a secret value, a token or a Connect host.
 */

/** A string that is not a valid 1Password secret reference. */
export class InvalidReferenceError extends Error {
  override readonly name = 'InvalidReferenceError';
  readonly code = 'INVALID_REFERENCE';

  constructor(
    /** The reference as written. References are addresses, not secrets, so naming them is safe. */
    readonly reference: string,
    /** Zero-based index into `reference` where the problem was found. */
    readonly position: number,
    /** What is wrong, without the reference (e.g. "empty item segment"). */
    readonly reason: string,
  ) {
    // JSON quoting keeps a stray newline or quote in the reference from breaking the log line.
    super(`Invalid 1Password secret reference ${JSON.stringify(reference)}: ${reason} at position ${position}`);
  }
}

/** Why a Connect request or a resolution failed. */
export type ConnectErrorCode =
  | 'NETWORK' // refused, reset, DNS: transient
  | 'TIMEOUT' // the deadline passed: transient
  | 'RATE_LIMITED' // 429: transient, honours Retry-After
  | 'SERVER' // 5xx: transient
  | 'INVALID_RESPONSE' // a body that is not what Connect sends: transient (proxies, truncation)
  | 'BAD_REQUEST' // 400: permanent
  | 'UNAUTHORIZED' // 401, bad or read-only token: permanent
  | 'FORBIDDEN' // 403, vault outside the token's scope: permanent
  | 'NOT_FOUND' // 404, vault or item absent: permanent
  | 'FIELD_NOT_FOUND' // the item has no such field or section: permanent
  | 'AMBIGUOUS' // several vaults, items or fields match a name: permanent
  | 'INSECURE_HOST' // OP_CONNECT_HOST is not https and not loopback: permanent
  | 'TOKEN_UNAVAILABLE'; // the Connect token could not be obtained: permanent unless the source says otherwise

const TRANSIENT: ReadonlySet<ConnectErrorCode> = new Set(['NETWORK', 'TIMEOUT', 'RATE_LIMITED', 'SERVER', 'INVALID_RESPONSE']);

/** Whether a failure with this code may succeed when tried again. */
export function isTransient(code: ConnectErrorCode): boolean {
  return TRANSIENT.has(code);
}

export interface ConnectErrorOptions {
  status?: number;
  reference?: string;
  /** Server-requested wait before the next attempt (from Retry-After). */
  retryAfterMs?: number;
  /**
   * Whether trying again may succeed, when the code alone cannot tell (a token source that was
   * unreachable rather than refusing, say).
   * @default isTransient(code)
   */
  retryable?: boolean;
  cause?: unknown;
}

/** One normalised failure of 1Password Connect. */
export class ConnectError extends Error {
  override readonly name = 'ConnectError';
  readonly status?: number;
  readonly retryable: boolean;
  readonly reference?: string;
  readonly retryAfterMs?: number;

  constructor(
    readonly code: ConnectErrorCode,
    /** The message without the reference. */
    readonly detail: string,
    options: ConnectErrorOptions = {},
  ) {
    super(options.reference ? `${detail} (${options.reference})` : detail, { cause: options.cause });
    this.status = options.status;
    this.retryable = options.retryable ?? isTransient(code);
    this.reference = options.reference;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** The same failure, attributed to one reference. */
  forReference(reference: string): ConnectError {
    if (this.reference === reference) return this;
    return new ConnectError(this.code, this.detail, {
      status: this.status,
      reference,
      retryAfterMs: this.retryAfterMs,
      retryable: this.retryable,
      cause: this.cause,
    });
  }
}

/** A declaration that cannot be satisfied: a required secret without a reference, or a bad name. */
export class SecretDeclarationError extends Error {
  override readonly name = 'SecretDeclarationError';
  readonly code = 'INVALID_DECLARATION';

  constructor(
    /** The declared name (never a value). */
    readonly secretName: string,
    reason: string,
  ) {
    super(`Secret ${secretName}: ${reason}`);
  }
}

/**
 * A required secret could not be provided to the handler. API Gateway events turn this into a
 * 503 problem+json; other events see it thrown.
 */
export class SecretsUnavailableError extends Error {
  override readonly name = 'SecretsUnavailableError';
  readonly code = 'SECRETS_UNAVAILABLE';
  /** HTTP status this error maps to (for @middy/http-error-handler). */
  readonly statusCode = 503;
  /** Marks the message as safe to show to clients (@middy/http-error-handler convention). */
  readonly expose = true;

  constructor(
    /** The declared names (not references, not values) that are unavailable. */
    readonly names: readonly string[],
    /** Suggested client wait, in seconds, for Retry-After. */
    readonly retryAfterSeconds: number,
    /** The underlying failures; never shown to clients. */
    readonly causes: readonly Error[] = [],
  ) {
    super('Secrets are temporarily unavailable');
  }
}
