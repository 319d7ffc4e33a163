/**
 * HTTP answers of functions behind API Gateway: the result shape both REST (payload v1) and HTTP
 * APIs (payload v2) accept, and JSON bodies. Errors are problems: see problem.ts.
 */

/** An API Gateway proxy result with every member set. */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** A JSON answer that no cache keeps; `headers` are added. */
export function jsonResponse(statusCode: number, body: unknown, headers: Readonly<Record<string, string>> = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}
