/** op-lambda's reader: GetSecretValue signed with @smithy/signature-v4 over node:https. */
import { getSecretValue } from '../../shared/secrets/connect/secrets-manager-reader';

export function readToken(): Promise<string> {
  return getSecretValue(process.env['OP_CONNECT_TOKEN_SECRET_ARN'] ?? '');
}
