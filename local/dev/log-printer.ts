/**
 * Console output of `npm start`: every function's lines prefixed with its short name, one line per
 * gateway request and per local Connect request. Colours only on a terminal (and never with
 * NO_COLOR set; FORCE_COLOR forces them), so piped output stays plain text.
 */
import type { GatewayRequestRecord, LogLine } from '../gateway/server';
import type { LoggedRequest } from '../connect/server';

type Paint = (text: string) => string;

const ANSI = { dim: 2, red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36 } as const;
const FUNCTION_COLOURS = [ANSI.cyan, ANSI.magenta, ANSI.yellow, ANSI.blue, ANSI.green] as const;

export function useColour(stream: { isTTY?: boolean } = process.stdout, env: Record<string, string | undefined> = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export interface LogPrinterOptions {
  /** Full function names, to derive short names and a stable colour each. */
  functionNames: readonly string[];
  colour: boolean;
  write?: (line: string) => void;
}

export class LogPrinter {
  private readonly write: (line: string) => void;
  private readonly labels = new Map<string, string>();
  private readonly width: number;

  constructor(private readonly options: LogPrinterOptions) {
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    const prefix = commonDashPrefix(options.functionNames);
    const shortNames = options.functionNames.map((name) => name.slice(prefix.length) || name);
    this.width = Math.max(7, ...shortNames.map((name) => name.length));
    options.functionNames.forEach((name, index) => {
      const colour = FUNCTION_COLOURS[index % FUNCTION_COLOURS.length]!;
      this.labels.set(name, this.paint(colour)(shortNames[index]!.padEnd(this.width)));
    });
  }

  /** The name a function is shown under, e.g. `health` for `op-lambda-staging-health`. */
  shortName(functionName: string): string {
    const prefix = commonDashPrefix(this.options.functionNames);
    return functionName.startsWith(prefix) ? functionName.slice(prefix.length) || functionName : functionName;
  }

  functionLine(line: LogLine): void {
    const label = this.labels.get(line.functionName) ?? line.functionName.padEnd(this.width);
    const text = line.stream === 'platform' ? this.paint(ANSI.dim)(line.text) : line.stream === 'stderr' ? this.paint(ANSI.red)(line.text) : line.text;
    this.write(`${label} | ${text}`);
  }

  gatewayRequest(record: GatewayRequestRecord): void {
    const invoke = record.invoke;
    const details = [
      record.functionName ? this.shortName(record.functionName) : undefined,
      invoke?.coldStart ? 'cold start' : undefined,
      invoke && invoke.outcome !== 'success' ? invoke.outcome : undefined,
      `${Math.round(record.durationMs)} ms`,
    ].filter(Boolean);
    const statusColour = record.status >= 500 ? ANSI.red : record.status >= 400 ? ANSI.yellow : ANSI.green;
    this.write(`${'gateway'.padEnd(this.width)} | ${record.method} ${record.path} ${this.paint(statusColour)(String(record.status))} (${details.join(', ')})`);
  }

  connectRequest(entry: LoggedRequest, durationMs: number): void {
    const status = entry.status === 0 ? 'dropped' : String(entry.status);
    const who = entry.tokenName ? ` [${entry.tokenName}]` : '';
    this.write(this.paint(ANSI.dim)(`${'connect'.padEnd(this.width)} | ${entry.method} ${entry.path} ${status} ${Math.round(durationMs)} ms${who}`));
  }

  private paint(code: number): Paint {
    return this.options.colour ? (text) => `\u001b[${code}m${text}\u001b[0m` : (text) => text;
  }
}

/** The longest prefix ending in `-` that every name shares (`op-lambda-staging-`), or ''. */
function commonDashPrefix(names: readonly string[]): string {
  if (names.length < 2) return '';
  let prefix = names[0]!;
  for (const name of names.slice(1)) {
    while (!name.startsWith(prefix)) prefix = prefix.slice(0, -1);
  }
  return prefix.slice(0, prefix.lastIndexOf('-') + 1);
}
