/**
 * Where a credential may be sent. OP_CONNECT_HOST carries the Connect token in every request, so
 * it must be https unless the traffic never leaves the machine (loopback) or plain http is
 * explicitly allowed. A module of its own so that callers which never use the Connect SDK (the
 * operations client, the payments function) share the rule without bundling the SDK.
 */
import type { Environment } from '../environment';
import { ConnectError } from '../errors';

export interface ConnectLocation {
  host: string;
  allowHttp: boolean;
}

/** OP_CONNECT_HOST, with plain http allowed only when OP_CONNECT_ALLOW_HTTP is "true" (or "1"). */
export function connectLocation(env: Environment): ConnectLocation {
  return { host: env['OP_CONNECT_HOST'] ?? '', allowHttp: /^(true|1)$/i.test(env['OP_CONNECT_ALLOW_HTTP']?.trim() ?? '') };
}

/** 127.0.0.0/8, ::1 and localhost: traffic that never leaves the machine. */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Whether a URL may carry a credential: https, or http to loopback or when explicitly allowed. */
export function isSecureUrl(url: URL, allowHttp: boolean): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && (allowHttp || isLoopback(url.hostname)));
}

/**
 * The Connect server's base URL, ending in `/` so that a path prefix (a reverse proxy's) is kept
 * when `v1/...` is appended. Throws ConnectError INSECURE_HOST when the host is not acceptable.
 */
export function connectServerUrl(host: string, allowHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new ConnectError('INSECURE_HOST', 'OP_CONNECT_HOST must be an https URL (it is missing or not a URL)');
  }
  if (url.username !== '' || url.password !== '') throw new ConnectError('INSECURE_HOST', 'OP_CONNECT_HOST must not contain credentials');
  if (!isSecureUrl(url, allowHttp)) {
    throw new ConnectError('INSECURE_HOST', 'OP_CONNECT_HOST must use https unless it is loopback or OP_CONNECT_ALLOW_HTTP=true');
  }
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}
