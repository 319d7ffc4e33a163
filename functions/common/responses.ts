/**
 * HTTP answers of the reference functions: JSON bodies, and RFC 9457 problems built on
 * shared/http/problem with optional extension members (e.g. `invalid-params`).
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { problemResponse, type Problem } from '../../shared/http/problem';

export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string>; body: string };

export function jsonResponse(statusCode: number, body: unknown, headers: Readonly<Record<string, string>> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

export interface ProblemExtras {
  /** Extension members, added after the standard ones (which they cannot replace). */
  extensions?: Readonly<Record<string, unknown>>;
  headers?: Readonly<Record<string, string>>;
}

export function problem(status: number, detail: string, extras: ProblemExtras & Omit<Problem, 'status' | 'detail'> = {}): HttpResult {
  const { extensions, headers, ...rest } = extras;
  const response = problemResponse({ ...rest, status, detail }, headers);
  if (!extensions) return response;
  return { ...response, body: JSON.stringify({ ...extensions, ...(JSON.parse(response.body) as object) }) };
}
