/**
 * A local Secrets Manager: a real HTTP server speaking the service's JSON 1.1 protocol for
 * `GetSecretValue` (`X-Amz-Target: secretsmanager.GetSecretValue`), for the emulation, tests and
 * benchmarks. Point a function at it with AWS_ENDPOINT_URL_SECRETS_MANAGER (the AWS SDK and
 * op-lambda's own reader both honour it).
 *
 * Given credentials, it checks every request's SigV4 signature by signing the request it received
 * again with the SDK's own signer, and refuses a mismatch as AWS does (InvalidSignatureException).
 * It can add latency to every request, answer with a service error or a reset connection, and stop
 * and start again on the same port to play an outage.
 *
 * As AWS does, it finds a secret by the id it was stored under, or, for one stored by name, by an
 * ARN naming it: partial (`…:secret:<name>`, what CDK's `fromSecretNameV2` gives a function) or
 * complete (`…:secret:<name>-AbCdEf`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';

export interface StandInCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A service error to answer with (`type` is the `__type`), or a connection reset. */
export type SecretsManagerFault = { status: number; type: string; message?: string } | 'reset';

export type SecretValue = string | Uint8Array;

export interface SecretsManagerStandInOptions {
  /** Secret id (name or ARN) -> SecretString, or SecretBinary for bytes. */
  secrets?: Readonly<Record<string, SecretValue>>;
  /** Verify each request's signature against these. @default - signatures not checked */
  credentials?: StandInCredentials;
  /** Added before each answer. @default 0 */
  latencyMs?: number;
}

export interface ReceivedCall {
  secretId: string;
  /** Whether the signature checked out; undefined when no credentials were given to check against. */
  signatureValid?: boolean;
  /** The Authorization header as received (for tests proving it never leaks). */
  authorization: string;
}

export interface SecretsManagerStandIn {
  /** `http://127.0.0.1:<port>`: stays the same across stop/start. */
  readonly url: string;
  readonly calls: readonly ReceivedCall[];
  setSecret(secretId: string, value: SecretValue | undefined): void;
  setLatency(ms: number): void;
  /** Every following request gets this answer, until `setFault(undefined)`. */
  setFault(fault: SecretsManagerFault | undefined): void;
  resetCalls(): void;
  /** Stops listening: connections are refused until `start()`. */
  stop(): Promise<void>;
  /** Listens again on the same port (nothing to do while listening). */
  start(): Promise<void>;
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET = 'secretsmanager.GetSecretValue';

export async function startSecretsManagerStandIn(options: SecretsManagerStandInOptions = {}): Promise<SecretsManagerStandIn> {
  const secrets = new Map(Object.entries(options.secrets ?? {}));
  const calls: ReceivedCall[] = [];
  let latencyMs = options.latencyMs ?? 0;
  let fault: SecretsManagerFault | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    // Unreferenced: a request still waiting must not keep a closed stand-in's process alive.
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs).unref());
    if (req.method !== 'POST' || req.headers['x-amz-target'] !== TARGET) {
      return answer(res, 400, { __type: 'UnknownOperationException', message: `unsupported operation ${String(req.headers['x-amz-target'])}` });
    }
    const secretId = secretIdOf(body);
    const signatureValid = options.credentials ? await signatureMatches(req, body, options.credentials) : undefined;
    calls.push({ secretId, authorization: req.headers.authorization ?? '', ...(signatureValid === undefined ? {} : { signatureValid }) });
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault) return answer(res, fault.status, { __type: fault.type, message: fault.message ?? fault.type });
    if (signatureValid === false) {
      return answer(res, 400, { __type: 'InvalidSignatureException', message: 'The request signature we calculated does not match the signature you provided.' });
    }
    const value = findSecret(secrets, secretId);
    if (value === undefined) return answer(res, 400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
    answer(res, 200, {
      ARN: secretId.startsWith('arn:') ? secretId : `arn:aws:secretsmanager:us-east-1:000000000000:secret:${secretId}-AbCdEf`,
      Name: secretId,
      VersionId: '00000000-0000-4000-8000-000000000001',
      ...(typeof value === 'string' ? { SecretString: value } : { SecretBinary: Buffer.from(value).toString('base64') }),
      VersionStages: ['AWSCURRENT'],
      CreatedDate: 1_700_000_000,
    });
  };

  let server: Server | undefined;
  let port = 0;
  const start = async (): Promise<void> => {
    if (server) return;
    const next = createServer((req, res) => {
      handle(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => resolve());
    });
    server = next;
    port = (next.address() as AddressInfo).port;
  };
  const stop = async (): Promise<void> => {
    const current = server;
    server = undefined;
    if (!current) return;
    const closed = new Promise<void>((resolve) => current.close(() => resolve()));
    current.closeAllConnections();
    await closed;
  };

  await start();
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    setSecret: (secretId, value) => {
      if (value === undefined) secrets.delete(secretId);
      else secrets.set(secretId, value);
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    setFault: (next) => {
      fault = next;
    },
    resetCalls: () => {
      calls.length = 0;
    },
    stop,
    start,
    close: stop,
  };
}

