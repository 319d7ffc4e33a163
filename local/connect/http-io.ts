// Reading requests and writing responses; every response carries Connect's version header.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { ConnectError } from './errors';

export const CONNECT_VERSION = '1.7.1';
export const VERSION_HEADER = '1Password-Connect-Version';

const MAX_BODY_BYTES = 1024 * 1024;

export interface ConnectResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): ConnectResponse {
  return { status, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

export function textResponse(status: number, text: string, contentType = 'text/plain; charset=utf-8'): ConnectResponse {
  return { status, headers: { 'Content-Type': contentType }, body: text };
}

export function errorResponse(status: number, message: string, headers: Record<string, string> = {}): ConnectResponse {
  return jsonResponse(status, { status, message }, headers);
}

export function responseForError(error: unknown): ConnectResponse {
  if (error instanceof ConnectError) return errorResponse(error.status, error.message);
  // Unexpected errors are not described: their text could quote request content.
  return errorResponse(500, STATUS_CODES[500] ?? 'Internal Server Error');
}

export function bodyBytes(response: ConnectResponse): Buffer {
  const body = response.body ?? '';
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

export function responseHeaders(response: ConnectResponse, body: Buffer): Record<string, string> {
  return { [VERSION_HEADER]: CONNECT_VERSION, ...response.headers, 'Content-Length': String(body.length) };
}

export function writeResponse(res: ServerResponse, response: ConnectResponse): void {
  if (res.destroyed || res.headersSent) return;
  const body = bodyBytes(response);
  res.writeHead(response.status, responseHeaders(response, body));
  res.end(body);
}

/** The request body, bounded; an oversized body is a 413. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ConnectError(413, 'Request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON body without ever quoting it in the error. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ConnectError(400, 'Unable to parse the request body as JSON');
  }
}
