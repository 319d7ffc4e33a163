/**
 * What a reliability test looks at in an answer and around it: the shape of a 503, the audit lines
 * of one function, and the invoke behind a response.
 */
import { appendFileSync } from 'node:fs';
import type { Exchange, RawRequest } from '../../../local/load/client';
import type { InvokeResult, LocalGateway } from '../../../local/gateway/server';

export const HEALTH: RawRequest = { method: 'GET', path: '/health', headers: {} };

let paymentSequence = 0;

/** A valid payment, authorized by `accessToken` (the route is behind the JWT authorizer). */
export function paymentRequest(accessToken: string): RawRequest {
  paymentSequence += 1;
  return {
    method: 'POST',
    path: '/payments',
    headers: {
      'content-type': 'application/json',
      'idempotency-key': `reliability-${process.pid}-${paymentSequence}`,
      authorization: `Bearer ${accessToken}`,
    },
    body: JSON.stringify({ amount: 1250, currency: 'EUR' }),
  };
}

/** What every 503 for unavailable secrets looks like: problem+json, Retry-After, no detail about the inside. */
export function expectSecretsUnavailable(exchange: Exchange<RawRequest>, retryAfterSeconds: number): void {
  expect(exchange.status).toBe(503);
  expect(exchange.headers['retry-after']).toBe(String(retryAfterSeconds));
  expect(exchange.headers['content-type']).toBe('application/problem+json');
  const body = JSON.parse(exchange.body) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['detail', 'status', 'title', 'type']);
  expect(body).toMatchObject({ type: 'about:blank', title: 'Service Unavailable', status: 503 });
  expectNothingInternal(exchange.body);
}

/**
 * No stack trace, vault, Connect host or error code in a body a client sees. The UNAUTHORIZED code
 * is matched in its own case: API Gateway's own 401 body, `{"message":"Unauthorized"}`, is fine.
 */
export function expectNothingInternal(body: string): void {
  expect(body).not.toMatch(/\bat .+:\d+:\d+|\n\s+at |Error:|op-lambda-staging|op-lambda-prod|127\.0\.0\.1|localhost|op:\/\/|ECONN|TIMEOUT|stack/i);
  expect(body).not.toMatch(/UNAUTHORIZED/);
}

/** The invoke behind a response (through the gateway's request records). */
export function invokeOf(gateway: LocalGateway, exchange: Exchange<RawRequest>): InvokeResult | undefined {
  return gateway.requests.find((record) => record.requestId === exchange.requestId)?.invoke;
}

/** Appends one JSON line to the file named by RELIABILITY_REPORT, when set (figures for RELIABILITY.md). */
export function reportFigures(record: Record<string, unknown>): void {
  const file = process.env['RELIABILITY_REPORT'];
  if (file) appendFileSync(file, `${JSON.stringify(record)}\n`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Long strings and buffers shortened, so a failing property's counterexample stays readable. */
function compactJson(value: unknown): string {
  return JSON.stringify(value, (_key, entry: unknown) => {
    if (typeof entry === 'string' && entry.length > 200) return `${entry.slice(0, 60)}…(${entry.length} chars)`;
    if (typeof entry === 'object' && entry !== null && (entry as { type?: unknown }).type === 'Buffer') {
      return `<Buffer of ${((entry as { data?: unknown[] }).data ?? []).length} bytes>`;
    }
    return entry;
  });
}

/** A fast-check reporter that fails with a compact counterexample. */
export function compactReporter(details: { failed: boolean; counterexample: unknown; seed: number; counterexamplePath: string | null; numRuns: number; errorInstance: unknown }): void {
  if (!details.failed) return;
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(
    `Property failed after ${details.numRuns} runs (seed ${details.seed}, path ${details.counterexamplePath ?? '-'})\n` +
      `Counterexample: ${compactJson(details.counterexample)}\n${cause}`,
  );
}
