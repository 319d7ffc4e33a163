/**
 * Where the payments provider lives (PAYMENTS_API_URL). The API key travels in every request, so
 * the URL must be https, unless it points at this machine (local emulation) or
 * PAYMENTS_API_ALLOW_HTTP is "true": the same rule as OP_CONNECT_HOST.
 */

import { isSecureUrl } from 'op-lambda';

export type ProviderUrl = { ok: true; url: URL } | { ok: false; reason: string };

export function providerUrl(env: Readonly<Record<string, string | undefined>>): ProviderUrl {
  const raw = env['PAYMENTS_API_URL']?.trim();
  if (!raw) return { ok: false, reason: 'PAYMENTS_API_URL is not set' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'PAYMENTS_API_URL is not a URL' };
  }
  if (url.username || url.password) return { ok: false, reason: 'PAYMENTS_API_URL must not carry credentials' };
  const allowHttp = /^(true|1)$/i.test(env['PAYMENTS_API_ALLOW_HTTP']?.trim() ?? '');
  if (isSecureUrl(url, allowHttp)) return { ok: true, url };
  return { ok: false, reason: 'PAYMENTS_API_URL must be https (plain http only to loopback, or with PAYMENTS_API_ALLOW_HTTP=true)' };
}
