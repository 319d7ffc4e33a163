/**
 * The requests a load run sends: one kind per route of the API, each valid so that a healthy
 * stack answers every one of them with a success status.
 */
import { signPayload } from '../../functions/webhooks/signature';

export type RequestKind = 'health' | 'webhook-stripe' | 'webhook-github' | 'payment';

export const REQUEST_KINDS: readonly RequestKind[] = ['health', 'webhook-stripe', 'webhook-github', 'payment'];

export interface ApiRequest {
  kind: RequestKind;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** Webhook signing secrets as the vault holds them, so deliveries verify. */
export interface SigningSecrets {
  stripe: string;
  github: string;
}

/** The function behind each kind of request (the gateway's readable function names). */
export const FUNCTION_OF: Readonly<Record<RequestKind, string>> = {
  health: 'Health',
  'webhook-stripe': 'Webhooks',
  'webhook-github': 'Webhooks',
  payment: 'Payments',
};

/** The status a healthy stack answers. */
export const SUCCESS_STATUS: Readonly<Record<RequestKind, number>> = {
  health: 200,
  'webhook-stripe': 202,
  'webhook-github': 202,
  payment: 201,
};

/** `bearerToken`: an access token for the routes behind the JWT authorizer (payments). */
export function buildRequest(kind: RequestKind, sequence: number, secrets: SigningSecrets, bearerToken?: string): ApiRequest {
  switch (kind) {
    case 'health':
      return { kind, method: 'GET', path: '/health', headers: {} };
    case 'webhook-stripe':
    case 'webhook-github':
      return webhookRequest(kind, sequence, kind === 'webhook-stripe' ? secrets.stripe : secrets.github);
    case 'payment':
      return {
        kind,
        method: 'POST',
        path: '/payments',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': `load-${process.pid}-${sequence}-${Date.now()}`,
          ...(bearerToken ? { authorization: `Bearer ${bearerToken}` } : {}),
        },
        body: JSON.stringify({ amount: 100 + (sequence % 900), currency: 'EUR', description: `load ${sequence}` }),
      };
  }
}

function webhookRequest(kind: 'webhook-stripe' | 'webhook-github', sequence: number, secret: string): ApiRequest {
  const body = JSON.stringify({ id: `evt_${sequence}`, type: 'load.test' });
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    kind,
    method: 'POST',
    path: `/webhooks/${kind === 'webhook-stripe' ? 'stripe' : 'github'}`,
    headers: { 'content-type': 'application/json', 'x-signature': signPayload([secret], timestamp, Buffer.from(body)) },
    body,
  };
}
