/**
 * op-lambda as before its own signed GetSecretValue: the Connect token read from Secrets Manager
 * with the AWS SDK client (the `source` option, with the token source given the SDK reader).
 */
import middy from '@middy/core';
import { ConnectSource } from '../../shared/secrets/connect/connect-source';
import { connectLocation } from '../../shared/secrets/connect/server-url';
import { opSecrets, type SecretsContext } from '../../shared/secrets/middleware';
import { connectTokenSource } from '../../shared/secrets/connect/token-source';
import { seen } from './catalog';
import { readWithSdk } from './sdk-secret-reader';

const names = Object.keys(process.env).filter((name) => process.env[name]?.startsWith('op://')).sort();
const tokens = connectTokenSource({ readSecret: readWithSdk });
const source = new ConnectSource({ ...connectLocation(process.env), token: tokens });

export const handler = middy<unknown, unknown, Error, SecretsContext>()
  .use(opSecrets({ source }))
  .handler(async (_event, context) => seen(names.map((name) => context.secrets[name])));
