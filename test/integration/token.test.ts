/**
 * `npm run token`: finds the running API's local issuer through the cloud assembly folder and
 * prints a token it signed, with the scopes asked for; clear errors otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtAuthorizers } from '../../local/gateway/jwt-authorizer';
import { startLocalIssuer, type LocalIssuer } from '../../local/issuer/server';
import { removeIssuerState, writeIssuerState } from '../../local/issuer/state-file';
import { main } from '../../local/token';

const AUDIENCE = 'https://api.staging.example.com';
const authorizer = { logicalId: 'Jwt', name: 'jwt', issuer: 'https://auth.staging.example.com', audience: [AUDIENCE], identitySource: ['$request.header.Authorization'] };

let cdkOut: string;
let issuer: LocalIssuer;

beforeAll(async () => {
  cdkOut = mkdtempSync(join(tmpdir(), 'op-lambda-token-'));
  issuer = await startLocalIssuer({ audience: AUDIENCE, defaultScope: 'payments:write' });
});

afterAll(async () => {
  await issuer.close();
  rmSync(cdkOut, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { CDK_OUTDIR: cdkOut }, { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('npm run token', () => {
  afterEach(() => removeIssuerState(cdkOut));

  it('prints a token the gateway accepts, for the subject and scope asked for', async () => {
    writeIssuerState(cdkOut, { issuer: issuer.url, tokenEndpoint: issuer.tokenEndpoint, pid: process.pid });
    const { code, out, err } = await run(['--sub', 'alice', '--scope', 'payments:write orders:read']);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const verdict = await new JwtAuthorizers({ issuerOverrides: { [authorizer.issuer]: issuer.url } }).authorize(authorizer, ['payments:write'], { authorization: `Bearer ${out}` });
    expect(verdict).toMatchObject({ ok: true, jwt: { claims: { sub: 'alice' }, scopes: ['payments:write', 'orders:read'] } });
  });

  it('carries the default scopes without --scope', async () => {
    writeIssuerState(cdkOut, { issuer: issuer.url, tokenEndpoint: issuer.tokenEndpoint, pid: process.pid });
    const { out } = await run([]);
    const claims = JSON.parse(Buffer.from(out.split('.')[1]!, 'base64url').toString('utf8')) as { scope: string; sub: string };
    expect(claims).toMatchObject({ scope: 'payments:write', sub: 'local-developer' });
  });

  it('exits 1 when no npm start is running', async () => {
    const { code, err } = await run([]);
    expect(code).toBe(1);
    expect(err).toMatch(/no running `npm start` found/);
  });

  it('exits 1 when the state names a process that is gone', async () => {
    writeIssuerState(cdkOut, { issuer: issuer.url, tokenEndpoint: issuer.tokenEndpoint, pid: 2 ** 22 + 12345 });
    expect((await run([])).code).toBe(1);
  });

  it('exits 1 with the issuer\'s reason when it refuses the request', async () => {
    writeIssuerState(cdkOut, { issuer: issuer.url, tokenEndpoint: issuer.tokenEndpoint, pid: process.pid });
    const { code, err } = await run(['--sub', ' ']);
    expect(code).toBe(1);
    expect(err).toMatch(/the local issuer refused: sub must be a non-empty string/);
  });

  it('exits 2 on an unknown option', async () => {
    const { code, err } = await run(['--audience', 'x']);
    expect(code).toBe(2);
    expect(err).toMatch(/usage: npm run token/);
  });
});
