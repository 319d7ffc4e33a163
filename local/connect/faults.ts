// Fault injection: which requests misbehave, how, and how many times.
import { methodMatches, pathMatches } from './paths';

export type FaultSpec =
  | { kind: 'status'; status: number; body?: 'json' | 'text' | 'empty'; retryAfter?: string }
  /** Destroy the socket without a response. */
  | { kind: 'reset' }
  /** Send the headers and part of the real body, then destroy the socket. */
  | { kind: 'reset-mid-body' }
  /** Never answer (until the server closes). */
  | { kind: 'hang' }
  /** 200 with a body that is not valid JSON. */
  | { kind: 'malformed' }
  /** Delay, then answer normally. */
  | { kind: 'latency'; latencyMs: number }
  /**
   * The real answer, its JSON body rewritten by `edit` (status and headers kept), as a compromised
   * server could serve it: an id `..`, a field value that is a number.
   */
  | { kind: 'tamper'; edit: (body: unknown) => unknown }
  /**
   * 200 with a JSON body of `bytes` bytes, streamed as the client reads it (so the server never
   * holds it); its length declared in Content-Length only with `declareLength`.
   */
  | { kind: 'oversized'; bytes: number; declareLength?: boolean }
  /** A redirect to `location`, with no body. */
  | { kind: 'redirect'; status: 301 | 302 | 303 | 307 | 308; location: string };

export interface Fault {
  method?: string;
  /** Matched against the path without query and trailing slash, e.g. /^\/v1\/vaults\/[^/]+\/items\/[^/]+$/. */
  path?: string | RegExp;
  /** How many matching requests get the fault; default: every one until cleared. */
  times?: number;
  spec: FaultSpec;
}

/** An oversized body is at least its JSON frame: `{"pad":""}`. */
export const OVERSIZED_MIN_BYTES = 10;

interface ArmedFault {
  fault: Fault;
  remaining: number;
}

function checkSpec(spec: FaultSpec): void {
  if (spec.kind === 'status' && (!Number.isInteger(spec.status) || spec.status < 100 || spec.status > 599)) {
    throw new RangeError('a status fault needs an HTTP status from 100 to 599');
  }
  if (spec.kind === 'latency' && !(spec.latencyMs >= 0)) throw new RangeError('a latency fault needs latencyMs >= 0');
  if (spec.kind === 'oversized' && !(Number.isSafeInteger(spec.bytes) && spec.bytes >= OVERSIZED_MIN_BYTES)) {
    throw new RangeError(`an oversized fault needs a whole number of bytes >= ${OVERSIZED_MIN_BYTES}`);
  }
}

export class FaultBook {
  private armed: ArmedFault[] = [];

  add(fault: Fault): void {
    checkSpec(fault.spec);
    if (fault.times !== undefined && !(Number.isInteger(fault.times) && fault.times > 0)) {
      throw new RangeError('fault.times must be a positive integer');
    }
    this.armed.push({ fault, remaining: fault.times ?? Infinity });
  }

  clear(): void {
    this.armed = [];
  }

  /** The first fault (in order added) matching the request, used up by one. */
  take(method: string, path: string): FaultSpec | undefined {
    const hit = this.armed.find(({ fault }) => methodMatches(fault.method, method) && pathMatches(fault.path, path));
    if (!hit) return undefined;
    hit.remaining -= 1;
    if (hit.remaining <= 0) this.armed = this.armed.filter((armed) => armed !== hit);
    return hit.fault.spec;
  }
}
