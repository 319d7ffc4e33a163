// SECURITY.md's threat table names, for each threat, the tests that prove it: every named file
// must be a test file that `npm test` runs, holding every named test (it or describe), not skipped.
//
// In the last column, a backticked path (`test/….test.ts`) is followed by the names of its tests in
// double quotes; an ellipsis (…) in a name stands for any text, a placeholder of a parameterised
// test (%s, %i, %j, …) for any value, and a describe block titled "<subject>: <part>" may be named
// by its part alone.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

interface NamedTests {
  file: string;
  names: string[];
}

interface ThreatRow {
  threat: string;
  tests: NamedTests[];
}

/** The rows of the threat table: those whose first cell is a bold threat. */
function threatRows(markdown: string): ThreatRow[] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('| **'))
    .map((line) => {
      const cells = line.split(/(?<!\\)\|/).map((cell) => cell.trim());
      const threat = /\*\*(.+?)\*\*/.exec(cells[1] ?? '')?.[1] ?? '';
      return { threat, tests: namedTests(cells[cells.length - 2] ?? '') };
    });
}

/** `test/a.test.ts`: "name", "name"; `test/b.test.ts`, "describe": "name" */
function namedTests(cell: string): NamedTests[] {
  const parts = cell.split(/`([^`]*\.test\.ts)`/);
  const tests: NamedTests[] = [];
  for (let index = 1; index < parts.length; index += 2) {
    tests.push({ file: parts[index]!, names: [...parts[index + 1]!.matchAll(/"([^"]+)"/g)].map((match) => match[1]!) });
  }
  return tests;
}

/** Titles of the tests and describe blocks a jest file runs (`.skip`, `.todo` and `x…` are left out). */
function titlesIn(source: string): string[] {
  const title = /\b(?:it|test|describe)(?:\.each\([\s\S]*?\))?\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g;
  return [...source.matchAll(title)].map((match) => match[2]!.replace(/\\(.)/g, '$1'));
}

function pattern(text: string, wildcard: RegExp): RegExp {
  const literal = text.split(wildcard).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${literal.join('.*')}$`, 's');
}

function nameMatches(name: string, title: string): boolean {
  return pattern(name, /…/).test(title) || pattern(title, /%[sdifjop#]/).test(name) || title.endsWith(`: ${name}`);
}

/** What is wrong with a row's named tests; empty when every one exists. */
function problems(row: ThreatRow): string[] {
  if (row.tests.length === 0) return ['names no test file'];
  return row.tests.flatMap(({ file, names }) => {
    if (!file.startsWith('test/')) return [`${file} is not under test/, where jest looks`];
    const path = join(ROOT, file);
    if (!existsSync(path)) return [`${file} does not exist`];
    if (names.length === 0) return [`${file}: names no test`];
    const titles = titlesIn(readFileSync(path, 'utf8'));
    return names.filter((name) => !titles.some((title) => nameMatches(name, title))).map((name) => `${file}: no test "${name}"`);
  });
}

const rows = threatRows(readFileSync(join(ROOT, 'SECURITY.md'), 'utf8'));

describe('SECURITY.md', () => {
  it('has a threat table', () => {
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.threat).not.toBe('');
  });

  it('covers every threat the model must answer', () => {
    const required = [
      'Anonymous caller on the internet',
      'Caller with a valid token',
      'Compromised function',
      'A compromised or impersonated Connect server',
      'Leaked Connect token',
      'A leaked webhook signing secret',
    ];
    expect(required.filter((threat) => !rows.some((row) => row.threat === threat))).toEqual([]);
  });

  it.each(rows.map((row) => [row.threat, row] as const))('%s: every test it names exists and runs', (_threat, row) => {
    expect(problems(row)).toEqual([]);
  });
});

describe('reading the threat table', () => {
  const sample = [
    '| Threat | Does | Left | Test |',
    '|---|---|---|---|',
    '| **A sample threat** | a \\| b | c | `test/unit/security-md.test.ts`, "reading the threat table": "reads the test names of a row…", "has a %s table" |',
  ].join('\n');

  it('reads the test names of a row, with describe blocks and wildcards, and finds them', () => {
    const [row] = threatRows(sample);
    expect(row).toEqual({
      threat: 'A sample threat',
      tests: [{ file: 'test/unit/security-md.test.ts', names: ['reading the threat table', 'reads the test names of a row…', 'has a %s table'] }],
    });
    expect(problems({ threat: 'x', tests: [{ file: 'test/unit/security-md.test.ts', names: ['reading the threat table', 'reads the test names of a row…'] }] })).toEqual([]);
  });

  it('reports a test that does not exist, a missing file, and a row naming no test', () => {
    expect(problems({ threat: 'x', tests: [{ file: 'test/unit/security-md.test.ts', names: ['a test nobody wrote'] }] })).toEqual([
      'test/unit/security-md.test.ts: no test "a test nobody wrote"',
    ]);
    expect(problems({ threat: 'x', tests: [{ file: 'test/unit/missing.test.ts', names: ['anything'] }] })).toEqual(['test/unit/missing.test.ts does not exist']);
    expect(problems({ threat: 'x', tests: [] })).toEqual(['names no test file']);
  });

  it('matches a parameterised test by its placeholders, and leaves skipped tests out', () => {
    const titles = titlesIn("it.each([301, 302] as const)('answers 502 to a %i redirect', () => {}); it.skip('skipped', () => {});");
    expect(titles).toEqual(['answers 502 to a %i redirect']);
    expect(nameMatches('answers 502 to a 301 (302) redirect', titles[0]!)).toBe(true);
    expect(nameMatches('answers 200 to a redirect', titles[0]!)).toBe(false);
  });

  it('matches a describe block titled "<subject>: <part>" by its part', () => {
    expect(nameMatches('replays', 'POST /webhooks/{source}: replays')).toBe(true);
    expect(nameMatches('plays', 'POST /webhooks/{source}: replays')).toBe(false);
  });
});
