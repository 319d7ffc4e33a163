/**
 * op-lambda/cdk: the CDK constructs that deploy functions using op-lambda (aws-cdk-lib and
 * constructs are peer dependencies).
 *
 *   new SecretsFunction(this, 'Payments', {
 *     entry: 'src/payments.ts',
 *     secrets: { STRIPE_KEY: 'op://payments/stripe/credential' },
 *     connect: { host: 'https://connect.example.com', token: ConnectToken.fromSecretName('payments/connect-token') },
 *   });
 *
 * @module op-lambda/cdk
 */
export { SecretsFunction } from '../infra/constructs/secrets-function';
export type { ConnectSettings, SecretsFunctionProps } from '../infra/constructs/secrets-function';
export { Observability } from '../infra/constructs/observability';
export type { ObservabilityProps } from '../infra/constructs/observability';
export { Operations, activityLogGroupName } from '../infra/constructs/operations';
export type { ActivitySettings, OperationsConfig, OperationsProps, OperationsTokens, RotationItem, RotationSettings } from '../infra/constructs/operations';
export { ConnectToken, connectToken } from '../infra/constructs/connect-token';
export type { ConnectTokenConfig } from '../infra/constructs/connect-token';
export { METRICS_NAMESPACE, SecretMetric } from './audit/metrics';
export type { SecretMetricName } from './audit/metrics';
export { ConnectServer, DEFAULT_CONNECT_VERSION } from '../infra/constructs/connect-server';
export type { ConnectClientPlacement, ConnectServerProps } from '../infra/constructs/connect-server';
export { WebhookReplayTable } from '../infra/constructs/webhook-replay-table';
export type { WebhookReplayTableProps } from '../infra/constructs/webhook-replay-table';
