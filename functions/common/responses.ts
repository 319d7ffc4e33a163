/**
 * HTTP answers of the reference functions: JSON bodies, and RFC 9457 problems built on
 * shared/http/problem with optional extension members (e.g. `invalid-params`).
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { problemResponse, type Problem } from '../../shared/http/problem';

export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string>; body: string };

export function jsonResponse(statusCode: number, body: unknown, headers: Readonly<Record<string, string>> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

const STANDARD_MEMBERS: ReadonlySet<string> = new Set(['type', 'title', 'status', 'detail', 'instance']);

export interface ProblemExtras {
  /** Extension members, added after the standard ones (which they cannot replace). */
  extensions?: Readonly<Record<string, unknown>>;
  headers?: Readonly<Record<string, string>>;
}

export function problem(status: number, detail: string, extras: ProblemExtras & Omit<Problem, 'status' | 'detail'> = {}): HttpResult {
  const { extensions, headers, ...rest } = extras;
  const response = problemResponse({ ...rest, status, detail }, headers);
  const extra = Object.entries(extensions ?? {}).filter(([name]) => !STANDARD_MEMBERS.has(name));
  if (extra.length === 0) return response;
  return { ...response, body: JSON.stringify({ ...(JSON.parse(response.body) as object), ...Object.fromEntries(extra) }) };
}

/**
 * The function's own log lines, under the same `service` as op-lambda's audit lines
 * (POWERTOOLS_SERVICE_NAME, else the Lambda function's name), so one query finds both.
 */
export function functionLogger(fallbackService: string): Logger {
  return new Logger({ serviceName: process.env['POWERTOOLS_SERVICE_NAME'] ?? process.env['AWS_LAMBDA_FUNCTION_NAME'] ?? fallbackService });
}
