/** Every relative link of README.md and docs/ reaches a file, and an anchor a heading of it. */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { readDoc, ROOT } from './markdown';

const PAGES = ['README.md', 'docs/middleware.md', 'docs/using-it.md', 'docs/deploying.md', 'docs/local-development.md', 'docs/operations.md', 'docs/example-api.md', 'docs/constructs.md'];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(path: string): Set<string> {
  const headings = readDoc(path).split('\n').filter((line) => /^#+ /.test(line));
  return new Set(headings.map((line) => line.replace(/^#+ /, '').replace(/\\_/g, '_').toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
}

describe.each(PAGES)('%s', (page) => {
  it('links only to files and headings that exist', () => {
    const links = [...readDoc(page).matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!).filter((link) => !/^[a-z]+:/.test(link));
    const broken = links.filter((link) => {
      const [file, anchor] = link.split('#');
      const target = file ? relative(ROOT, join(ROOT, dirname(page), file)) : page;
      if (!existsSync(join(ROOT, target))) return true;
      return anchor !== undefined && target.endsWith('.md') && !anchorsOf(target).has(anchor);
    });
    expect(broken).toEqual([]);
  });
});
