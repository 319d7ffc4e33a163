/**
 * `start.mjs`, the module a SecretsFunction's Lambda loads first (shared/start.ts): how esbuild
 * builds it, for the construct (an esbuild command after bundling) and the benchmarks alike.
 */
import { join } from 'node:path';
import { PACKAGE_ROOT } from './package-root';

/** The file next to `index.js`; the function's handler is `start.<export>`. */
export const EARLY_START_MODULE = 'start';
export const EARLY_START_FILE = `${EARLY_START_MODULE}.mjs`;
export const EARLY_START_ENTRY = join(PACKAGE_ROOT, 'shared', 'start.ts');

/** esbuild's options, as command-line flags: one small ES module, Node 24, minified. */
export const EARLY_START_FLAGS: readonly string[] = ['--bundle', '--platform=node', '--format=esm', '--target=node24', '--minify', '--log-level=warning'];

/** The shell command that builds `start.mjs` into `outputDir` with esbuild's executable at `esbuildBin` (native, or its launcher). */
export function earlyStartBuildCommand(esbuildBin: string, outputDir: string): string {
  // Single quotes: NodejsFunction runs the hooks inside `bash -c "..."`.
  const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
  return [esbuildBin, EARLY_START_ENTRY, ...EARLY_START_FLAGS, `--outfile=${join(outputDir, EARLY_START_FILE)}`].map(quote).join(' ');
}
