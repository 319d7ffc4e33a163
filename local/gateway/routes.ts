/**
 * Route selection as API Gateway HTTP APIs do it: the most specific route wins — literal
 * segments over `{param}` segments over a greedy `{proxy+}`, compared segment by segment from the
 * left — then a route for the exact method over `ANY`; `$default` catches what nothing else does.
 */

export interface RouteMatch<T> {
  routeKey: string;
  target: T;
  pathParameters: Record<string, string>;
}

type Segment = { kind: 'literal'; text: string } | { kind: 'param'; name: string } | { kind: 'greedy'; name: string };

interface CompiledRoute<T> {
  routeKey: string;
  method: string;
  segments: Segment[];
  target: T;
}

const SEGMENT_RANK = { literal: 3, param: 2, greedy: 1 } as const;

export class RouteTable<T> {
  private readonly routes: CompiledRoute<T>[] = [];
  private fallback: { routeKey: string; target: T } | undefined;

  /** Adds a route; returns false (and ignores it) when the route key is already taken. */
  add(routeKey: string, target: T): boolean {
    if (routeKey === '$default') {
      if (this.fallback) return false;
      this.fallback = { routeKey, target };
      return true;
    }
    if (this.routes.some((route) => route.routeKey === routeKey)) return false;
    const [method, path] = parseRouteKey(routeKey);
    this.routes.push({ routeKey, method, segments: compilePath(path), target });
    return true;
  }

  match(method: string, path: string): RouteMatch<T> | undefined {
    const requestSegments = path.split('/').slice(1);
    let best: { route: CompiledRoute<T>; parameters: Record<string, string> } | undefined;
    for (const route of this.routes) {
      if (route.method !== 'ANY' && route.method !== method.toUpperCase()) continue;
      const parameters = matchSegments(route.segments, requestSegments);
      if (parameters && (!best || moreSpecific(route, best.route))) best = { route, parameters };
    }
    if (best) return { routeKey: best.route.routeKey, target: best.route.target, pathParameters: best.parameters };
    return this.fallback ? { ...this.fallback, pathParameters: {} } : undefined;
  }
}

export function parseRouteKey(routeKey: string): [method: string, path: string] {
  const match = /^([A-Za-z]+) (\/.*)$/.exec(routeKey.trim());
  if (!match) throw new Error(`route key "${routeKey}" is not "METHOD /path" or "$default"`);
  return [match[1]!.toUpperCase(), match[2]!];
}

function compilePath(path: string): Segment[] {
  const parts = path.split('/').slice(1);
  return parts.map((part, index): Segment => {
    const variable = /^\{([^{}+]+)(\+?)\}$/.exec(part);
    if (!variable) return { kind: 'literal', text: part };
    if (variable[2] && index !== parts.length - 1) throw new Error(`greedy variable {${variable[1]}+} must be the last segment of ${path}`);
    return variable[2] ? { kind: 'greedy', name: variable[1]! } : { kind: 'param', name: variable[1]! };
  });
}

function matchSegments(template: readonly Segment[], request: readonly string[]): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (const [index, segment] of template.entries()) {
    const part = request[index];
    if (part === undefined) return undefined;
    if (segment.kind === 'literal') {
      if (segment.text !== part) return undefined;
    } else if (segment.kind === 'param') {
      if (part === '') return undefined;
      parameters[segment.name] = decode(part);
    } else {
      const rest = request.slice(index).join('/');
      if (rest === '') return undefined;
      parameters[segment.name] = decode(rest);
      return parameters;
    }
  }
  return request.length === template.length ? parameters : undefined;
}

function moreSpecific<T>(candidate: CompiledRoute<T>, current: CompiledRoute<T>): boolean {
  const length = Math.max(candidate.segments.length, current.segments.length);
  for (let index = 0; index < length; index++) {
    const a = rank(candidate.segments[index]);
    const b = rank(current.segments[index]);
    if (a !== b) return a > b;
  }
  return candidate.method !== 'ANY' && current.method === 'ANY';
}

function rank(segment: Segment | undefined): number {
  return segment ? SEGMENT_RANK[segment.kind] : 0;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
