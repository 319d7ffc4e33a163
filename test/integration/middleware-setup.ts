/**
 * Shared setup of the middleware integration tests: a seed of canary secrets for the local Connect
 * server, and a middy handler built exactly as a function would build it.
 */
import { createHash } from 'node:crypto';
import middy from '@middy/core';
import type { ConnectSeed } from '../../local/connect/server';
import { opSecrets, type OpSecretsOptions, type SecretsContext } from '../../shared/secrets/middleware';
import type { SecretDeclarations } from '../../shared/secrets/store/declarations';

export const PROD_VAULT_ID = 'prodvault0canary0000000001';
export const STAGING_VAULT_ID = 'stagingvault0canary0000001';

/** Every value here is a canary: none may ever appear in a log line, a metric, an error or a response. */
export const CANARY = {
  stripeCurrent: 'canary-value-stripe-current-9f3a61',
  stripePrevious: 'canary-value-stripe-previous-2b7c44',
  github: 'canary-value-github-webhook-5e1d08',
  payments: 'canary-value-payments-api-7a9c32',
  database: 'postgres://app:canary-value-db-password-4d2e19@db.internal:5432/app',
  staging: 'canary-value-staging-only-8c6b57',
  readToken: 'canary-token-reader-0e8f7d6c5b4a39281706',
  stagingToken: 'canary-token-staging-only-1f2e3d4c5b6a79',
  rotated: 'canary-value-stripe-rotated-6d5c4b',
} as const;

export const CANARY_SEED: ConnectSeed = {
  tokens: [
    { name: 'reader', token: CANARY.readToken, vaults: ['*'] },
    { name: 'staging-only', token: CANARY.stagingToken, vaults: ['canary-staging'] },
  ],
  vaults: [
    {
      id: PROD_VAULT_ID,
      name: 'canary-prod',
      items: [
        {
          title: 'webhook-stripe',
          category: 'API_CREDENTIAL',
          fields: [
            { label: 'current', type: 'CONCEALED', value: CANARY.stripeCurrent },
            { label: 'previous', type: 'CONCEALED', value: CANARY.stripePrevious },
          ],
        },
        { title: 'webhook-github', category: 'PASSWORD', fields: [{ label: 'current', type: 'CONCEALED', value: CANARY.github }] },
        { title: 'payments-api', category: 'API_CREDENTIAL', fields: [{ label: 'credential', type: 'CONCEALED', value: CANARY.payments }] },
        {
          title: 'database',
          category: 'DATABASE',
          sections: [{ label: 'connection' }],
          fields: [{ label: 'url', type: 'CONCEALED', section: 'connection', value: CANARY.database }],
        },
      ],
    },
    {
      id: STAGING_VAULT_ID,
      name: 'canary-staging',
      items: [{ title: 'webhook-stripe', category: 'API_CREDENTIAL', fields: [{ label: 'current', type: 'CONCEALED', value: CANARY.staging }] }],
    },
  ],
};

/** Four secrets in three items of one vault, as a function's environment would declare them. */
export const PROD_REFERENCES = {
  STRIPE_WEBHOOK_SECRET: 'op://canary-prod/webhook-stripe/current',
  STRIPE_WEBHOOK_PREVIOUS: 'op://canary-prod/webhook-stripe/previous',
  GITHUB_WEBHOOK_SECRET: 'op://canary-prod/webhook-github/current',
  DATABASE_URL: 'op://canary-prod/database/connection/url',
} as const;

/** Item GETs, the requests that count against 1Password's limits. */
export const ITEM_GET = /^\/v1\/vaults\/[^/]+\/items\/[^/]+$/;

/** The Lambda environment of a function using the local Connect server. */
export function functionEnv(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return { OP_CONNECT_HOST: url, OP_CONNECT_TOKEN: CANARY.readToken, ...PROD_REFERENCES, ...extra };
}

export type SecretsHandler = (event: unknown, context: SecretsContext) => Promise<unknown>;

/** A short digest standing for a value in responses: tests compare digests, and no value leaves. */
export function digest(value: string | undefined): string | null {
  return value === undefined ? null : createHash('sha256').update(value).digest('hex').slice(0, 16);
}

/** A middy handler using opSecrets, answering 200 with the digest of each secret it reads. */
export function secretsHandler<const S extends SecretDeclarations>(options: OpSecretsOptions<S>, read: readonly string[] = ['STRIPE_WEBHOOK_SECRET']) {
  const secrets = opSecrets(options);
  const handler = middy<unknown, unknown, Error, SecretsContext>()
    .use(secrets)
    .handler(async (_event, context) => ({
      statusCode: 200,
      body: JSON.stringify(Object.fromEntries(read.map((name) => [name, digest(context.secrets[name])]))),
    }));
  return { secrets, handler: handler as unknown as SecretsHandler };
}

export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}
