/** What the docs tests read of the Markdown pages: their fenced code blocks and shell commands. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

export interface CodeBlock {
  readonly language: string;
  readonly code: string;
  /** The heading the block sits under. */
  readonly heading: string;
  /** An HTML comment right above the block (`<!-- walkthrough: npm start -->`), if any. */
  readonly marker?: string;
}

export function readDoc(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/** Every fenced block of a page, in order (indented blocks of list items included). */
export function codeBlocks(path: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let heading = '';
  let marker: string | undefined;
  let open: { language: string; indent: string; lines: string[] } | undefined;
  for (const line of readDoc(path).split('\n')) {
    if (open) {
      if (line.trim() === '```') {
        blocks.push({ language: open.language, code: open.lines.join('\n'), heading, ...(marker ? { marker } : {}) });
        open = undefined;
        marker = undefined;
      } else open.lines.push(line.startsWith(open.indent) ? line.slice(open.indent.length) : line);
      continue;
    }
    const fence = /^(\s*)```(\w*)\s*$/.exec(line);
    if (fence) open = { indent: fence[1]!, language: fence[2]!, lines: [] };
    else if (/^#+ /.test(line)) heading = line.replace(/^#+ /, '');
    else if (/^<!--.*-->$/.test(line.trim())) marker = line.trim().slice(4, -3).trim();
    else if (line.trim() !== '') marker = undefined;
  }
  return blocks;
}

/** Shell commands of a page's `sh` blocks, continuation lines joined, comments kept. */
export function shellCommands(path: string): string[] {
  return codeBlocks(path)
    .filter((block) => block.language === 'sh')
    .flatMap((block) => block.code.replace(/\\\n\s*/g, ' ').split('\n'))
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** The one block under a marker; fails the test when the page lost it. */
export function markedBlock(path: string, marker: string): CodeBlock {
  const block = codeBlocks(path).find((candidate) => candidate.marker === marker);
  if (!block) throw new Error(`${path} has no code block marked <!-- ${marker} -->`);
  return block;
}

/** The statuses a block's comments announce, in order: `curl … # 202 {"received":true}`. */
export function announcedStatuses(code: string): number[] {
  return code
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((line) => /^\s*curl\b/.test(line))
    .map((line) => /#\s*(\d{3})\b/.exec(line)?.[1])
    .filter((status): status is string => status !== undefined)
    .map(Number);
}

export interface ShellRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a script in bash without blocking this process (the emulation the script talks to may run
 * in it), with `env` added to this process's environment.
 */
export function runBash(script: string, env: Record<string, string> = {}, cwd: string = ROOT): Promise<ShellRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
