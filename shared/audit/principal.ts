/**
 * Who made a request, as API Gateway established it: the audit trail's "who". Read from the
 * request context only (never from headers such as Authorization), and only what identifies:
 * no token, no claims beyond `sub` and `client_id`.
 */
import { apiGatewayVersion } from '../http/events';

export type Principal =
  /** A JWT authorizer (HTTP API) or Cognito user pool authorizer (REST API). */
  | { readonly type: 'jwt'; readonly sub?: string; readonly clientId?: string; readonly sourceIp?: string }
  /** IAM (SigV4) authorization, possibly through a Cognito identity pool. */
  | { readonly type: 'iam'; readonly arn: string; readonly accountId?: string; readonly cognitoIdentityId?: string; readonly sourceIp?: string }
  /** A Cognito identity without an IAM caller ARN. */
  | { readonly type: 'cognito'; readonly identityId: string; readonly identityPoolId?: string; readonly sourceIp?: string }
  /** A Lambda authorizer's principalId (REST API). */
  | { readonly type: 'custom'; readonly principalId: string; readonly sourceIp?: string }
  /** No authorizer: where the request came from. */
  | { readonly type: 'anonymous'; readonly sourceIp?: string; readonly userAgent?: string };

const MAX_LENGTH = 256;

/** The principal of an API Gateway event; undefined for any other event. */
export function principalOf(event: unknown): Principal | undefined {
  const version = apiGatewayVersion(event);
  if (!version) return undefined;
  const context = record(record(event)['requestContext']);
  return version === 'v2' ? fromV2(context) : fromV1(context);
}

/** The route template, e.g. "GET /payments/{id}" (never the concrete path, which may carry data). */
export function routeOf(event: unknown): string | undefined {
  const version = apiGatewayVersion(event);
  if (!version) return undefined;
  const fields = record(event);
  const context = record(fields['requestContext']);
  if (version === 'v2') return text(context['routeKey']);
  const method = text(fields['httpMethod']);
  const resource = text(fields['resource']) ?? text(context['resourcePath']);
  return method && resource ? `${method} ${resource}` : undefined;
}

function fromV2(context: Record<string, unknown>): Principal {
  const authorizer = record(context['authorizer']);
  const http = record(context['http']);
  const sourceIp = text(http['sourceIp']);
  const iam = record(authorizer['iam']);
  const cognito = record(iam['cognitoIdentity']);
  return (
    fromClaims(record(record(authorizer['jwt'])['claims']), sourceIp) ??
    fromIam(text(iam['userArn']) ?? text(iam['callerId']), text(iam['accountId']), text(cognito['identityId']), sourceIp) ??
    fromCognito(text(cognito['identityId']), text(cognito['identityPoolId']), sourceIp) ??
    anonymous(sourceIp, text(http['userAgent']))
  );
}

function fromV1(context: Record<string, unknown>): Principal {
  const authorizer = record(context['authorizer']);
  const identity = record(context['identity']);
  const sourceIp = text(identity['sourceIp']);
  const claims = record(authorizer['claims'] ?? record(authorizer['jwt'])['claims']);
  const principalId = text(authorizer['principalId']);
  return (
    fromClaims(claims, sourceIp) ??
    fromIam(text(identity['userArn']) ?? text(identity['caller']), text(identity['accountId']), text(identity['cognitoIdentityId']), sourceIp) ??
    fromCognito(text(identity['cognitoIdentityId']), text(identity['cognitoIdentityPoolId']), sourceIp) ??
    (principalId ? { type: 'custom', principalId, ...optional({ sourceIp }) } : undefined) ??
    anonymous(sourceIp, text(identity['userAgent']))
  );
}

function fromClaims(claims: Record<string, unknown>, sourceIp: string | undefined): Principal | undefined {
  const sub = text(claims['sub']);
  const clientId = text(claims['client_id']);
  if (!sub && !clientId) return undefined;
  return { type: 'jwt', ...optional({ sub, clientId, sourceIp }) };
}

function fromIam(arn: string | undefined, accountId: string | undefined, cognitoIdentityId: string | undefined, sourceIp: string | undefined): Principal | undefined {
  return arn ? { type: 'iam', arn, ...optional({ accountId, cognitoIdentityId, sourceIp }) } : undefined;
}

function fromCognito(identityId: string | undefined, identityPoolId: string | undefined, sourceIp: string | undefined): Principal | undefined {
  return identityId ? { type: 'cognito', identityId, ...optional({ identityPoolId, sourceIp }) } : undefined;
}

function anonymous(sourceIp: string | undefined, userAgent: string | undefined): Principal {
  return { type: 'anonymous', ...optional({ sourceIp, userAgent }) };
}

/** Drops undefined fields, so that serialised principals stay small and regular. */
function optional<T extends Record<string, string | undefined>>(fields: T): Partial<Record<keyof T, string>> {
  const present: Partial<Record<keyof T, string>> = {};
  for (const key of Object.keys(fields) as (keyof T)[]) {
    const value = fields[key];
    if (value !== undefined) present[key] = value;
  }
  return present;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  return value.length > MAX_LENGTH ? value.slice(0, MAX_LENGTH) : value;
}
