/**
 * Reads a secret with the AWS SDK's Secrets Manager client: how op-lambda read its Connect token
 * before its own signed GetSecretValue, kept to measure what the SDK costs. A static import, so
 * that a bundle leaving `@aws-sdk/*` to the runtime `require`s it (an external dynamic `import()`
 * would not search NODE_PATH, where the runtime keeps it).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretReader } from '../../shared/secrets/connect/token-source';

let client: SecretsManagerClient | undefined;

export const readWithSdk: SecretReader = async (secretId, signal) => {
  client ??= new SecretsManagerClient({});
  const output = await client.send(new GetSecretValueCommand({ SecretId: secretId }), { abortSignal: signal });
  return output.SecretString ?? (output.SecretBinary ? Buffer.from(output.SecretBinary).toString('utf8') : '');
};
