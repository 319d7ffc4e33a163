/**
 * A local Secrets Manager endpoint: a real HTTP server speaking the service's JSON 1.1 protocol for
 * `GetSecretValue`, so a function's own AWS SDK client talks to it exactly as it would to AWS
 * (with AWS_ENDPOINT_URL_SECRETS_MANAGER pointing here and dummy credentials). It holds at most
 * one secret; without one it answers ResourceNotFoundException, as AWS does for a deleted or
 * never-created secret. It can stop and start again on the same port, to play an outage.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalSecretsManager {
  /** `http://127.0.0.1:<port>`: stays the same across stop/start. */
  readonly url: string;
  /** GetSecretValue calls answered so far (found or not). */
  readonly calls: number;
  /** The SecretString to serve; undefined answers ResourceNotFoundException. */
  setSecret(value: string | undefined): void;
  /** Stops listening: connections are refused until `start()`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';

export async function startSecretsManager(options: { secret?: string } = {}): Promise<LocalSecretsManager> {
  let secret = options.secret;
  let calls = 0;
  let server: Server | undefined;
  let port = 0;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
        answer(res, 400, { __type: 'UnknownOperationException', message: `unsupported operation ${String(target)}` });
        return;
      }
      calls += 1;
      const secretId = secretIdOf(Buffer.concat(chunks).toString('utf8'));
      if (secret === undefined) {
        answer(res, 400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
        return;
      }
      answer(res, 200, {
        ARN: secretId.startsWith('arn:') ? secretId : `arn:aws:secretsmanager:us-east-1:000000000000:secret:${secretId}-AbCdEf`,
        Name: secretId,
        VersionId: '00000000-0000-4000-8000-000000000001',
        SecretString: secret,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_700_000_000,
      });
    });
  };

  const start = async (): Promise<void> => {
    const next = createServer(handle);
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
    get calls() {
      return calls;
    },
    setSecret: (value) => {
      secret = value;
    },
    stop,
    start,
    close: stop,
  };
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
