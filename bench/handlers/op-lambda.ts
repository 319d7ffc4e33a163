/**
 * op-lambda as a function uses it: Middy plus `opSecrets()`, secrets declared by environment
 * (every variable holding an `op://` reference), values read from `context.secrets`.
 */
import middy from '@middy/core';
import { opSecrets, type SecretsContext } from '../../shared/secrets/middleware';
import { seen } from './catalog';

const names = Object.keys(process.env).filter((name) => process.env[name]?.startsWith('op://')).sort();

export const handler = middy<unknown, unknown, Error, SecretsContext>()
  .use(opSecrets())
  .handler(async (_event, context) => seen(names.map((name) => context.secrets[name])));
