/**
 * op-lambda with its Connect source's concurrency lowered from 32 to 8 requests in flight: a
 * configuration any function may choose (`source` option), measured to show what a narrower
 * cap costs when a function reads many items at once.
 */
import middy from '@middy/core';
import { ConnectSource } from '../../shared/secrets/connect/connect-source';
import { opSecrets, type SecretsContext } from '../../shared/secrets/middleware';
import { seen } from './catalog';

const CONCURRENCY = 8;
const names = Object.keys(process.env).filter((name) => process.env[name]?.startsWith('op://')).sort();
const source = new ConnectSource({
  host: process.env['OP_CONNECT_HOST'] ?? '',
  token: process.env['OP_CONNECT_TOKEN'] ?? '',
  concurrency: CONCURRENCY,
});

export const handler = middy<unknown, unknown, Error, SecretsContext>()
  .use(opSecrets({ source }))
  .handler(async (_event, context) => seen(names.map((name) => context.secrets[name])));
