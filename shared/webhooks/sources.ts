/**
 * Webhook senders the webhooks function accepts, and the names of their signing secrets. Each
 * source has a `current` secret and, during a rotation, a `previous` one; the references behind the
 * names come from the environment (one per stage). The stage configuration declares them from this
 * list and the handler reads them by the same names, so adding a source is a line here and its item
 * in each stage's vault. A pure contract: infra imports it without loading a function.
 */
export const WEBHOOK_SOURCES = ['stripe', 'github'] as const;
export type WebhookSource = (typeof WEBHOOK_SOURCES)[number];

export interface SigningSecretNames {
  current: string;
  previous: string;
}

export function isWebhookSource(value: string | undefined): value is WebhookSource {
  return (WEBHOOK_SOURCES as readonly (string | undefined)[]).includes(value);
}

export function signingSecretNames(source: WebhookSource): SigningSecretNames {
  const prefix = `WEBHOOK_${source.toUpperCase()}`;
  return { current: `${prefix}_CURRENT`, previous: `${prefix}_PREVIOUS` };
}
