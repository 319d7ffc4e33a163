/**
 * API Gateway proxy events: REST API (payload v1) and HTTP API (payload v2, which function URLs
 * share). Recognising them (only these get HTTP answers from op-lambda; any other event source
 * sees errors thrown, so that its own retry and dead-letter rules apply), and reading them: the
 * body exactly as received, and headers whatever their case.
 */

/** The parts of a proxy event (v1 or v2) that the readers below look at. */
export interface HttpEventLike {
  body?: string | null;
  isBase64Encoded?: boolean;
  headers?: Record<string, string | undefined> | null;
}

/** The API Gateway payload format of an event, or undefined for any other event. */
export function apiGatewayVersion(event: unknown): 'v1' | 'v2' | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const { requestContext, version, httpMethod } = event as { requestContext?: unknown; version?: unknown; httpMethod?: unknown };
  if (typeof requestContext !== 'object' || requestContext === null) return undefined;
  const context = requestContext as { apiId?: unknown; http?: unknown };
  if (typeof context.apiId !== 'string') return undefined;
  if (version === '2.0' && typeof context.http === 'object' && context.http !== null) return 'v2';
  if (typeof httpMethod === 'string') return 'v1';
  return undefined;
}

/** Whether an event came through API Gateway (REST or HTTP API) and expects an HTTP response. */
export function isApiGatewayEvent(event: unknown): boolean {
  return apiGatewayVersion(event) !== undefined;
}

/**
 * Whether the readers below can read `event`: an object whose body, if any, is a string and whose
 * headers, if any, are strings by name. API Gateway sends nothing else; a direct invoke can, and
 * such an event deserves a 400 rather than a TypeError.
 */
export function isReadableHttpEvent(event: unknown): event is HttpEventLike {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return false;
  const { body, headers } = event as { body?: unknown; headers?: unknown };
  if (body !== undefined && body !== null && typeof body !== 'string') return false;
  if (headers === undefined || headers === null) return true;
  if (typeof headers !== 'object' || Array.isArray(headers)) return false;
  return Object.values(headers).every((value) => value === undefined || typeof value === 'string');
}

/** The request body as the client sent it: base64 bodies decoded, nothing parsed or re-serialised. */
export function rawBody(event: HttpEventLike): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

/** A header's value by case-insensitive name (HTTP API lower-cases names; REST APIs keep them). */
export function header(event: HttpEventLike, name: string): string | undefined {
  const headers = event.headers ?? {};
  const wanted = name.toLowerCase();
  // Own properties only: a name such as `constructor` must not find Object.prototype's.
  if (Object.hasOwn(headers, wanted) && headers[wanted] !== undefined) return headers[wanted];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}
