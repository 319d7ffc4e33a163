/**
 * Names the operations functions and their CDK construct agree on: environment variables, the
 * cursor table's key, metric names. Pure constants, so synth loads none of the runtime.
 */

/** The read-write Connect token's Secrets Manager secret, given to the rotate function alone. */
export const WRITE_TOKEN_SECRET_ARN_ENV = 'OP_CONNECT_WRITE_TOKEN_SECRET_ARN';
/** JSON list of `{ vault, item }` to rotate. */
export const ROTATION_TARGETS_ENV = 'OP_ROTATION_TARGETS';
/** Milliseconds within which a rotation is not repeated. */
export const ROTATION_MIN_AGE_ENV = 'OP_ROTATION_MIN_AGE_MS';
/** DynamoDB table holding the activity cursor. */
export const ACTIVITY_TABLE_ENV = 'OP_ACTIVITY_TABLE';
/** Entries per `/v1/activity` request. */
export const ACTIVITY_PAGE_SIZE_ENV = 'OP_ACTIVITY_PAGE_SIZE';
/** Partition key (string) of the cursor table. */
export const CURSOR_TABLE_KEY = 'pk';

/** Count metrics of the operations functions: namespace OpLambda, dimension `service`. */
export type OpsMetricName =
  | 'SecretRotated'
  | 'SecretRotationSkipped'
  | 'SecretRotationSuperseded'
  | 'SecretRotationFailed'
  | 'SecretCanaryResolved'
  | 'SecretCanaryFailed'
  | 'ActivityForwarded'
  | 'ActivityForwardFailed';
