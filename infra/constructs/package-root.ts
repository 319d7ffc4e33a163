/**
 * The root of the op-lambda package, wherever this module runs from: the repository's sources
 * (infra/constructs) or the built entry point (dist/) inside a user's node_modules. Files the
 * constructs hand to esbuild (the operations handlers, the axios stand-in) are found from here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PACKAGE_NAME = 'op-lambda';

function isPackageRoot(directory: string): boolean {
  const manifest = join(directory, 'package.json');
  if (!existsSync(manifest)) return false;
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
}

function findPackageRoot(from: string): string {
  let directory = from;
  while (!isPackageRoot(directory)) {
    const parent = dirname(directory);
    if (parent === directory) throw new Error(`${PACKAGE_NAME}: no package.json named ${PACKAGE_NAME} above ${from}`);
    directory = parent;
  }
  return directory;
}

export const PACKAGE_ROOT: string = findPackageRoot(__dirname);
