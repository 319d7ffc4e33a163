/**
 * What every operations handler needs from its environment and its invocation: which token to
 * use, and when to stop.
 */
import type { Context } from 'aws-lambda';
import type { Environment } from '../secrets/environment';
import { TOKEN_ENV, TOKEN_SECRET_ARN_ENV } from '../secrets/connect/token-source';
import { WRITE_TOKEN_SECRET_ARN_ENV } from './contract';

/** Time kept back from the Lambda timeout to report, flush metrics and return. */
const RESERVE_MS = 2_000;
/** Outside Lambda (scripts, tests without a context): a generous bound all the same. */
const DEFAULT_BUDGET_MS = 60_000;

/** The epoch millisecond by which this invocation's work must be over. */
export function invocationDeadline(context: Pick<Context, 'getRemainingTimeInMillis'> | undefined, now = Date.now()): number {
  const remaining = context?.getRemainingTimeInMillis?.() ?? DEFAULT_BUDGET_MS;
  return now + Math.max(0, remaining - RESERVE_MS);
}

/**
 * The environment as the token source should see it for the rotate function: locally the token
 * in OP_CONNECT_TOKEN (which must then be a read-write token), on AWS the write-token secret.
 * The read-only token secret is deliberately not consulted: a rotation with it could only fail.
 */
export function writeTokenEnvironment(env: Environment): Environment {
  return { [TOKEN_ENV]: env[TOKEN_ENV], [TOKEN_SECRET_ARN_ENV]: env[WRITE_TOKEN_SECRET_ARN_ENV] };
}
