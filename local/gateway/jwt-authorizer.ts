/**
 * HTTP API JWT authorizers as API Gateway runs them, before the route's function:
 *
 * 1. the token from the identity source (`$request.header.Authorization`), bare or after `Bearer `;
 * 2. its signature, RSA algorithms only, with a key from the issuer's `jwks_uri` (found through
 *    `<issuer>/.well-known/openid-configuration`) matching the token's `kid`;
 * 3. `iss` equal to the issuer; `aud`, or `client_id` when there is no `aud`, one of the audience
 *    entries; `exp` after now; `nbf` and `iat`, when present, not after now;
 * 4. at least one of the route's authorization scopes in `scope` or `scp`.
 *
 * A failure in 1–3 is 401 `{"message":"Unauthorized"}`, in 4 is 403 `{"message":"Forbidden"}`, each
 * with the `www-authenticate` header API Gateway sends. Verified claims reach the function as
 * `requestContext.authorizer.jwt`. An issuer the template names can be substituted for a local one
 * (`issuerOverrides`), the way the emulation substitutes the Connect host: tokens are then
 * verified against the local issuer's keys and must carry its `iss`; audiences and scopes stay
 * the template's.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';

/** What the template says about one JWT authorizer. */
export interface JwtAuthorizerModel {
  logicalId: string;
  name: string;
  issuer: string;
  audience: string[];
  /** e.g. `['$request.header.Authorization']`. */
  identitySource: string[];
}

/** `requestContext.authorizer.jwt` of a payload format 2.0 event. */
export interface JwtAuthorizerContext {
  claims: Record<string, string>;
  scopes: string[] | null;
}

export type AuthorizationOutcome =
  | { ok: true; jwt: JwtAuthorizerContext }
  | { ok: false; status: 401 | 403; message: 'Unauthorized' | 'Forbidden'; wwwAuthenticate: string; reason: string };

export interface JwtAuthorizersOptions {
  /** Template issuer -> the issuer to trust in its place locally. */
  issuerOverrides?: Readonly<Record<string, string>>;
}

/** API Gateway supports only RSA-based algorithms. */
const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const DISCOVERY_TIMEOUT_MS = 5000;

class Rejection extends Error {
  constructor(readonly status: 401 | 403, reason: string) {
    super(reason);
  }
}

export class JwtAuthorizers {
  private readonly keySets = new Map<string, Promise<ReturnType<typeof createRemoteJWKSet>>>();

  constructor(private readonly options: JwtAuthorizersOptions = {}) {}

  /** The issuer tokens of this authorizer must come from, locally. */
  effectiveIssuer(authorizer: JwtAuthorizerModel): string {
    return this.options.issuerOverrides?.[authorizer.issuer] ?? authorizer.issuer;
  }

  async authorize(authorizer: JwtAuthorizerModel, scopes: readonly string[], headers: Readonly<Record<string, string | string[] | undefined>>): Promise<AuthorizationOutcome> {
    try {
      const token = tokenFrom(authorizer, headers);
      const payload = await this.verify(authorizer, token);
      const tokenScopes = scopesOf(payload);
      if (scopes.length > 0 && !scopes.some((scope) => tokenScopes?.includes(scope))) {
        throw new Rejection(403, 'the token does not have the required scope');
      }
      return { ok: true, jwt: { claims: claimsOf(payload), scopes: tokenScopes } };
    } catch (error) {
      const rejection = error instanceof Rejection ? error : new Rejection(401, 'the token could not be verified');
      return rejected(rejection, scopes);
    }
  }

  private async verify(authorizer: JwtAuthorizerModel, token: string): Promise<JWTPayload> {
    const issuer = this.effectiveIssuer(authorizer);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.keySet(issuer), { issuer, algorithms: RSA_ALGORITHMS, requiredClaims: ['exp'] }));
    } catch (error) {
      throw new Rejection(401, describeJoseFailure(error));
    }
    const audience = payload.aud ?? (typeof payload['client_id'] === 'string' ? payload['client_id'] : undefined);
    const audiences = audience === undefined ? [] : [audience].flat();
    if (!audiences.some((candidate) => authorizer.audience.includes(candidate))) throw new Rejection(401, 'the token does not have a valid audience');
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000) throw new Rejection(401, 'the token was issued in the future');
    return payload;
  }

  /** The issuer's key set, found through its discovery document; a failed discovery is retried next time. */
  private keySet(issuer: string): Promise<ReturnType<typeof createRemoteJWKSet>> {
    let keySet = this.keySets.get(issuer);
    if (!keySet) {
      keySet = discoverJwksUri(issuer).then((uri) => createRemoteJWKSet(new URL(uri), { timeoutDuration: DISCOVERY_TIMEOUT_MS }));
      keySet.catch(() => this.keySets.delete(issuer));
      this.keySets.set(issuer, keySet);
    }
    return keySet;
  }
}

async function discoverJwksUri(issuer: string): Promise<string> {
  const discovery = new URL('.well-known/openid-configuration', issuer.endsWith('/') ? issuer : `${issuer}/`);
  let document: unknown;
  try {
    const response = await fetch(discovery, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    document = await response.json();
  } catch (error) {
    throw new Rejection(401, `the issuer's discovery document could not be read (${(error as Error).message})`);
  }
  const uri = (document as { jwks_uri?: unknown } | null)?.jwks_uri;
  if (typeof uri !== 'string') throw new Rejection(401, "the issuer's discovery document has no jwks_uri");
  return uri;
}

/** The token from the first header identity source; API Gateway accepts it bare or after `Bearer `. */
function tokenFrom(authorizer: JwtAuthorizerModel, headers: Readonly<Record<string, string | string[] | undefined>>): string {
  const header = authorizer.identitySource.map((source) => /^\$request\.header\.(.+)$/i.exec(source)?.[1]).find(Boolean);
  const raw = header === undefined ? undefined : headers[header.toLowerCase()];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!value) throw new Rejection(401, 'no token in the identity source');
  const token = value.replace(/^Bearer\s+/i, '');
  if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)) throw new Rejection(401, 'the token is not a JWT');
  return token;
}

function describeJoseFailure(error: unknown): string {
  if (error instanceof Rejection) return error.message;
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'the token is not valid yet';
    if (error.claim === 'iss') return 'the token does not have a valid issuer';
    return `the token's ${error.claim} claim is not valid`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer matches the token';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token is not signed with an RSA algorithm';
  return 'the token could not be verified';
}

function rejected(rejection: Rejection, scopes: readonly string[]): AuthorizationOutcome {
  const forbidden = rejection.status === 403;
  const error = forbidden ? 'insufficient_scope' : 'invalid_token';
  return {
    ok: false,
    status: rejection.status,
    message: forbidden ? 'Forbidden' : 'Unauthorized',
    wwwAuthenticate: `Bearer scope="${scopes.join(' ')}" error="${error}" error_description="${rejection.message}"`,
    reason: rejection.message,
  };
}

/** `scope` (space-separated) or `scp` (a list or a string), as API Gateway reads them. */
function scopesOf(payload: JWTPayload): string[] | null {
  const raw = payload['scope'] ?? payload['scp'];
  if (Array.isArray(raw)) return raw.filter((scope): scope is string => typeof scope === 'string');
  if (typeof raw === 'string') return raw.split(/\s+/).filter(Boolean);
  return null;
}

/** API Gateway hands claims over as strings; lists come out as `[a b]`. */
function claimsOf(payload: JWTPayload): Record<string, string> {
  return Object.fromEntries(Object.entries(payload).map(([name, value]) => [name, claimText(value)]));
}

function claimText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(' ')}]`;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
