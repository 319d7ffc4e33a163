/**
 * `npm run token -- [--sub NAME] [--scope SCOPE]`: prints an access token that the API running
 * under `npm start` accepts, from its local issuer (found through the cloud assembly folder:
 * CDK_OUTDIR, else `cdk.out`). Without --scope the token carries every scope a route requires.
 *
 *   curl -H "Authorization: Bearer $(npm run -s token)" -X POST http://127.0.0.1:3000/payments ...
 *
 * Exit status: 0 printed, 1 no running `npm start` or the issuer refused, 2 usage.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from './dev/synth';
import { issuerStatePath, readIssuerState } from './issuer/state-file';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const USAGE = 'usage: npm run token -- [--sub NAME] [--scope "SCOPE ..."]';

export async function main(argv: readonly string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  let request: { sub?: string; scope?: string };
  try {
    const { values } = parseArgs({ args: [...argv], options: { sub: { type: 'string' }, scope: { type: 'string' } }, strict: true, allowPositionals: false });
    request = { ...(values.sub === undefined ? {} : { sub: values.sub }), ...(values.scope === undefined ? {} : { scope: values.scope }) };
  } catch (error) {
    io.err(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const cdkOut = env['CDK_OUTDIR']?.trim() || join(PROJECT_ROOT, 'cdk.out');
  const state = readIssuerState(cdkOut);
  if (!state) {
    io.err(`no running \`npm start\` found (${issuerStatePath(cdkOut)}): start the API first, with the same CDK_OUTDIR`);
    return 1;
  }
  try {
    const response = await fetch(state.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(5000),
    });
    const body = (await response.json()) as { access_token?: unknown; error_description?: unknown };
    if (!response.ok || typeof body.access_token !== 'string') {
      io.err(`the local issuer refused: ${typeof body.error_description === 'string' ? body.error_description : `HTTP ${response.status}`}`);
      return 1;
    }
    io.out(body.access_token);
    return 0;
  } catch (error) {
    io.err(`the local issuer at ${state.issuer} did not answer: ${(error as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2), process.env, {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  }).then((code) => {
    process.exitCode = code;
  });
}
