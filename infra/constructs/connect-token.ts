/**
 * The read-only Connect token a stage's functions share: where it is configured, and how a
 * construct imports its Secrets Manager secret so IAM grants name that one secret.
 */
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

export interface ConnectTokenConfig {
  /** Name of the Secrets Manager secret holding the Connect token (a read-only token scoped to the vault). */
  readonly tokenSecretName: string;
  /**
   * Complete ARN of that secret (with its 6-character suffix). When set, IAM grants name exactly
   * this ARN; without it the secret is imported by name and IAM grants `<name>-??????`, which is
   * how a secret known only by name is addressed in a policy.
   * @default - imported by `tokenSecretName`
   */
  readonly tokenSecretArn?: string;
}

/**
 * The Connect token secret. With a complete ARN the grant names exactly that secret; with a name
 * CDK can only address it as `<name>-??????` (Secrets Manager appends a random suffix), which still
 * matches that one secret unless another is named `<name>-` plus six characters.
 */
export function importConnectTokenSecret(scope: Construct, connect: ConnectTokenConfig): secretsmanager.ISecret {
  if (connect.tokenSecretArn !== undefined) {
    return secretsmanager.Secret.fromSecretCompleteArn(scope, 'ConnectToken', connect.tokenSecretArn);
  }
  if (/-[A-Za-z0-9]{6}$/.test(connect.tokenSecretName)) {
    throw new Error(
      `connect.tokenSecretName "${connect.tokenSecretName}" ends like a Secrets Manager suffix (a dash and six characters): ` +
        'name-based lookups of such secrets fail, set connect.tokenSecretArn to the complete ARN instead',
    );
  }
  return secretsmanager.Secret.fromSecretNameV2(scope, 'ConnectToken', connect.tokenSecretName);
}
