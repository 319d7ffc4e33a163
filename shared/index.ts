/**
 * op-lambda's runtime library: 1Password secrets for Lambda handlers behind API Gateway.
 *
 *   export const handler = middy().use(opSecrets({ secrets: { STRIPE_KEY: 'op://payments/stripe/credential' } }))
 *     .handler(async (event, context) => pay(context.secrets.STRIPE_KEY));
 *
 * Without Middy, the store the middleware adapts:
 *
 *   const store = createSecretStore({ secrets: { STRIPE_KEY: 'op://payments/stripe/credential' } });
 *   export const handler = async (event) => pay((await store.get()).STRIPE_KEY);
 *
 * @module op-lambda
 */
export { opSecrets } from './secrets/middleware';
export type { OpSecretsMiddleware, OpSecretsOptions, SecretsContext } from './secrets/middleware';
export { createSecretStore } from './secrets/store/secret-store';
export type { FetchedValues, ReadOptions, SecretStatus, SecretStore } from './secrets/store/secret-store';
export type { SecretStoreOptions } from './secrets/store/store-options';
export type { SecretStoreListener } from './secrets/store/listener';
export type { RefreshedSecrets, SecretDeclarations, SecretName, SecretSpec, SecretValues } from './secrets/store/declarations';
export { RUNTIME_ENV } from './secrets/environment';
export type { Environment } from './secrets/environment';
export type { Clock } from './secrets/deadline';
export type { FetchReport, ResolveOptions, SecretSource, SourcedSecret, SourceOutcome } from './secrets/source';
export { ConnectError, InvalidReferenceError, SecretDeclarationError, SecretsUnavailableError, isTransient } from './secrets/errors';
export type { ConnectErrorCode } from './secrets/errors';
export { formatReference, isReference, parseReference } from './secrets/reference';
export type { SecretReference } from './secrets/reference';
export { ConnectSource } from './secrets/connect/connect-source';
export type { ConnectSourceOptions } from './secrets/connect/connect-source';
export type { ConnectOutcome, ConnectSecret } from './secrets/connect/resolution';
export { connectTokenSource } from './secrets/connect/token-source';
export type { ConnectTokenOptions, ConnectTokenSource } from './secrets/connect/token-source';
export { PROBLEM_CONTENT_TYPE, problemResponse, secretsUnavailableResponse } from './http/problem';
export type { Problem, ProblemResponse } from './http/problem';
export { apiGatewayVersion, header, isApiGatewayEvent, isReadableHttpEvent, rawBody } from './http/events';
export type { HttpEventLike } from './http/events';
export { jsonResponse } from './http/responses';
export type { HttpResponse } from './http/responses';
export { RefreshThrottle } from './secrets/store/refresh-throttle';
export type { RefreshThrottleOptions } from './secrets/store/refresh-throttle';
export { SecretAudit } from './audit/audit';
export type { AuditLogger, AuditMetrics, SecretAuditOptions } from './audit/audit';
export { principalOf, routeOf } from './audit/principal';
export type { Principal } from './audit/principal';
export { METRICS_NAMESPACE, SERVICE_DIMENSION, SecretMetric } from './audit/metrics';
export type { SecretMetricName } from './audit/metrics';
export { functionLogger } from './audit/function-logger';
export { connectLocation, isSecureUrl } from './secrets/connect/server-url';
export type { ConnectLocation } from './secrets/connect/server-url';
export { WEBHOOK_SOURCES, isWebhookSource, signingSecretNames } from './webhooks/sources';
export type { SigningSecretNames, WebhookSource } from './webhooks/sources';
export {
  ACTIVITY_PAGE_SIZE_ENV,
  ACTIVITY_TABLE_ENV,
  CURSOR_TABLE_KEY,
  ROTATION_MIN_AGE_ENV,
  ROTATION_TARGETS_ENV,
  WRITE_TOKEN_SECRET_ARN_ENV,
} from './ops/contract';
export type { OpsMetricName } from './ops/contract';
export { MANIFEST_ENV, ManifestError, buildManifest, manifestEntries, parseManifest } from './ops/manifest';
export type { FunctionSecrets, ManifestEntry, SecretsManifest } from './ops/manifest';
export { DynamoCursorStore } from './ops/activity-cursor';
export { DEFAULT_PAGE_SIZE as DEFAULT_ACTIVITY_PAGE_SIZE, forwardActivity, formatActivityLine } from './ops/activity-forwarder';
export type { ForwardResult as ActivityForwardResult } from './ops/activity-forwarder';
export { OpsConnectClient } from './ops/ops-client';
export { invocationDeadline, writeTokenEnvironment } from './ops/invocation';
export { powertoolsTelemetry } from './ops/telemetry';
export type { OpsTelemetry } from './ops/telemetry';
export { DEFAULT_MIN_AGE_MS as DEFAULT_ROTATION_MIN_AGE_MS } from './ops/rotation';
export type { RotationTarget } from './ops/rotation';
export { parseRotationTargets, rotateAll } from './ops/rotation-run';
export { checkReferences, reportChecks } from './ops/canary';
