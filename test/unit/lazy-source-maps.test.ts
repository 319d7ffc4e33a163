/**
 * A handler bundled as SecretsFunction bundles it (minified, linked source map, the lazy mapper
 * injected, no --enable-source-maps) and run under the Lambda emulation: the error the runtime
 * logs points at the TypeScript file and line that threw, not at the minified bundle.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { LAZY_SOURCE_MAPS } from '../../infra/constructs/secrets-function';
import { LambdaContainer } from '../../local/lambda/container';
import { createRuntimeDir, type RuntimeDir } from '../../local/lambda/runtime-dir';

const ENTRY = resolve(__dirname, '..', 'fixtures', 'stack-trace', 'handler.ts');
let codePath: string;
let runtimeDir: RuntimeDir;

beforeAll(async () => {
  codePath = await mkdtemp(join(tmpdir(), 'op-lambda-stack-'));
  runtimeDir = await createRuntimeDir();
  await build({
    entryPoints: [ENTRY],
    outfile: join(codePath, 'index.js'),
    bundle: true,
    minify: true,
    keepNames: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    sourcemap: 'linked',
    sourcesContent: false,
    inject: [LAZY_SOURCE_MAPS],
    logLevel: 'silent',
  });
});
afterAll(async () => {
  await runtimeDir.dispose();
  await rm(codePath, { recursive: true, force: true });
});

async function invokeLogs(environment: Record<string, string>): Promise<{ logs: string; trace: string }> {
  const lines: string[] = [];
  const container = new LambdaContainer({
    definition: { name: 'stack', logicalId: 'Stack', handler: 'index.handler', codePath, runtime: 'nodejs24.x', timeoutSeconds: 10, memoryMb: 256, environment },
    region: 'us-east-1',
    accountId: '000000000000',
    runtimeDir,
    onLog: (_stream, text) => lines.push(text),
  });
  try {
    const result = await container.invoke({});
    expect(result.outcome).not.toBe('success');
    return { logs: lines.join('\n'), trace: JSON.stringify(result.error ?? {}) };
  } finally {
    await container.kill();
  }
}

describe('stack traces of a SecretsFunction bundle', () => {
  it('name the TypeScript file and line that threw, without --enable-source-maps', async () => {
    const { logs, trace } = await invokeLogs({});
    expect(logs).toContain('opl-stack-trace-probe');
    expect(logs).toMatch(/stack-trace\/handler\.ts:4:\d+/);
    expect(trace).toMatch(/stack-trace\/handler\.ts:4:\d+/);
    expect(logs).not.toMatch(/index\.js:\d+:\d+/);
  });

  it('leave the mapping to Node when --enable-source-maps is set', async () => {
    const { logs } = await invokeLogs({ NODE_OPTIONS: '--enable-source-maps' });
    expect(logs).toMatch(/stack-trace\/handler\.ts:4:\d+/);
  });
});
