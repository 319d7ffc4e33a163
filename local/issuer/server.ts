/**
 * A local OpenID Connect issuer, standing in for the stage's identity provider under `npm start`:
 * an RSA key pair made at start (kept in memory, never written anywhere), OIDC discovery and JWKS
 * on loopback, as API Gateway reads them from a real issuer, and a token endpoint that
 * `npm run token` and the tests call for access tokens the local gateway accepts.
 *
 *   GET  /.well-known/openid-configuration   issuer, jwks_uri, token_endpoint
 *   GET  /.well-known/jwks.json              the public key
 *   POST /token   {"sub": "...", "scope": "..."}   ->   {"access_token": "...", "token_type": "Bearer", ...}
 *
 * Anyone who can reach the token endpoint gets a token, which is why it listens on loopback only.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export const DISCOVERY_PATH = '/.well-known/openid-configuration';
const JWKS_PATH = '/.well-known/jwks.json';
const TOKEN_PATH = '/token';
const ALGORITHM = 'RS256';
const DEFAULT_LIFETIME_SECONDS = 3600;
const MAX_BODY_BYTES = 16 * 1024;
/** The `client_id` of every token this issuer makes. */
export const LOCAL_CLIENT_ID = 'op-lambda-local';

export interface TokenRequest {
  /** @default 'local-developer' */
  sub?: string;
  /** Space-separated scopes. @default the issuer's `defaultScope` */
  scope?: string;
  /** `null` leaves `aud` out (then `client_id` is the audience). @default the issuer's `audience` */
  audience?: string | null;
  /** Seconds from now until `exp`; negative makes an expired token. @default 3600 */
  expiresInSeconds?: number;
  /** Seconds from now until `nbf`; positive makes a token not yet valid. @default 0 */
  notBeforeInSeconds?: number;
}

export interface LocalIssuerOptions {
  /** The audience (`aud`) tokens carry by default: what the template's authorizer expects. */
  audience: string;
  /** Scopes tokens carry by default, space-separated. */
  defaultScope: string;
  /** @default 0 (ephemeral) */
  port?: number;
  /** @default 127.0.0.1 */
  host?: string;
}

export interface LocalIssuer {
  /** The issuer identifier (`iss`), also its base URL: `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly jwksUri: string;
  readonly tokenEndpoint: string;
  readonly audience: string;
  readonly defaultScope: string;
  /** A signed access token, as the token endpoint hands out. */
  issue(request?: TokenRequest): Promise<string>;
  close(): Promise<void>;
}

export async function startLocalIssuer(options: LocalIssuerOptions): Promise<LocalIssuer> {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM);
  const kid = randomUUID();
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: ALGORITHM, use: 'sig' };
  const server = createServer();
  const host = options.host ?? '127.0.0.1';
  await listen(server, options.port ?? 0, host);
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  const issue = (request: TokenRequest = {}): Promise<string> => signToken(privateKey, kid, url, options, request);

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void route(req, res, {
      discovery: () => ({
        issuer: url,
        jwks_uri: `${url}${JWKS_PATH}`,
        token_endpoint: `${url}${TOKEN_PATH}`,
        grant_types_supported: ['client_credentials'],
        response_types_supported: ['token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: [ALGORITHM],
      }),
      jwks: () => ({ keys: [publicJwk] }),
      token: issue,
    });
  });

  return {
    url,
    jwksUri: `${url}${JWKS_PATH}`,
    tokenEndpoint: `${url}${TOKEN_PATH}`,
    audience: options.audience,
    defaultScope: options.defaultScope,
    issue,
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

function signToken(key: CryptoKey, kid: string, issuer: string, options: LocalIssuerOptions, request: TokenRequest): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const audience = request.audience === undefined ? options.audience : request.audience;
  const token = new SignJWT({ scope: request.scope ?? options.defaultScope, client_id: LOCAL_CLIENT_ID })
    .setProtectedHeader({ alg: ALGORITHM, kid, typ: 'at+jwt' })
    .setIssuer(issuer)
    .setSubject(request.sub ?? 'local-developer');
  if (audience !== null) token.setAudience(audience);
  return token
    .setIssuedAt(now)
    .setNotBefore(now + (request.notBeforeInSeconds ?? 0))
    .setExpirationTime(now + (request.expiresInSeconds ?? DEFAULT_LIFETIME_SECONDS))
    .setJti(randomUUID())
    .sign(key);
}

interface Handlers {
  discovery(): unknown;
  jwks(): unknown;
  token(request: TokenRequest): Promise<string>;
}

async function route(req: IncomingMessage, res: ServerResponse, handlers: Handlers): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  try {
    if (req.method === 'GET' && path === DISCOVERY_PATH) return sendJson(res, 200, handlers.discovery());
    if (req.method === 'GET' && path === JWKS_PATH) return sendJson(res, 200, handlers.jwks());
    if (req.method === 'POST' && path === TOKEN_PATH) {
      const request = parseTokenRequest(await readBody(req));
      if (typeof request === 'string') return sendJson(res, 400, { error: 'invalid_request', error_description: request });
      const token = await handlers.token(request);
      const expiresIn = request.expiresInSeconds ?? DEFAULT_LIFETIME_SECONDS;
      return sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: request.scope });
    }
    return sendJson(res, 404, { error: 'not_found' });
  } catch (error) {
    return sendJson(res, 400, { error: 'invalid_request', error_description: (error as Error).message });
  }
}

/** `sub` and `scope` from a JSON or form body; a message when they are not strings of sensible size. */
function parseTokenRequest(body: string): TokenRequest | string {
  let fields: Record<string, unknown>;
  try {
    fields = body.trim().startsWith('{') ? (JSON.parse(body) as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(body));
  } catch {
    return 'the body is neither JSON nor a form';
  }
  const request: TokenRequest = {};
  for (const name of ['sub', 'scope'] as const) {
    const value = fields[name];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length > 256 || value.trim() === '') return `${name} must be a non-empty string of at most 256 characters`;
    request[name] = value;
  }
  return request;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new Error('the body is too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      done();
    });
  });
}
