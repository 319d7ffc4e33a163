/** The AWS SDK's Secrets Manager client (bundled, or left to the Lambda runtime). */
import { readWithSdk } from '../handlers/sdk-secret-reader';

export function readToken(): Promise<string> {
  return readWithSdk(process.env['OP_CONNECT_TOKEN_SECRET_ARN'] ?? '', AbortSignal.timeout(5000));
}
