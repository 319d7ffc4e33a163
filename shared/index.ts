/**
 * op-lambda's runtime library: 1Password secrets for Lambda handlers behind API Gateway.
 *
 *   export const handler = middy().use(opSecrets({ secrets: { STRIPE_KEY: 'op://payments/stripe/credential' } }))
 *     .handler(async (event, context) => pay(context.secrets.STRIPE_KEY));
 */
export { opSecrets } from './secrets/middleware';
export type {
  OpSecretsMiddleware,
  OpSecretsOptions,
  RefreshedSecrets,
  SecretName,
  SecretResolver,
  SecretStatus,
  SecretsContext,
  SecretValues,
} from './secrets/middleware';
export type { SecretDeclarations, SecretSpec } from './secrets/declarations';
export { ConnectError, InvalidReferenceError, SecretDeclarationError, SecretsUnavailableError, isTransient } from './secrets/errors';
export type { ConnectErrorCode } from './secrets/errors';
export { formatReference, isReference, parseReference } from './secrets/reference';
export type { SecretReference } from './secrets/reference';
export { ConnectResolver } from './secrets/connect';
export type { ConnectResolverOptions, ItemFetchEvent, ResolveOutcome, ResolvedSecret } from './secrets/connect';
export { connectTokenSource } from './secrets/token';
export type { ConnectTokenOptions, ConnectTokenSource } from './secrets/token';
export { SecretCache } from './secrets/cache';
export type { CacheListener, CacheResult, FetchOutcome, SecretCacheOptions, SecretFetcher } from './secrets/cache';
export { PROBLEM_CONTENT_TYPE, problemResponse, secretsUnavailableResponse } from './http/problem';
export type { Problem, ProblemResponse } from './http/problem';
export { apiGatewayVersion, header, isApiGatewayEvent, isReadableHttpEvent, rawBody } from './http/events';
export type { HttpEventLike } from './http/events';
export { jsonResponse } from './http/responses';
export type { HttpResponse } from './http/responses';
export { RefreshThrottle } from './secrets/refresh-throttle';
export type { RefreshThrottleOptions } from './secrets/refresh-throttle';
export { SecretAudit } from './audit/audit';
export type { AuditLogger, AuditMetrics, SecretAuditOptions } from './audit/audit';
export { principalOf, routeOf } from './audit/principal';
export type { Principal } from './audit/principal';
export { METRICS_NAMESPACE, SecretMetric } from './audit/metrics';
