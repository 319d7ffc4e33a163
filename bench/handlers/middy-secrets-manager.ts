/**
 * @middy/secrets-manager (v6) holding the compared secrets, set on the context: the ecosystem's
 * way of doing what opSecrets does, for AWS Secrets Manager.
 */
import middy from '@middy/core';
import secretsManager from '@middy/secrets-manager';
import { comparedSecretIds, comparedSecretNames, seen } from './catalog';

const names = comparedSecretNames();
const ids = comparedSecretIds();
const fetchData = Object.fromEntries(names.map((name, index) => [name, ids[index]!]));

export const handler = middy(async (_event: unknown, context: object) => {
  const record = context as Record<string, unknown>;
  return seen(names.map((name) => record[name]));
}).use(secretsManager({ fetchData, setToContext: true, awsClientOptions: { region: process.env['AWS_REGION'] ?? 'us-east-1' } }));
