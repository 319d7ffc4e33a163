/**
 * The reference pages in docs/reference/ are generated from the code's TSDoc by `npm run docs`
 * (TypeDoc with typedoc-plugin-markdown). Generating them again into a temporary folder must give
 * the committed pages byte for byte: an option, default or prop changed without `npm run docs`
 * fails here.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const COMMITTED = join(ROOT, 'docs', 'reference');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

describe('docs/reference', () => {
  let generated: string;

  beforeAll(() => {
    generated = mkdtempSync(join(tmpdir(), 'op-lambda-reference-'));
    const run = spawnSync(join(ROOT, 'node_modules', '.bin', 'typedoc'), ['--out', generated], { cwd: ROOT, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`typedoc failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
  }, 240_000);

  afterAll(() => rmSync(generated, { recursive: true, force: true }));

  it('holds exactly the pages the generator writes', () => {
    expect(filesUnder(COMMITTED)).toEqual(filesUnder(generated));
  });

  it('matches what the generator writes from the code (run `npm run docs` after changing a TSDoc comment)', () => {
    const stale = filesUnder(generated).filter((file) => {
      const committed = readFileSync(join(COMMITTED, file), { encoding: 'utf8', flag: 'r' });
      return committed !== readFileSync(join(generated, file), 'utf8');
    });
    expect(stale).toEqual([]);
  });

  it('documents each middleware option with its default', () => {
    const page = readFileSync(join(COMMITTED, 'op-lambda.md'), 'utf8');
    for (const option of ['ttlMs', 'maxStaleMs', 'failureBackoffMs', 'maxFailureBackoffMs', 'timeoutMs', 'reserveMs', 'fromEnv']) {
      expect(page).toMatch(new RegExp(`\`${option}\\?\` \\|[^\\n]*\\*\\*Default\\*\\*`));
    }
  });
});
