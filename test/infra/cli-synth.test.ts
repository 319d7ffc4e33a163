/**
 * The real CDK CLI, as a user runs it: `npx cdk synth` with no AWS credentials and no network.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stageConfig } from '../../infra/config';
import { PROJECT_ROOT } from './synth';

const run = promisify(execFile);
const CLI_TIMEOUT_MS = 180_000;
/** Scheduled functions of the Operations construct, deployed beside the function table's. */
const OPS_FUNCTIONS = ['rotate', 'canary', 'activity'];

/** The environment minus anything that could reach AWS. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(AWS_|CDK_DEFAULT_)/.test(name) || name === 'AWS_CA_BUNDLE'),
  );
  const nowhere = join(tmpdir(), 'op-lambda-no-aws-config');
  return { ...env, AWS_CONFIG_FILE: nowhere, AWS_SHARED_CREDENTIALS_FILE: nowhere, AWS_EC2_METADATA_DISABLED: 'true' };
}

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cdk(args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run('npx', ['cdk', ...args], {
      cwd: PROJECT_ROOT,
      env: offlineEnv(),
      timeout: CLI_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('npx cdk synth', () => {
  const outdirs: string[] = [];
  const newOutdir = (): string => {
    const outdir = mkdtempSync(join(tmpdir(), 'op-lambda-cli-'));
    outdirs.push(outdir);
    return outdir;
  };
  afterAll(() => outdirs.forEach((outdir) => rmSync(outdir, { recursive: true, force: true })));

  it('keeps notices and telemetry off in cdk.json', () => {
    const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
      app: string;
      notices: boolean;
      context: Record<string, unknown>;
    };
    expect(cdkJson.app).toBe('npx tsx infra/app.ts');
    expect(cdkJson.notices).toBe(false);
    expect(cdkJson.context['cli-telemetry']).toBe(false);
  });

  it(
    'synthesizes the staging stack offline with one bundled asset per function, operations included',
    async () => {
      const outdir = newOutdir();
      const result = await cdk(['synth', '--quiet', '-o', outdir]);
      expect(result).toMatchObject({ code: 0 });

      const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
        artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
      };
      expect(manifest.artifacts['OpLambda-staging']).toMatchObject({
        type: 'aws:cloudformation:stack',
        properties: { templateFile: 'OpLambda-staging.template.json' },
      });

      const assets = readdirSync(outdir).filter((entry) => entry.startsWith('asset.'));
      const functionNames = [...stageConfig('staging').functions.map((fn) => fn.name), ...OPS_FUNCTIONS].map(
        (name) => `op-lambda-staging-${name}`,
      );
      expect(assets).toHaveLength(functionNames.length);
      for (const asset of assets) expect(existsSync(join(outdir, asset, 'index.js'))).toBe(true);

      // Each function points at its own asset folder, as the local emulator will read it.
      const template = JSON.parse(readFileSync(join(outdir, 'OpLambda-staging.template.json'), 'utf8')) as {
        Resources: Record<string, { Type: string; Metadata?: Record<string, string>; Properties?: { FunctionName?: string } }>;
      };
      const lambdas = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function');
      expect(lambdas.map((resource) => resource.Properties?.FunctionName).sort()).toEqual(functionNames.sort());
      const assetPaths = lambdas.map((resource) => resource.Metadata?.['aws:asset:path']);
      expect(new Set(assetPaths)).toEqual(new Set(assets));
    },
    CLI_TIMEOUT_MS + 10_000,
  );

  it(
    'stops with a clear message on an unknown stage',
    async () => {
      const result = await cdk(['synth', '--quiet', '-c', 'stage=dev', '-o', newOutdir()]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('Unknown stage "dev": expected one of staging, prod');
    },
    CLI_TIMEOUT_MS + 10_000,
  );
});
