/**
 * Sends a validated payment to the provider within the invocation's deadline. A 401 means the key
 * may have been rotated in 1Password since it was cached: the caller offers a fresh key once, and
 * the payment is retried with it under the same Idempotency-Key, so the retry can never charge twice.
 */
import { createPayment, type PaymentsApiOutcome } from './payments-api';
import type { PaymentRequest } from './payment-request';

/** Below this, an upstream call cannot usefully start. */
const MIN_CALL_MS = 50;

export interface ForwardPayment {
  baseUrl: URL;
  payment: PaymentRequest;
  idempotencyKey: string;
  apiKey: string;
  /**
   * A fresh key after a 401, or undefined when a refresh is not allowed now (throttled). Its
   * rejection (key unavailable) propagates: no second call is made.
   */
  refreshedKey: () => Promise<string | undefined>;
  /** Epoch ms by which every upstream exchange must be over. */
  deadlineAt: number;
  now?: () => number;
}

export interface ForwardResult {
  outcome: PaymentsApiOutcome;
  /** Upstream calls made: 1, or 2 after a refresh. */
  attempts: number;
  refreshed: boolean;
}

async function callWithin(request: ForwardPayment, apiKey: string): Promise<PaymentsApiOutcome> {
  const timeoutMs = request.deadlineAt - (request.now ?? Date.now)();
  if (timeoutMs < MIN_CALL_MS) return { kind: 'timeout' };
  return createPayment({ baseUrl: request.baseUrl, apiKey, idempotencyKey: request.idempotencyKey, payment: request.payment, timeoutMs });
}

function isUnauthorized(outcome: PaymentsApiOutcome): boolean {
  return outcome.kind === 'response' && outcome.status === 401;
}

export async function forwardPayment(request: ForwardPayment): Promise<ForwardResult> {
  const first = await callWithin(request, request.apiKey);
  if (!isUnauthorized(first)) return { outcome: first, attempts: 1, refreshed: false };
  const freshKey = await request.refreshedKey();
  // The same key again would earn the same 401: spare the provider the call.
  if (freshKey === undefined || freshKey === request.apiKey) return { outcome: first, attempts: 1, refreshed: freshKey !== undefined };
  return { outcome: await callWithin(request, freshKey), attempts: 2, refreshed: true };
}
