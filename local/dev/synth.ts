/**
 * Synthesizes a stage of op-lambda into a cloud assembly folder, in a child process running
 * `synth-app.ts`: in-process synthesis is about twice as fast as the CDK CLI (no second `tsx`
 * start, no CLI), and the child keeps aws-cdk-lib and esbuild's chatter out of the caller.
 */
import { spawn } from 'node:child_process';
import { join, resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline';

export const PROJECT_ROOT = join(__dirname, '..', '..');

/** What the synth-app child prints, as one JSON line, when synthesis succeeds. */
export interface SynthAppResult {
  stackName: string;
  outdir: string;
  warnings: string[];
}

const SYNTH_APP = join(__dirname, 'synth-app.ts');

export interface SynthesizeOptions {
  /** `staging` or `prod`. */
  stage: string;
  /** Folder of the cloud assembly (created when missing). */
  outdir: string;
  /** Told about each step, e.g. `bundling Health`. */
  onProgress?: (step: string) => void;
  /** Aborting kills the synthesis. */
  signal?: AbortSignal;
}

export interface SynthesizedStage {
  stackName: string;
  /** Absolute path of the cloud assembly. */
  cdkOut: string;
  /** Warnings the app's constructs reported (none is the norm). */
  warnings: string[];
  durationMs: number;
}

/**
 * What the CDK prints before bundling an asset, e.g. `Bundling asset OpLambda-staging/Health/Function/Code/Stage...`
 * or `.../Operations/Rotate/Function/Code/Stage...`: the construct path without stack and suffix names it.
 */
const BUNDLING_LINE = /^Bundling asset [^/]+\/(.+?)(?:\/Function)?\/Code\/Stage\.*$/;

export function synthesizeStage(options: SynthesizeOptions): Promise<SynthesizedStage> {
  const startedAt = performance.now();
  const outdir = resolvePath(options.outdir);
  const child = spawn(process.execPath, ['--import', 'tsx', SYNTH_APP, options.stage, outdir], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: undefined },
    signal: options.signal,
    killSignal: 'SIGKILL',
  });
  const stderr: string[] = [];
  const stdout: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr.push(line);
    const bundling = BUNDLING_LINE.exec(line);
    if (bundling) options.onProgress?.(`bundling ${bundling[1]}`);
  });
  createInterface({ input: child.stdout }).on('line', (line) => stdout.push(line));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const result = lastJsonLine(stdout);
      if (code !== 0 || !result) {
        const reason = signal ? `was killed (${signal})` : `failed (exit code ${code})`;
        reject(new Error(`synthesis of stage ${options.stage} ${reason}:\n${meaningfulLines(stderr).join('\n')}`));
        return;
      }
      resolve({ stackName: result.stackName, cdkOut: result.outdir, warnings: result.warnings, durationMs: performance.now() - startedAt });
    });
  });
}

function lastJsonLine(lines: readonly string[]): SynthAppResult | undefined {
  const line = [...lines].reverse().find((candidate) => candidate.startsWith('{'));
  if (line === undefined) return undefined;
  try {
    return JSON.parse(line) as SynthAppResult;
  } catch {
    return undefined;
  }
}

/** stderr without esbuild's per-bundle size report, which says nothing about a failure. */
function meaningfulLines(lines: readonly string[]): string[] {
  return lines.filter((line) => line.trim() !== '' && !/^\s+\S+\s+\d+(\.\d+)?[kmg]?b\s*$/i.test(line) && !line.startsWith('⚡ Done'));
}
