/**
 * The curl walkthroughs of the docs, run as written against the emulation `npm start` runs: the
 * example API's block (each command's comment announces its status) and the rotation walkthrough
 * of the local development guide. Only the address of the API and the Connect URL and token the
 * reader copies from the console are filled in.
 */
import { STACK_STARTUP_TIMEOUT_MS, startStackFixture, type StackFixture } from '../../helpers/stack-fixture';
import { announcedStatuses, codeBlocks, markedBlock, runBash } from '../../docs/markdown';
import { writeIssuerState } from '../../../local/issuer/state-file';
import { fieldValue, vaultOf } from './support';

jest.setTimeout(60_000);

const DOCUMENTED_API = 'http://127.0.0.1:3000';
/** curl as the walkthrough runs it, printing only each response's status. */
const STATUS_ONLY_CURL = `curl() { command curl -s -o /dev/null -w '%{http_code}\\n' "$@"; }\n`;

let stack: StackFixture;

beforeAll(async () => {
  stack = await startStackFixture({ stage: 'staging' });
  // What `npm start` leaves for `npm run token`: where its local issuer is.
  const issuer = stack.api.issuer!;
  writeIssuerState(stack.cdkOut, { issuer: issuer.url, tokenEndpoint: issuer.tokenEndpoint, pid: process.pid });
}, STACK_STARTUP_TIMEOUT_MS);

/** The walkthroughs' `npm run token` finds the fixture's issuer as it finds `npm start`'s. */
const tokenEnv = (): Record<string, string> => ({ CDK_OUTDIR: stack.cdkOut });

afterAll(async () => {
  await stack?.close();
});

function atFixture(code: string): string {
  expect(code).toContain(DOCUMENTED_API);
  return code.split(DOCUMENTED_API).join(stack.url);
}

function statusesPrinted(stdout: string): number[] {
  return stdout.trim().split('\n').filter(Boolean).map(Number);
}

test('docs/example-api.md: every curl answers the status its comment announces', async () => {
  const { code } = markedBlock('docs/example-api.md', 'walkthrough: npm start');
  const expected = announcedStatuses(code);
  expect(expected.length).toBeGreaterThanOrEqual(7);
  const run = await runBash(STATUS_ONLY_CURL + atFixture(code), tokenEnv());
  expect(run.stderr).toBe('');
  expect(statusesPrinted(run.stdout)).toEqual(expected);
});

test('docs/local-development.md: the rotation walkthrough rotates the key and the next payment succeeds', async () => {
  const [, rotate, pay] = codeBlocks('docs/local-development.md').filter((block) => block.heading === 'Rotating a secret while the API runs');
  const before = fieldValue(stack.connect, vaultOf('payments-api'), 'payments-api', 'credential');
  const env = { CONNECT: stack.connect.url, WRITE_TOKEN: stack.connect.tokens['dev-write']! };

  const rotated = await runBash(rotate!.code, env);
  expect(rotated.stderr).toBe('');
  expect(statusesPrinted(rotated.stdout)).toEqual(announcedStatuses(rotate!.code));
  expect(fieldValue(stack.connect, vaultOf('payments-api'), 'payments-api', 'credential')).not.toBe(before);

  const paid = await runBash(atFixture(pay!.code), tokenEnv());
  expect(statusesPrinted(paid.stdout)).toEqual(announcedStatuses(pay!.code));
});
