// Request paths as faults, counters and the request log see them: no query, no trailing slash.

export function normalizePath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** A string matches the normalized path exactly; a RegExp is tested against it. */
export function pathMatches(pattern: string | RegExp | undefined, path: string): boolean {
  if (pattern === undefined) return true;
  if (typeof pattern === 'string') return normalizePath(pattern) === path;
  pattern.lastIndex = 0;
  return pattern.test(path);
}

export function methodMatches(pattern: string | undefined, method: string): boolean {
  return pattern === undefined || pattern.toUpperCase() === method.toUpperCase();
}
