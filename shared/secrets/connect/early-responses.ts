/**
 * Answers to requests sent before the function's code was loaded (./early-start.ts), waiting for
 * the transport and the token source to take them.
 *
 * The early start runs in its own bundle (`start.mjs`), the function in another (`index.js`): each
 * has its own copy of this module, so the answers live on `globalThis` under a registered symbol.
 * Every answer is taken at most once, and only by a request for the same method and URL with the
 * same token; an early request that failed is never served (the caller sends its own).
 */

/** What Connect answered, before any parsing: the transport parses it as it parses its own. */
export interface RawResponse {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly text: string;
}

interface PendingResponse {
  /** The token the request carried. */
  readonly token: Promise<string>;
  readonly response: Promise<RawResponse>;
}

export interface EarlyStart {
  /** Epoch ms when the first early request left. */
  readonly startedAt: number;
  /** `<METHOD> <url>` -> the answer in flight. */
  readonly responses: Map<string, PendingResponse>;
  /** The Connect token secret's value as Secrets Manager returned it, by secret id. */
  readonly tokenReads: Map<string, Promise<string>>;
}

const REGISTRY = Symbol.for('op-lambda.early-start');

type WithRegistry = typeof globalThis & { [REGISTRY]?: EarlyStart };

/** Publishes the early start for the function's code to find. */
export function publishEarlyStart(earlyStart: EarlyStart): void {
  (globalThis as WithRegistry)[REGISTRY] = earlyStart;
}

/** The early start of this process, if one ran. */
export function earlyStart(): EarlyStart | undefined {
  return (globalThis as WithRegistry)[REGISTRY];
}

/** Forgets every answer not taken yet (tests; nothing should hold values longer than needed). */
export function clearEarlyStart(): void {
  Reflect.deleteProperty(globalThis, REGISTRY);
}

export function earlyRequestKey(method: string, url: string): string {
  return `${method.toUpperCase()} ${url}`;
}

/**
 * The early answer to `method url` sent with `token`, taken out of the registry: undefined when
 * there is none, when it was sent with another token, or when the early request failed.
 */
export async function takeEarlyResponse(method: string, url: string, token: string): Promise<(RawResponse & { startedAt: number }) | undefined> {
  const early = earlyStart();
  const responses = early?.responses;
  const key = earlyRequestKey(method, url);
  const pending = responses?.get(key);
  if (!pending) return undefined;
  responses!.delete(key);
  try {
    return (await pending.token) === token ? { ...(await pending.response), startedAt: early!.startedAt } : undefined;
  } catch {
    return undefined;
  }
}

/** The early read of the token secret `secretId`, taken out of the registry. */
export function takeEarlyTokenRead(secretId: string): Promise<string> | undefined {
  const reads = earlyStart()?.tokenReads;
  const read = reads?.get(secretId);
  reads?.delete(secretId);
  return read;
}
