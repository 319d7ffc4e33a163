/**
 * A cold start's first round trip, sent before the function's code is loaded.
 *
 * Evaluating a function's bundle (Powertools, the Connect SDK, the handler) takes tens of
 * milliseconds of INIT, and a request sent from inside that evaluation does not leave before it
 * ends: Node connects a socket on a later turn of the event loop. So `start.mjs`, the module
 * Lambda loads first in a SecretsFunction (shared/start.ts), calls startEarlyRequests, awaits
 * `sent` (the requests are on the wire) and only then loads the bundle: 1Password answers while
 * the bundle is evaluated.
 *
 * From the environment alone: the token (OP_CONNECT_TOKEN, or the Secrets Manager read of
 * OP_CONNECT_TOKEN_SECRET_ARN), then the first request of each reference's chain, as the resolver
 * would send it: the item GET of a reference by id, the item list of an ID-shaped vault, the vault
 * list for a vault by name. The answers wait in ./early-responses.ts; the transport takes each one
 * once. Nothing here throws or logs: whatever fails, the resolver asks again as it always did.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import type { Environment } from '../environment';
import { isReference, looksLikeId, tryParseReference, type SecretReference } from '../reference';
import { earlyRequestKey, publishEarlyStart, type EarlyStart, type RawResponse } from './early-responses';
import { connectLocation, connectServerUrl } from './server-url';
import { TOKEN_ENV, TOKEN_SECRET_ARN_ENV, tokenFrom } from './token-source';
import { MAX_RESPONSE_BYTES } from './transport';

export interface EarlyRequests {
  /** Settles once every request that could leave has been handed to the OS, or after `SEND_WAIT_MS`. */
  readonly sent: Promise<void>;
}

/** The longest INIT waits for the requests to leave: a Connect host that does not accept connections costs no more. */
export const SEND_WAIT_MS = 50;
/** An early request gives up after this; the resolver's own request takes over. */
const REQUEST_TIMEOUT_MS = 5_000;
/** Answers nobody took (secrets declared in code only, `fromEnv: false`) are dropped after this. */
const UNCLAIMED_TTL_MS = 60_000;

const NOTHING_TO_SEND: EarlyRequests = { sent: Promise.resolve() };

export function startEarlyRequests(env: Environment = process.env): EarlyRequests {
  const serverUrl = connectServerUrlOf(env);
  const paths = firstRequestPaths(env);
  if (serverUrl === undefined || paths.length === 0) return NOTHING_TO_SEND;
  const early: EarlyStart = { startedAt: Date.now(), responses: new Map(), tokenReads: new Map() };
  // What INIT waits for: the Connect requests when the token is at hand, else the token's read.
  const onTheWire: Promise<void>[] = [];
  const token = tokenOf(env, early, onTheWire);
  if (token === undefined) return NOTHING_TO_SEND;
  const tokenGiven = Boolean(env[TOKEN_ENV]);
  for (const path of paths) {
    const url = new URL(path, serverUrl);
    const left = signal();
    if (tokenGiven) onTheWire.push(left.settled);
    const response = token.then((value) => get(url, value, left.settle));
    // Settled here too, so that an answer nobody takes is no unhandled rejection.
    response.then(left.settle, left.settle);
    early.responses.set(earlyRequestKey('GET', url.href), { token, response });
  }
  publishEarlyStart(early);
  setTimeout(() => {
    early.responses.clear();
    early.tokenReads.clear();
  }, UNCLAIMED_TTL_MS).unref();
  return { sent: withinSendWait(onTheWire) };
}

/** A one-shot signal: `settled` resolves on the first `settle()`. */
function signal(): { settled: Promise<void>; settle: () => void } {
  let settle = (): void => undefined;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  return { settled, settle };
}

function connectServerUrlOf(env: Environment): string | undefined {
  const { host, allowHttp } = connectLocation(env);
  try {
    return connectServerUrl(host, allowHttp);
  } catch {
    return undefined; // The resolver reports a bad host, with its own words.
  }
}

/** The first request of each declared reference's chain, once each (paths relative to the server URL). */
function firstRequestPaths(env: Environment): string[] {
  const references = Object.values(env)
    .filter(isReference)
    .map((value) => tryParseReference(value))
    .flatMap((parsed) => (parsed.ok ? [parsed.reference] : []));
  return [...new Set(references.map(firstRequestPath))];
}

/** As the resolver locates a reference: ID-shaped segments are ids, other names go through the lists. */
function firstRequestPath({ vault, item }: SecretReference): string {
  if (!looksLikeId(vault)) return 'v1/vaults/';
  const vaultPath = `v1/vaults/${encodeURIComponent(vault)}/items`;
  return looksLikeId(item) ? `${vaultPath}/${encodeURIComponent(item)}` : vaultPath;
}

/** The Connect token: given, or read from Secrets Manager now (that read is kept for the token source). */
function tokenOf(env: Environment, early: EarlyStart, onTheWire: Promise<void>[]): Promise<string> | undefined {
  const given = env[TOKEN_ENV];
  if (given) return Promise.resolve(given);
  const secretId = env[TOKEN_SECRET_ARN_ENV];
  if (!secretId) return undefined;
  const left = signal();
  onTheWire.push(left.settled);
  const read = import('./secrets-manager-reader').then(({ getSecretValue }) =>
    getSecretValue(secretId, { env, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), onSent: left.settle }),
  );
  read.then(left.settle, left.settle);
  early.tokenReads.set(secretId, read);
  const token = read.then(tokenFrom);
  token.catch(() => undefined);
  return token;
}

function get(url: URL, token: string, onSent: () => void): Promise<RawResponse> {
  const send = url.protocol === 'https:' ? process.getBuiltinModule('node:https').request : httpRequest;
  const options: RequestOptions = {
    method: 'GET',
    // A connection of its own, closed after the answer: the resolver keeps its own pool.
    agent: false,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    headers: {
      accept: 'application/json',
      'accept-encoding': 'identity',
      'user-agent': 'op-lambda',
      authorization: `Bearer ${token}`,
    },
  };
  return new Promise((resolve, reject) => {
    const request = send(url, options, (response) => readAnswer(response).then(resolve, reject));
    request.once('finish', onSent);
    request.on('error', reject);
    request.end();
  });
}

function readAnswer(response: IncomingMessage): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Too large to keep: the resolver's own request reports it.
      if (size > MAX_RESPONSE_BYTES) response.destroy(new Error('answer too large'));
      else chunks.push(chunk);
    });
    response.once('end', () => {
      const retryAfter = response.headers['retry-after'];
      resolve({ status: response.statusCode ?? 0, retryAfter: typeof retryAfter === 'string' ? retryAfter : null, text: Buffer.concat(chunks, size).toString('utf8') });
    });
    response.on('error', reject);
    response.once('close', () => {
      if (!response.complete) reject(new Error('the connection closed before the answer ended'));
    });
  });
}

/** Every request handed to the OS, or SEND_WAIT_MS passed. */
async function withinSendWait(onTheWire: Promise<void>[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<void>((resolve) => (timer = setTimeout(resolve, SEND_WAIT_MS)));
  await Promise.race([Promise.all(onTheWire), cap]);
  clearTimeout(timer);
}
