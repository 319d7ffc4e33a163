/**
 * Maps a function's return value to an HTTP response by API Gateway's payload format 2.0 rules:
 * - an object with `statusCode` is a structured response: `headers` (and, leniently,
 *   `multiValueHeaders`), `cookies` (one `Set-Cookie` each), `body`, `isBase64Encoded`;
 * - anything else (an object without `statusCode`, a string, a number) is the body of a 200
 *   `application/json` response — strings as they are, everything else as JSON.
 * A structured response that API Gateway would reject (bad status, non-string body or
 * headers) is reported as malformed; the caller answers 500.
 */

export interface MappedResponse {
  statusCode: number;
  /** Header name (lower-case) and value pairs; `set-cookie` may repeat. */
  headers: [string, string][];
  body: Buffer;
}

export type MappingResult = { ok: true; response: MappedResponse } | { ok: false; reason: string };

/** Hop-by-hop and framing headers are the gateway's business, not the function's. */
const GATEWAY_OWNED_HEADERS = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade']);

export function mapFunctionResponse(payload: unknown): MappingResult {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || !('statusCode' in payload)) {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    return { ok: true, response: { statusCode: 200, headers: [['content-type', 'application/json']], body: Buffer.from(body ?? 'null') } };
  }
  return mapStructured(payload as Record<string, unknown>);
}

function mapStructured(result: Record<string, unknown>): MappingResult {
  const statusCode = result.statusCode;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    return { ok: false, reason: `statusCode must be an integer from 100 to 599, got ${JSON.stringify(statusCode)}` };
  }
  if (result.body !== undefined && result.body !== null && typeof result.body !== 'string') {
    return { ok: false, reason: `body must be a string, got ${typeof result.body}` };
  }
  const headers = headerPairs(result);
  if (typeof headers === 'string') return { ok: false, reason: headers };
  const text = typeof result.body === 'string' ? result.body : '';
  const body = result.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  return { ok: true, response: { statusCode, headers, body } };
}

function headerPairs(result: Record<string, unknown>): [string, string][] | string {
  const merged = new Map<string, string[]>();
  const add = (name: string, value: unknown): string | undefined => {
    if (!['string', 'number', 'boolean'].includes(typeof value)) return `header ${name} must be a string, number or boolean`;
    const lower = name.toLowerCase();
    if (!GATEWAY_OWNED_HEADERS.has(lower)) merged.set(lower, [...(merged.get(lower) ?? []), String(value)]);
    return undefined;
  };
  for (const [name, values] of Object.entries(asRecord(result.multiValueHeaders))) {
    for (const value of Array.isArray(values) ? values : [values]) {
      const problem = add(name, value);
      if (problem) return problem;
    }
  }
  for (const [name, value] of Object.entries(asRecord(result.headers))) {
    const problem = add(name, value);
    if (problem) return problem;
  }
  const pairs: [string, string][] = [];
  for (const [name, values] of merged) {
    if (name === 'set-cookie') pairs.push(...values.map((value): [string, string] => [name, value]));
    else pairs.push([name, values.join(',')]);
  }
  if (Array.isArray(result.cookies)) pairs.push(...result.cookies.map((cookie): [string, string] => ['set-cookie', String(cookie)]));
  return pairs;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
