/**
 * Stands in for the AWS Parameters and Secrets Lambda Extension: an HTTP endpoint on loopback that
 * answers `GET /secretsmanager/get?secretId=…` for a caller presenting the session token, from its
 * cache or, on a miss (every cold start: the extension starts with the container), by calling
 * Secrets Manager itself. The extension's own process start runs beside INIT and is not counted.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getSecretValue } from '../shared/secrets/connect/secrets-manager-reader';

export interface ExtensionStandIn {
  port: number;
  /** Empties the cache, as a fresh container's extension starts. */
  reset(): void;
  close(): Promise<void>;
}

export async function startExtensionStandIn(env: Record<string, string>): Promise<ExtensionStandIn> {
  const cache = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const secretId = url.searchParams.get('secretId') ?? '';
    if (url.pathname !== '/secretsmanager/get' || req.headers['x-aws-parameters-secrets-token'] !== env['AWS_SESSION_TOKEN']) {
      res.writeHead(400).end();
      return;
    }
    const cached = cache.get(secretId);
    const value = cached === undefined ? getSecretValue(secretId, { env }) : Promise.resolve(cached);
    value.then(
      (secret) => {
        cache.set(secretId, secret);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Name: secretId, SecretString: secret }));
      },
      () => res.writeHead(502).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    reset: () => cache.clear(),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
