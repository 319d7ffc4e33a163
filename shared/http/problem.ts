/**
 * Problem Details for HTTP APIs (RFC 9457): the one error body shape of op-lambda's HTTP answers.
 * A problem says what went wrong for the client and nothing about the inside: no secret, no
 * vault, no host, no stack.
 */
import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from './responses';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  /** A URI naming the problem type. @default 'about:blank' (the status code says it all) */
  readonly type?: string;
  /** Short, human-readable summary. @default the status code's reason phrase */
  readonly title?: string;
  readonly status: number;
  /** Human-readable explanation of this occurrence, safe to show to any client. */
  readonly detail?: string;
  /**
   * Extension members (e.g. `invalid-params`), written after the standard members, which they
   * cannot replace. @default none
   */
  readonly extensions?: Readonly<Record<string, unknown>>;
}

/** An API Gateway proxy result (REST v1 and HTTP API v2 accept the same shape). */
export type ProblemResponse = HttpResponse;

/** Members an extension may not take: RFC 9457 defines them. */
const STANDARD_MEMBERS: ReadonlySet<string> = new Set(['type', 'title', 'status', 'detail', 'instance']);

/** The response for a problem; `headers` are added (e.g. Retry-After, WWW-Authenticate). */
export function problemResponse(problem: Problem, headers: Readonly<Record<string, string>> = {}): ProblemResponse {
  const extensions = Object.entries(problem.extensions ?? {}).filter(([name]) => !STANDARD_MEMBERS.has(name));
  const body = {
    type: problem.type ?? 'about:blank',
    title: problem.title ?? STATUS_CODES[problem.status] ?? 'Error',
    status: problem.status,
    ...(problem.detail === undefined ? {} : { detail: problem.detail }),
    ...Object.fromEntries(extensions),
  };
  return {
    statusCode: problem.status,
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, 'Cache-Control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** The longest wait a Retry-After asks for (a day): beyond that, "retry" means nothing to a client. */
const MAX_RETRY_AFTER_SECONDS = 86_400;

/** 503 with Retry-After: what a client sees while the secrets its request needs are unavailable. */
export function secretsUnavailableResponse(retryAfterSeconds: number): ProblemResponse {
  // Retry-After is delta-seconds (RFC 9110): digits only, so never NaN, Infinity or 1e+21.
  const seconds = Number.isNaN(retryAfterSeconds) ? 1 : Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(retryAfterSeconds)));
  return problemResponse(
    { status: 503, detail: `The service cannot handle this request right now. Retry after ${seconds} second${seconds === 1 ? '' : 's'}.` },
    { 'Retry-After': String(seconds) },
  );
}
