/**
 * How long `require` of a bundle takes in a fresh Node process: module evaluation is INIT time
 * that every cold start pays before the handler runs. The child exits right after, so anything
 * the module started (a prefetch) does not count.
 */
import { spawn } from 'node:child_process';

const MARKER = 'REQUIRE_MS=';

/** Loads argv[1] and prints how long that took; `performance` is a global in Node. */
const CHILD_SCRIPT = `
const started = performance.now();
require(process.argv[1]);
const elapsed = performance.now() - started;
process.stdout.write('\\n${MARKER}' + elapsed + '\\n', () => process.exit(0));
`;

export interface RequireTarget {
  file: string;
  /** The process environment, built from scratch (nothing inherited). */
  env: Record<string, string>;
}

export async function requireTimeMs(target: RequireTarget): Promise<number> {
  const { stdout, stderr, code } = await runProcess(process.execPath, ['-e', CHILD_SCRIPT, target.file], target.env);
  const line = stdout.split('\n').find((candidate) => candidate.startsWith(MARKER));
  if (code !== 0 || !line) {
    throw new Error(`require of ${target.file} failed (exit ${code}): ${lastLines(stderr || stdout, 5)}`);
  }
  return Number(line.slice(MARKER.length));
}

export function runProcess(command: string, args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.once('error', reject);
    child.once('close', (code) => resolve({ stdout, stderr, code }));
  });
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join(' | ');
}
