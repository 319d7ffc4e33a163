/**
 * The payments provider's HTTP API: one call, `POST <base>/v1/payments`, authenticated with a
 * bearer key. Every outcome is a value, so the handler can map each to a status without guessing
 * from exception types. The key is sent, never logged, never part of an outcome.
 *
 * Redirects are never followed: `fetch` would re-send the payment, its Idempotency-Key and (for
 * a same-origin hop) the key to wherever the provider points, and relay that origin's answer.
 */
import type { PaymentRequest } from './payment-request';

export type PaymentsApiOutcome =
  /** The provider answered with JSON. */
  | { kind: 'response'; status: number; body: unknown }
  /** The provider answered with a redirect (3xx), which was not followed; its body was not read. */
  | { kind: 'redirect'; status: number }
  /** The provider answered with something that is not JSON. */
  | { kind: 'invalid-response'; status: number }
  /** No answer within the time allowed. */
  | { kind: 'timeout' }
  /** No connection (refused, reset, DNS). `reason` is a system error code, never a message. */
  | { kind: 'unreachable'; reason: string };

export interface CreatePaymentCall {
  baseUrl: URL;
  apiKey: string;
  idempotencyKey: string;
  payment: PaymentRequest;
  /** Time allowed for the whole exchange, body included. */
  timeoutMs: number;
}

export function paymentsEndpoint(baseUrl: URL): URL {
  return new URL('v1/payments', baseUrl.href.endsWith('/') ? baseUrl : `${baseUrl.href}/`);
}

/** Sends one payment to the provider. Never throws. */
export async function createPayment(call: CreatePaymentCall): Promise<PaymentsApiOutcome> {
  const signal = AbortSignal.timeout(Math.max(1, call.timeoutMs));
  try {
    const response = await fetch(paymentsEndpoint(call.baseUrl), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${call.apiKey}`,
        'content-type': 'application/json',
        accept: 'application/json',
        'idempotency-key': call.idempotencyKey,
      },
      body: JSON.stringify(call.payment),
      redirect: 'manual',
      signal,
    });
    if (isRedirect(response.status)) {
      await response.body?.cancel();
      return { kind: 'redirect', status: response.status };
    }
    const text = await response.text();
    try {
      return { kind: 'response', status: response.status, body: JSON.parse(text) };
    } catch {
      return { kind: 'invalid-response', status: response.status };
    }
  } catch (error) {
    if (signal.aborted) return { kind: 'timeout' };
    return { kind: 'unreachable', reason: systemErrorCode(error) };
  }
}

function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

/** `fetch` wraps socket errors as `TypeError('fetch failed', { cause })`; the cause has the code. */
function systemErrorCode(error: unknown): string {
  const cause = hasProperty(error, 'cause') ? error.cause : undefined;
  return hasProperty(cause, 'code') && typeof cause.code === 'string' ? cause.code : 'NETWORK';
}

// Duck-typed on purpose: errors from another realm (a VM context, a test sandbox) fail instanceof.
function hasProperty<K extends string>(value: unknown, key: K): value is Record<K, unknown> {
  return typeof value === 'object' && value !== null && key in value;
}
