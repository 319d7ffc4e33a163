/**
 * A function's own 1Password Connect token: how a construct names its Secrets Manager secret, and
 * how a stage's configuration does.
 */
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/**
 * The function's own 1Password Connect token, kept in Secrets Manager. Give every function its own,
 * scoped in 1Password to the vaults holding exactly that function's secrets: a compromised function
 * then reads its own secrets and no other's. Two SecretsFunctions of a stack sharing one token
 * secret fail synth.
 */
export abstract class ConnectToken {
  /** A secret defined or imported elsewhere. */
  static fromSecret(secret: secretsmanager.ISecret): ConnectToken {
    return new (class extends ConnectToken {
      bind(): secretsmanager.ISecret {
        return secret;
      }
    })();
  }

  /**
   * The secret of this name, imported in the function's own scope. IAM then grants `<name>-??????`
   * (Secrets Manager appends a random suffix to every name).
   */
  static fromSecretName(secretName: string): ConnectToken {
    return new (class extends ConnectToken {
      bind(scope: Construct): secretsmanager.ISecret {
        if (/-[A-Za-z0-9]{6}$/.test(secretName)) {
          throw new Error(
            `${scope.node.path}: Connect token secret name "${secretName}" ends like a Secrets Manager suffix (a dash and six characters): ` +
              'name-based lookups of such secrets fail, use ConnectToken.fromSecretCompleteArn with the complete ARN instead',
          );
        }
        return secretsmanager.Secret.fromSecretNameV2(scope, 'ConnectToken', secretName);
      }
    })();
  }

  /** The secret of this complete ARN (with its suffix): IAM grants name exactly that secret. */
  static fromSecretCompleteArn(secretCompleteArn: string): ConnectToken {
    return new (class extends ConnectToken {
      bind(scope: Construct): secretsmanager.ISecret {
        return secretsmanager.Secret.fromSecretCompleteArn(scope, 'ConnectToken', secretCompleteArn);
      }
    })();
  }

  /** The secret, imported under `scope` when it is known by name or ARN. */
  abstract bind(scope: Construct): secretsmanager.ISecret;
}

/** A Connect token kept in Secrets Manager, as a stage's configuration names it. */
export interface ConnectTokenConfig {
  /** Name of the Secrets Manager secret holding the token. */
  readonly secretName: string;
  /**
   * Complete ARN of that secret (with its 6-character suffix). When set, IAM grants name exactly
   * this ARN; without it the secret is imported by name and IAM grants `<name>-??????`, which is
   * how a secret known only by name is addressed in a policy.
   * @default - imported by `secretName`
   */
  readonly secretArn?: string;
}

/** The token a configuration names: by complete ARN when given, else by name. */
export function connectToken(config: ConnectTokenConfig): ConnectToken {
  return config.secretArn === undefined ? ConnectToken.fromSecretName(config.secretName) : ConnectToken.fromSecretCompleteArn(config.secretArn);
}
