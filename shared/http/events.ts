/**
 * Recognising API Gateway proxy events: REST API (payload v1) and HTTP API (payload v2, which
 * function URLs share). Only these get HTTP answers from op-lambda; any other event source sees
 * errors thrown, so that its own retry and dead-letter rules apply.
 */

/** The API Gateway payload format of an event, or undefined for any other event. */
export function apiGatewayVersion(event: unknown): 'v1' | 'v2' | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const { requestContext, version, httpMethod } = event as { requestContext?: unknown; version?: unknown; httpMethod?: unknown };
  if (typeof requestContext !== 'object' || requestContext === null) return undefined;
  const context = requestContext as { apiId?: unknown; http?: unknown };
  if (typeof context.apiId !== 'string') return undefined;
  if (version === '2.0' && typeof context.http === 'object' && context.http !== null) return 'v2';
  if (typeof httpMethod === 'string') return 'v1';
  return undefined;
}

/** Whether an event came through API Gateway (REST or HTTP API) and expects an HTTP response. */
export function isApiGatewayEvent(event: unknown): boolean {
  return apiGatewayVersion(event) !== undefined;
}
