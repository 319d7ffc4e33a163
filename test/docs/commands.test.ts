/**
 * The commands the docs give, run as written where they can run here: the local Connect server and
 * its curl line, every `npm run secrets:check` line, and the flags of every `npx cdk` command
 * checked against the CDK CLI's own help (deploying needs an AWS account; the syntax does not).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startConnectServer, DEMO_SEED_FILE, type ConnectSeed, type LocalConnect } from '../../local/connect/server';
import { codeBlocks, runBash, shellCommands } from './markdown';

jest.setTimeout(120_000);

const PAGES = ['README.md', 'docs/deploying.md', 'docs/operations.md', 'docs/local-development.md', 'docs/example-api.md', 'docs/middleware.md', 'docs/using-it.md', 'docs/constructs.md'];
const allCommands = (): string[] => PAGES.flatMap(shellCommands);

/** Whether a CLI's help lists a flag as a word of its own (`-c` in "--context, -c"). */
function listsFlag(help: string, flag: string): boolean {
  return new RegExp(`(^|[\\s,])${flag}([\\s,]|$)`, 'm').test(help);
}

describe('npm run connect:local, as docs/local-development.md gives it', () => {
  let server: ChildProcess | undefined;

  afterEach(() => {
    if (server?.pid) process.kill(-server.pid, 'SIGTERM');
    server = undefined;
  });

  it('starts, prints the tokens, and answers the documented curl with the vaults', async () => {
    const blocks = codeBlocks('docs/local-development.md').filter((block) => block.heading === 'The local Connect server alone');
    const start = blocks[0]!.code.trim();
    expect(start).toBe('npm run connect:local -- --port 8080');
    // Port 0: an ephemeral port, never a fixed one in a test.
    const [command, ...args] = start.replace('--port 8080', '--port 0').split(' ');
    server = spawn(command!, args, { cwd: process.cwd(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 60_000;
    while (!/Ctrl-C to stop/.test(output) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const url = /Connect server on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    const token = /^\s+dev-read\s+(\S+)$/m.exec(output)?.[1];
    expect(url).toBeDefined();
    expect(token).toBeDefined();

    const curl = blocks[1]!.code.replace('<the dev-read token>', token!).split('http://127.0.0.1:8080').join(url!);
    const run = await runBash(curl);
    const names = (JSON.parse(run.stdout) as { name: string }[]).map((vault) => vault.name);
    expect(names).toEqual(expect.arrayContaining(['op-lambda-staging-payments', 'op-lambda-prod-payments']));
  });
});

describe('npm run secrets:check, every line the docs give', () => {
  let connect: LocalConnect;

  beforeAll(async () => {
    connect = await startConnectServer({ port: 0, seed: JSON.parse(readFileSync(DEMO_SEED_FILE, 'utf8')) as ConnectSeed });
  });

  afterAll(() => connect.close());

  it('runs each documented form and reports a clean demo vault', async () => {
    const lines = [...new Set(allCommands().filter((line) => line.startsWith('npm run secrets:check')))];
    expect(lines).toEqual(expect.arrayContaining(['npm run secrets:check -- --stage staging', 'npm run secrets:check -- --stage staging --compare prod']));
    for (const line of lines) {
      const run = await runBash(line, { OP_CONNECT_HOST: connect.url, OP_CONNECT_TOKEN: connect.tokens['dev-read']! });
      expect({ line, code: run.code }).toEqual({ line, code: 0 });
      expect(run.stdout).toMatch(/OK: \d+ references resolved/);
    }
  });
});

describe('npx cdk commands in the docs', () => {
  it('use only flags the CDK CLI lists for their subcommand, and a --require-approval value it accepts', async () => {
    const lines = allCommands().filter((line) => line.startsWith('npx cdk '));
    const bySubcommand = new Map<string, Set<string>>();
    for (const line of lines) {
      const [, subcommand, ...rest] = line.replace(/\s+#.*$/, '').split(/\s+/).slice(1);
      const flags = rest.filter((word) => word.startsWith('-')).map((flag) => flag.replace(/=.*$/, ''));
      bySubcommand.set(subcommand ?? '', new Set([...(bySubcommand.get(subcommand ?? '') ?? []), ...flags]));
    }
    expect([...bySubcommand.keys()].sort()).toEqual(expect.arrayContaining(['bootstrap', 'deploy', 'destroy', 'synth']));
    expect(bySubcommand.get('deploy')).toEqual(new Set(['-c', '--require-approval']));
    for (const [subcommand, flags] of bySubcommand) {
      const help = await runBash(`npx cdk ${subcommand} --help`);
      for (const flag of flags) expect({ subcommand, flag, listed: listsFlag(help.stdout, flag) }).toEqual({ subcommand, flag, listed: true });
      if (subcommand === 'deploy') expect(help.stdout).toMatch(/--require-approval[\s\S]{0,200}?\[choices: [^\]]*"never"/);
    }
  });
});
