/**
 * Secrets Manager `GetSecretValue` without the AWS SDK client: one SigV4-signed POST of the JSON 1.1
 * protocol over `node:http(s)`, signed by the SDK's own signer (`@smithy/signature-v4`, SHA-256 from
 * node:crypto). Evaluating `@aws-sdk/client-secrets-manager` costs some 30 ms of every cold start
 * that reads the Connect token; this module and its signer cost a fraction of that.
 *
 * Credentials and region come from the environment, as Lambda provides them (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION); the endpoint from
 * AWS_ENDPOINT_URL_SECRETS_MANAGER or AWS_ENDPOINT_URL when set, as the SDK honours them.
 *
 * Failures keep the SDK's shapes, so code that classifies SDK errors classifies these alike: a
 * service error is a `SecretsManagerServiceError` named after the service's error type, with
 * `$fault` and `$metadata.httpStatusCode`; a socket failure is Node's own error (`code`
 * ECONNREFUSED, ECONNRESET…); the caller's abort is an `AbortError`. No error holds a header.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Sha256 } from '@smithy/core/checksum';
// The ES build: it tree-shakes to a seventh of the CommonJS build (see shared/types/smithy-signature-v4.d.ts).
import { SignatureV4 } from '@smithy/signature-v4/dist-es/index.js';
import { RUNTIME_ENV, type Environment } from '../environment';

export interface GetSecretValueOptions {
  /** @default process.env */
  readonly env?: Environment;
  /** Aborts the request (a timeout, say): the call rejects with an `AbortError`. */
  readonly signal?: AbortSignal;
  /** Called once the request has been handed to the operating system (the early start waits for it). */
  readonly onSent?: () => void;
}

/** What the service answered instead of the secret; `name` is its error type (ResourceNotFoundException…). */
export class SecretsManagerServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { readonly httpStatusCode: number };

  constructor(name: string, status: number, message: string) {
    super(message);
    this.name = name;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status };
  }
}

const SERVICE = 'secretsmanager';
const TARGET = 'secretsmanager.GetSecretValue';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** A secret holds at most 64 KiB; anything far larger is not a GetSecretValue answer. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** The secret's current value: SecretString, else SecretBinary decoded as UTF-8, else ''. */
export async function getSecretValue(secretId: string, options: GetSecretValueOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const region = env[RUNTIME_ENV.AWS_REGION] ?? env['AWS_DEFAULT_REGION'];
  if (!region) throw new SecretsManagerServiceError('ConfigurationError', 400, 'no region: set AWS_REGION');
  const endpoint = new URL(endpointFor(region, env));
  const body = JSON.stringify({ SecretId: secretId });
  const signed = await signerFor(region, env).sign({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
    path: endpoint.pathname,
    query: {},
    headers: {
      host: endpoint.host,
      'content-type': CONTENT_TYPE,
      'x-amz-target': TARGET,
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
  });
  const response = await post(endpoint, signed.headers, body, options);
  return secretFrom(response);
}

/** The endpoint the SDK would call: AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL, else the regional one. */
export function endpointFor(region: string, env: Environment): string {
  const configured = env[RUNTIME_ENV.AWS_ENDPOINT_URL_SECRETS_MANAGER] ?? env['AWS_ENDPOINT_URL'];
  if (configured) return configured;
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://${SERVICE}.${region}.${domain}`;
}

function signerFor(region: string, env: Environment): SignatureV4 {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (!accessKeyId || !secretAccessKey) {
    throw new SecretsManagerServiceError('CredentialsProviderError', 400, 'no credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set');
  }
  const sessionToken = env['AWS_SESSION_TOKEN'];
  return new SignatureV4({
    service: SERVICE,
    region,
    sha256: Sha256,
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
  });
}

interface RawResponse {
  status: number;
  errorType: string | undefined;
  text: string;
}

function post(endpoint: URL, headers: Record<string, string>, body: string, { signal, onSent }: GetSecretValueOptions): Promise<RawResponse> {
  // node:https (and tls under it) loads only for an https endpoint: tens of ms a local one never needs.
  const send = endpoint.protocol === 'http:' ? httpRequest : process.getBuiltinModule('node:https').request;
  return new Promise((resolve, reject) => {
    const outgoing = send(endpoint, { method: 'POST', headers, ...(signal ? { signal } : {}) }, (response) => {
      readBody(response).then(
        (text) => resolve({ status: response.statusCode ?? 0, errorType: header(response, 'x-amzn-errortype'), text }),
        reject,
      );
    });
    outgoing.once('error', reject);
    if (onSent) outgoing.once('finish', onSent);
    outgoing.end(body);
  });
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    response.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_RESPONSE_BYTES) {
        response.destroy();
        reject(new SecretsManagerServiceError('InvalidResponse', 502, 'the answer is larger than any secret'));
        return;
      }
      chunks.push(chunk);
    });
    response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.once('error', reject);
  });
}

function header(response: IncomingMessage, name: string): string | undefined {
  const value = response.headers[name];
  return typeof value === 'string' ? value : undefined;
}

interface WireAnswer {
  SecretString?: unknown;
  SecretBinary?: unknown;
  __type?: unknown;
  message?: unknown;
  Message?: unknown;
}

/**
 * The value in a 200, or the service error in anything else. An unreadable 200 is a server fault
 * (a truncated or proxied answer): trying again may well succeed.
 */
function secretFrom(response: RawResponse): string {
  const answer = parseAnswer(response.text);
  if (response.status === 200) {
    if (!answer) throw new SecretsManagerServiceError('InvalidResponse', 502, 'GetSecretValue answered with a body that is not JSON');
    if (typeof answer.SecretString === 'string') return answer.SecretString;
    if (typeof answer.SecretBinary === 'string') return Buffer.from(answer.SecretBinary, 'base64').toString('utf8');
    return '';
  }
  const type = errorTypeOf(response.errorType ?? (typeof answer?.__type === 'string' ? answer.__type : undefined));
  const message = answer?.message ?? answer?.Message;
  const text = typeof message === 'string' ? message : `GetSecretValue answered ${response.status}`;
  throw new SecretsManagerServiceError(type ?? `HTTP${response.status}`, response.status, text);
}

function parseAnswer(text: string): WireAnswer | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as WireAnswer) : undefined;
  } catch {
    return undefined;
  }
}

/** `com.amazonaws.secretsmanager#ThrottlingException:http://…` -> `ThrottlingException`. */
function errorTypeOf(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const withoutNamespace = raw.slice(raw.lastIndexOf('#') + 1);
  const colon = withoutNamespace.indexOf(':');
  return (colon < 0 ? withoutNamespace : withoutNamespace.slice(0, colon)) || undefined;
}
