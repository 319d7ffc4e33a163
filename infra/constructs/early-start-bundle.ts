/**
 * The early start beside a SecretsFunction's bundle: `start.mjs` (shared/start.ts), the module
 * Lambda loads first, and `early-start.js` (shared/secrets/connect/early-start.ts), the requests it
 * sends before loading `index.js`. How esbuild builds them, for the construct (esbuild commands
 * after bundling) and the benchmarks alike.
 */
import { join } from 'node:path';
import { PACKAGE_ROOT } from './package-root';

/** The function's handler is `start.<export>`. */
export const EARLY_START_MODULE = 'start';

export interface EarlyStartOutput {
  entry: string;
  file: string;
  format: 'esm' | 'cjs';
}

/** Both files: ES module for the top-level `await`, CommonJS for the rest (see shared/start.ts). */
export const EARLY_START_OUTPUTS: readonly EarlyStartOutput[] = [
  { entry: join(PACKAGE_ROOT, 'shared', 'start.ts'), file: `${EARLY_START_MODULE}.mjs`, format: 'esm' },
  { entry: join(PACKAGE_ROOT, 'shared', 'secrets', 'connect', 'early-start.ts'), file: 'early-start.js', format: 'cjs' },
];

/** Shared esbuild options: bundled, Node 24, minified. */
export const EARLY_START_BUILD = { bundle: true, platform: 'node', target: 'node24', minify: true } as const;

/** The shell commands that build both files into `outputDir` with esbuild's executable at `esbuildBin`. */
export function earlyStartBuildCommands(esbuildBin: string, outputDir: string): string[] {
  // Single quotes: NodejsFunction runs the hooks inside `bash -c "..."`.
  const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
  const { platform, target } = EARLY_START_BUILD;
  return EARLY_START_OUTPUTS.map(({ entry, file, format }) =>
    [esbuildBin, entry, '--bundle', `--platform=${platform}`, `--format=${format}`, `--target=${target}`, '--minify', '--log-level=warning', `--outfile=${join(outputDir, file)}`]
      .map(quote)
      .join(' '),
  );
}
