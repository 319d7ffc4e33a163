/**
 * Reading API Gateway proxy events (HTTP API v2, and REST API v1 where it costs nothing): the body
 * exactly as received, and headers whatever their case.
 */

export interface HttpEventLike {
  body?: string | null;
  isBase64Encoded?: boolean;
  headers?: Record<string, string | undefined> | null;
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
