/**
 * Original file:line in stack traces, paid for only when a stack is formatted.
 *
 * `--enable-source-maps` makes Node read and parse every bundle's source map while the bundle
 * loads: some 10 ms of every cold start, for stack traces most invocations never format. This
 * module, evaluated first in every SecretsFunction bundle (esbuild `inject`), instead maps the
 * frames of a stack when V8 formats it (the first read of `error.stack`), reading a bundle's
 * `<file>.map` then and keeping it for the container's later stacks.
 *
 * Node's own source map support wins when enabled (`--enable-source-maps`): nothing is installed.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';

interface SourceMapFile {
  map: SourceMap;
  /** Where the map's `sources` are relative to. */
  root: string;
}

/** Bundle file -> its source map; null when it has none (Node's own modules, plain files). */
const maps = new Map<string, SourceMapFile | null>();

function sourceMapOf(file: string): SourceMapFile | null {
  let known = maps.get(file);
  if (known === undefined) {
    known = readSourceMap(file);
    maps.set(file, known);
  }
  return known;
}

function readSourceMap(file: string): SourceMapFile | null {
  try {
    const payload = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sourceRoot?: unknown };
    const sourceRoot = typeof payload.sourceRoot === 'string' ? payload.sourceRoot : '';
    return { map: new SourceMap(payload as ConstructorParameters<typeof SourceMap>[0]), root: resolve(dirname(file), sourceRoot) };
  } catch {
    return null;
  }
}

/** One frame as V8 prints it, its bundle position replaced by the original one when the map knows it. */
export function formatFrame(site: NodeJS.CallSite): string {
  const printed = site.toString();
  const file = site.getFileName();
  const line = site.getLineNumber();
  const column = site.getColumnNumber();
  if (!file || !isAbsolute(file) || line === null || column === null) return printed;
  const sourceMap = sourceMapOf(file);
  const entry = sourceMap?.map.findEntry(line - 1, column - 1);
  if (!sourceMap || !entry || !('originalSource' in entry)) return printed;
  const original = `${resolve(sourceMap.root, entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  return printed.replace(`${file}:${line}:${column}`, original);
}

function prepareStackTrace(error: Error, sites: NodeJS.CallSite[]): string {
  let header: string;
  try {
    header = String(error);
  } catch {
    header = '<error>';
  }
  return header + sites.map((site) => `\n    at ${formatFrame(site)}`).join('');
}

/** Installs the hook, unless Node maps stacks itself. Evaluated first, so nothing has replaced Node's default yet. */
export function installLazySourceMaps(): void {
  if (process.sourceMapsEnabled) return;
  Error.prepareStackTrace = prepareStackTrace;
}

installLazySourceMaps();
