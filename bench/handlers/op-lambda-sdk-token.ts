/**
 * op-lambda as before its own signed GetSecretValue: the Connect token read from Secrets Manager
 * with the AWS SDK client (the `resolver` option, with the token source given the SDK reader).
 */
import middy from '@middy/core';
import { ConnectResolver } from '../../shared/secrets/connect';
import { opSecrets, type SecretsContext } from '../../shared/secrets/middleware';
import { connectTokenSource } from '../../shared/secrets/token';
import { seen } from './catalog';
import { readWithSdk } from './sdk-secret-reader';

const names = Object.keys(process.env).filter((name) => process.env[name]?.startsWith('op://')).sort();
const tokens = connectTokenSource({ readSecret: readWithSdk });
const resolver = ConnectResolver.fromEnv(process.env, () => tokens.get());

export const handler = middy<unknown, unknown, Error, SecretsContext>()
  .use(opSecrets({ resolver }))
  .handler(async (_event, context) => seen(names.map((name) => context.secrets[name])));
