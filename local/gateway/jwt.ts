/**
 * Reads the claims of a bearer JWT WITHOUT verifying it: no signature, issuer, audience or expiry
 * check. Locally it only feeds `requestContext.authorizer.jwt`, so handlers see the caller's
 * identity the way a JWT authorizer would hand it over. Never rely on it for security.
 */

export interface JwtAuthorizerContext {
  claims: Record<string, string>;
  scopes: string[] | null;
}

export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

/** Claims and scopes of a JWT, or undefined when the token is not a readable JWT. */
export function decodeJwtClaims(token: string): JwtAuthorizerContext | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
  const claims = Object.fromEntries(Object.entries(payload).map(([name, value]) => [name, claimText(value)]));
  const scope = claims.scope ?? claims.scp;
  return { claims, scopes: scope ? scope.replace(/^\[|\]$/g, '').split(/\s+/).filter(Boolean) : null };
}

/** API Gateway hands claims over as strings; lists come out as `[a b]`. */
function claimText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(' ')}]`;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
