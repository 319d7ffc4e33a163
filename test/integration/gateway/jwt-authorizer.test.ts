/**
 * The local gateway's JWT authorizer against the local issuer over loopback, case by case as API
 * Gateway decides them: a valid token passes with its claims; missing, malformed, expired, not yet
 * valid, forged, foreign-issuer and wrong-audience tokens are 401 Unauthorized; a valid token
 * without the route's scope is 403 Forbidden.
 */
import { SignJWT, generateKeyPair } from 'jose';
import { JwtAuthorizers, type JwtAuthorizerModel } from '../../../local/gateway/jwt-authorizer';
import { LOCAL_CLIENT_ID, startLocalIssuer, type LocalIssuer } from '../../../local/issuer/server';

const TEMPLATE_ISSUER = 'https://auth.staging.example.com';
const AUDIENCE = 'https://api.staging.example.com';
const SCOPE = 'payments:write';

const model: JwtAuthorizerModel = {
  logicalId: 'HttpApiJwtAuthorizer',
  name: 'op-lambda-staging-jwt',
  issuer: TEMPLATE_ISSUER,
  audience: [AUDIENCE],
  identitySource: ['$request.header.Authorization'],
};

let issuer: LocalIssuer;
let other: LocalIssuer;
let authorizers: JwtAuthorizers;

beforeAll(async () => {
  issuer = await startLocalIssuer({ audience: AUDIENCE, defaultScope: SCOPE });
  other = await startLocalIssuer({ audience: AUDIENCE, defaultScope: SCOPE });
  authorizers = new JwtAuthorizers({ issuerOverrides: { [TEMPLATE_ISSUER]: issuer.url } });
});

afterAll(async () => {
  await issuer.close();
  await other.close();
});

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

async function expectDenied(headers: Record<string, string>, status: 401 | 403, scopes: string[] = [SCOPE]): Promise<string> {
  const outcome = await authorizers.authorize(model, scopes, headers);
  if (outcome.ok) throw new Error('the request was authorized');
  expect({ status: outcome.status, message: outcome.message }).toEqual(status === 401 ? { status, message: 'Unauthorized' } : { status, message: 'Forbidden' });
  expect(outcome.wwwAuthenticate).toMatch(status === 401 ? /error="invalid_token"/ : /error="insufficient_scope"/);
  return outcome.reason;
}

describe('JWT authorizer', () => {
  it('passes a token of the local issuer with the route\'s scope, handing over its claims as strings', async () => {
    const outcome = await authorizers.authorize(model, [SCOPE], bearer(await issuer.issue({ sub: 'alice', scope: `orders:read ${SCOPE}` })));
    expect(outcome).toEqual({
      ok: true,
      jwt: {
        claims: expect.objectContaining({ sub: 'alice', iss: issuer.url, aud: AUDIENCE, client_id: LOCAL_CLIENT_ID, scope: `orders:read ${SCOPE}`, exp: expect.stringMatching(/^\d+$/) }),
        scopes: ['orders:read', SCOPE],
      },
    });
  });

  it('accepts the token without the Bearer prefix, as API Gateway does', async () => {
    expect((await authorizers.authorize(model, [SCOPE], { authorization: await issuer.issue() })).ok).toBe(true);
  });

  it('passes any valid token when the route requires no scope', async () => {
    expect((await authorizers.authorize(model, [], bearer(await issuer.issue({ scope: 'orders:read' })))).ok).toBe(true);
  });

  it('takes client_id as the audience only when the token has no aud', async () => {
    const clientAudience = { ...model, audience: [LOCAL_CLIENT_ID] };
    expect((await authorizers.authorize(clientAudience, [SCOPE], bearer(await issuer.issue({ audience: null })))).ok).toBe(true);
    expect((await authorizers.authorize(clientAudience, [SCOPE], bearer(await issuer.issue()))).ok).toBe(false);
  });

  it('401: no Authorization header', async () => {
    expect(await expectDenied({}, 401)).toBe('no token in the identity source');
  });

  it('401: a header that holds no JWT', async () => {
    expect(await expectDenied({ authorization: 'Bearer not-a-jwt' }, 401)).toBe('the token is not a JWT');
  });

  it('401: an expired token', async () => {
    expect(await expectDenied(bearer(await issuer.issue({ expiresInSeconds: -60 })), 401)).toBe('the token has expired');
  });

  it('401: a token not valid yet', async () => {
    expect(await expectDenied(bearer(await issuer.issue({ notBeforeInSeconds: 600 })), 401)).toBe('the token is not valid yet');
  });

  it('401: a token whose claims were changed after signing', async () => {
    const [header, payload, signature] = (await issuer.issue({ sub: 'alice' })).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url');
    expect(await expectDenied(bearer(`${header}.${forged}.${signature}`), 401)).toBe('the token signature is invalid');
  });

  it('401: a token of another issuer', async () => {
    expect(await expectDenied(bearer(await other.issue()), 401)).toBe('no key of the issuer matches the token');
  });

  it('401: a token signed with the issuer\'s key id but another key', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const kid = (JSON.parse(Buffer.from((await issuer.issue()).split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid;
    const token = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(issuer.url)
      .setAudience(AUDIENCE)
      .setSubject('mallory')
      .setExpirationTime('1h')
      .sign(privateKey);
    expect(await expectDenied(bearer(token), 401)).toBe('the token signature is invalid');
  });

  it('401: a token signed with a shared secret (HS256) instead of RSA', async () => {
    const token = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(issuer.url)
      .setAudience(AUDIENCE)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-long!'));
    expect(await expectDenied(bearer(token), 401)).toBe('the token is not signed with an RSA algorithm');
  });

  it('401: a token for another audience', async () => {
    expect(await expectDenied(bearer(await issuer.issue({ audience: 'https://someone-else.example.com' })), 401)).toBe('the token does not have a valid audience');
  });

  it('401: the template\'s issuer is trusted only through the override: without it, its keys cannot be found', async () => {
    const strict = new JwtAuthorizers();
    const outcome = await strict.authorize({ ...model, issuer: `${other.url}/unknown-tenant` }, [SCOPE], bearer(await issuer.issue()));
    expect(outcome).toMatchObject({ ok: false, status: 401, message: 'Unauthorized' });
  });

  it('403: a valid token without the route\'s scope', async () => {
    expect(await expectDenied(bearer(await issuer.issue({ scope: 'orders:read' })), 403)).toBe('the token does not have the required scope');
  });
});
