/**
 * Bundles a handler the way `NodejsFunction` does (esbuild, minified, CommonJS, Node 24), so that
 * benchmarks run and weigh what Lambda would load, and tells which packages the bytes come from.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';
import { EARLY_START_BUILD, EARLY_START_OUTPUTS } from '../infra/constructs/early-start-bundle';

export const PROJECT_ROOT = resolve(__dirname, '..');

/** `NodejsFunction`'s default for Node.js 18+ runtimes: the runtime provides AWS SDK v3. */
export const RUNTIME_PROVIDED = ['@aws-sdk/*'];

/**
 * SecretsFunction's esbuild alias: axios, which `@1password/connect` loads but op-lambda never
 * calls (the resolver brings its own node:http transport), becomes a stub.
 */
export const AXIOS_LEFT_OUT: Readonly<Record<string, string>> = { axios: 'shared/secrets/connect/axios-unused.ts' };

/** SecretsFunction's stack-trace mapper, evaluated first in every bundle (esbuild `inject`). */
export const LAZY_SOURCE_MAPS = ['shared/lazy-source-maps.ts'];

/**
 * What SecretsFunction gives esbuild besides the defaults: everything bundled, names kept, a linked
 * source map read only when a stack trace is formatted; and `start.mjs` beside the bundle, which
 * sends the first requests to 1Password before loading it.
 */
export const AS_SECRETS_FUNCTION = { external: [], keepNames: true, sourcemap: true, replace: AXIOS_LEFT_OUT, inject: LAZY_SOURCE_MAPS, earlyStart: true } as const;

export interface BundleRequest {
  /** Handler entry, relative to the project root. */
  entry: string;
  /** Folder that receives `index.js` (and `index.js.map` when `sourcemap`). */
  outDir: string;
  /** Default: RUNTIME_PROVIDED. `[]` bundles everything, as SecretsFunction does. */
  external?: readonly string[];
  /** Packages replaced by a module of this project: name -> path relative to the project root. */
  replace?: Readonly<Record<string, string>>;
  /** SecretsFunction's extra settings (keep names, linked source map). Default false. */
  keepNames?: boolean;
  sourcemap?: boolean;
  /** Modules evaluated before the entry, relative to the project root. */
  inject?: readonly string[];
  /** Also build `start.mjs` and `early-start.js` (SecretsFunction's early start); the handler is then `start.<export>`. Default false. */
  earlyStart?: boolean;
}

export interface PackageShare {
  /** npm package name, or `(op-lambda code)` for this project's own modules. */
  name: string;
  bytes: number;
}

export interface BuiltBundle {
  /** Absolute path of `index.js`. */
  file: string;
  bytes: number;
  /** Bytes of `index.js.map`, when built. */
  mapBytes?: number;
  /** Output bytes per package, largest first. */
  packages: PackageShare[];
}

export async function bundleHandler(request: BundleRequest): Promise<BuiltBundle> {
  await mkdir(request.outDir, { recursive: true });
  const outfile = join(request.outDir, 'index.js');
  const result = await build({
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [resolve(PROJECT_ROOT, request.entry)],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    external: [...(request.external ?? RUNTIME_PROVIDED)],
    keepNames: request.keepNames ?? false,
    // Linked, as NodejsFunction's `sourceMap: true`: the bundle names its map, so Node (with
    // --enable-source-maps) or the injected mapper can find it.
    sourcemap: request.sourcemap ? 'linked' : false,
    inject: (request.inject ?? []).map((path) => resolve(PROJECT_ROOT, path)),
    sourcesContent: false,
    metafile: true,
    logLevel: 'silent',
    plugins: request.replace ? [replacePackages(request.replace)] : [],
  });
  if (request.earlyStart) await buildEarlyStart(request.outDir);
  const bytes = (await stat(outfile)).size;
  const mapBytes = request.sourcemap ? (await stat(`${outfile}.map`)).size : undefined;
  return { file: outfile, bytes, ...(mapBytes === undefined ? {} : { mapBytes }), packages: packageShares(result.metafile, outfile) };
}

/** `start.mjs` and `early-start.js` as SecretsFunction builds them (infra/constructs/early-start-bundle.ts). */
async function buildEarlyStart(outDir: string): Promise<void> {
  for (const { entry, file, format } of EARLY_START_OUTPUTS) {
    await build({ absWorkingDir: PROJECT_ROOT, entryPoints: [entry], outfile: join(outDir, file), format, ...EARLY_START_BUILD, logLevel: 'silent' });
  }
}

/** Output bytes per package for one output file of a metafile. */
export function packageShares(metafile: Metafile, outfile: string): PackageShare[] {
  const key = relative(PROJECT_ROOT, outfile);
  const output = metafile.outputs[key] ?? Object.values(metafile.outputs).find((candidate) => candidate.entryPoint !== undefined);
  if (!output) return [];
  const totals = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
    const name = packageOf(path);
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/** `node_modules/@scope/pkg/...` -> `@scope/pkg`; the innermost node_modules wins (nested copies). */
export function packageOf(path: string): string {
  const marker = 'node_modules/';
  const at = path.lastIndexOf(marker);
  if (at < 0) return '(op-lambda code)';
  const [first, second] = path.slice(at + marker.length).split('/');
  return first?.startsWith('@') ? `${first}/${second ?? ''}` : first ?? path;
}

/** Resolves each named package to a module of this project instead (e.g. a stub). */
function replacePackages(replacements: Readonly<Record<string, string>>): Plugin {
  const names = Object.keys(replacements);
  const filter = new RegExp(`^(${names.map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
  return {
    name: 'replace-packages',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter }, (args) => ({ path: resolve(PROJECT_ROOT, replacements[args.path]!) }));
    },
  };
}
