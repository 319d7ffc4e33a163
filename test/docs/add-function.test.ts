/**
 * "Adding a function" in docs/deploying.md, followed on a copy of the repository: the handler and
 * the function table entry exactly as the page gives them, the item in each stage's demo vault,
 * then the page's own commands: the drift check passes and `cdk synth` is green with the new
 * function and its reference.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startConnectServer, type ConnectSeed, type LocalConnect } from '../../local/connect/server';
import { codeBlocks, ROOT, runBash } from './markdown';

jest.setTimeout(300_000);

const PAGE = 'docs/deploying.md';

let copy: string;
let connect: LocalConnect | undefined;

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'op-lambda-add-function-'));
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    try {
      cpSync(join(ROOT, file), join(copy, file));
    } catch {
      // A file deleted in the working tree but still tracked.
    }
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
});

afterAll(async () => {
  await connect?.close();
  rmSync(copy, { recursive: true, force: true });
});

/** The item the new function reads, added to a vault of the demo seed. */
function withOrdersItem(seed: ConnectSeed): ConnectSeed {
  for (const vault of seed.vaults) {
    vault.items.push({
      title: 'orders-db',
      category: 'DATABASE',
      sections: [{ label: 'connection' }],
      fields: [{ label: 'url', type: 'CONCEALED', section: 'connection', value: `postgres://orders@${vault.name}.example.internal/orders` }],
    } as (typeof vault.items)[number]);
  }
  return seed;
}

test('the documented steps give a green drift check and synth with the new function', async () => {
  const [handler, entry, commands] = codeBlocks(PAGE).filter((block) => block.heading === 'Adding a function');
  expect([handler?.language, entry?.language, commands?.language]).toEqual(['ts', 'ts', 'sh']);

  // Step 1: the handler.
  mkdirSync(join(copy, 'functions', 'orders'));
  writeFileSync(join(copy, 'functions', 'orders', 'handler.ts'), handler!.code);
  // Step 2: the entry, first in the array functionTable() returns.
  const configPath = join(copy, 'infra', 'config.ts');
  const config = readFileSync(configPath, 'utf8');
  const table = config.indexOf('export function functionTable');
  const arrayStart = config.indexOf('  return [\n', table) + '  return [\n'.length;
  expect(table).toBeGreaterThan(0);
  writeFileSync(configPath, config.slice(0, arrayStart) + entry!.code.replace(/^/gm, '    ').replace(/\s+$/, '') + '\n' + config.slice(arrayStart));
  // Step 3: the item in each stage's vault (the demo vault stands for 1Password here).
  const seedPath = join(copy, 'local', 'connect', 'demo-vault.json');
  writeFileSync(seedPath, JSON.stringify(withOrdersItem(JSON.parse(readFileSync(seedPath, 'utf8')) as ConnectSeed), null, 2));
  connect = await startConnectServer({ port: 0, seedFile: seedPath });

  const env = { OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN: connect.tokens['dev-read']! };
  for (const command of commands!.code.split('\n').filter((line) => line.trim() && !line.startsWith('#'))) {
    const run = await runBash(command, env, copy);
    expect({ command, code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ command, code: 0, stderr: '' });
  }

  const template = readdirSync(join(copy, 'cdk.out')).find((file) => file.endsWith('.template.json'));
  expect(readFileSync(join(copy, 'cdk.out', template!), 'utf8')).toMatch(/"ORDERS_DB_URL":\s*"op:\/\/op-lambda-staging-database\/orders-db\/connection\/url"/);
});
