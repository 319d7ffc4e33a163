/**
 * Stands in for @aws-sdk/client-secrets-manager in a measurement of what the AWS SDK costs an
 * op-lambda bundle. Only valid where the Connect token comes from OP_CONNECT_TOKEN (as locally):
 * with OP_CONNECT_TOKEN_SECRET_ARN, op-lambda needs the real client.
 */
const MESSAGE = 'the AWS SDK is left out of this bundle: set OP_CONNECT_TOKEN';

export class SecretsManagerClient {
  send(): never {
    throw new Error(MESSAGE);
  }
}

export class GetSecretValueCommand {
  constructor(readonly input: unknown) {}
}