const SECRET_ARN = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)$/;
/** The suffix Secrets Manager appends to a secret's name in its complete ARN. */
const ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;

/** The secret stored under `secretId`, or stored by the name an ARN `secretId` names. */
function findSecret(secrets: ReadonlyMap<string, SecretValue>, secretId: string): SecretValue | undefined {
  const stored = secrets.get(secretId);
  if (stored !== undefined) return stored;
  const name = SECRET_ARN.exec(secretId)?.[1];
  if (name === undefined) return undefined;
  return secrets.get(name) ?? secrets.get(name.replace(ARN_SUFFIX, ''));
}

/** Signs the received request again, over the headers it says it signed, at the time it says it signed. */
async function signatureMatches(req: IncomingMessage, body: string, credentials: StandInCredentials): Promise<boolean> {
  const parsed = parseAuthorization(req.headers.authorization);
  const amzDate = req.headers['x-amz-date'];
  if (!parsed || typeof amzDate !== 'string') return false;
  const headers: Record<string, string> = {};
  for (const name of parsed.signedHeaders) {
    const value = req.headers[name];
    if (typeof value !== 'string') return false;
    headers[name] = value;
  }
  const signer = new SignatureV4({ service: parsed.service, region: parsed.region, sha256: Sha256, credentials });
  const url = new URL(req.url ?? '/', 'http://stand-in');
  const signed = await signer.sign(
    { method: req.method ?? 'POST', protocol: 'http:', hostname: headers['host'] ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body },
    { signingDate: parseAmzDate(amzDate) },
  );
  const expected = parseAuthorization(signed.headers['authorization']);
  return expected?.signature === parsed.signature && parsed.accessKeyId === credentials.accessKeyId;
}

interface ParsedAuthorization {
  accessKeyId: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  const match = header ? AUTHORIZATION.exec(header) : null;
  if (!match) return undefined;
  const [, accessKeyId, region, service, signedHeaders, signature] = match as unknown as [string, string, string, string, string, string];
  return { accessKeyId, region, service, signedHeaders: signedHeaders.split(';'), signature };
}

/** `20240101T120000Z` -> Date. */
function parseAmzDate(value: string): Date {
  const iso = value.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
  return new Date(iso);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

function answer(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const headers: Record<string, string> = { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': '00000000-0000-4000-8000-000000000000' };
  if (status !== 200) headers['x-amzn-errortype'] = String(body['__type']);
  res.writeHead(status, headers);
  res.end(JSON.stringify(body));
}

function secretIdOf(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    const id = typeof parsed === 'object' && parsed !== null ? (parsed as { SecretId?: unknown }).SecretId : undefined;
    return typeof id === 'string' ? id : '';
  } catch {
    return '';
  }
}
