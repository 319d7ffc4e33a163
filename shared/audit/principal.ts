/**
 * Who made a request, as API Gateway established it: the audit trail's "who". Read from the
 * request context only (never from headers such as Authorization), and only what identifies:
 * no token, no claims beyond `sub` and `client_id`.
 */
import { apiGatewayVersion } from '../http/events';

type ApiGatewayVersion = NonNullable<ReturnType<typeof apiGatewayVersion>>;

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
  return version ? principalIn(version, event) : undefined;
}

/** The principal of an event already known to be an API Gateway event of `version`. */
export function principalIn(version: ApiGatewayVersion, event: unknown): Principal {
  const context = record(record(event)['requestContext']);
  return version === 'v2' ? fromV2(context) : fromV1(context);
}

/** The route template, e.g. "GET /payments/{id}" (never the concrete path, which may carry data). */
export function routeOf(event: unknown): string | undefined {
  const version = apiGatewayVersion(event);
  return version ? routeIn(version, event) : undefined;
}

/** The route of an event already known to be an API Gateway event of `version`. */
export function routeIn(version: ApiGatewayVersion, event: unknown): string | undefined {
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
    (principalId ? custom(principalId, sourceIp) : undefined) ??
    anonymous(sourceIp, text(identity['userAgent']))
  );
}

/** Whether two principals have the same fields with the same values (their JSON is then the same). */
export function samePrincipal(a: Principal, b: Principal | undefined): boolean {
  if (b === undefined) return false;
  const left = a as Readonly<Record<string, string | undefined>>;
  const right = b as Readonly<Record<string, string | undefined>>;
  let fields = 0;
  for (const key in left) {
    if (left[key] !== right[key]) return false;
    fields++;
  }
  for (const _key in right) fields--;
  return fields === 0;
}

// Fields are added only when present, so serialised principals stay small and regular.

function fromClaims(claims: Record<string, unknown>, sourceIp: string | undefined): Principal | undefined {
  const sub = text(claims['sub']);
  const clientId = text(claims['client_id']);
  if (!sub && !clientId) return undefined;
  const principal: { type: 'jwt'; sub?: string; clientId?: string; sourceIp?: string } = { type: 'jwt' };
  if (sub) principal.sub = sub;
  if (clientId) principal.clientId = clientId;
  return withSourceIp(principal, sourceIp);
}

function fromIam(arn: string | undefined, accountId: string | undefined, cognitoIdentityId: string | undefined, sourceIp: string | undefined): Principal | undefined {
  if (!arn) return undefined;
  const principal: { type: 'iam'; arn: string; accountId?: string; cognitoIdentityId?: string; sourceIp?: string } = { type: 'iam', arn };
  if (accountId) principal.accountId = accountId;
  if (cognitoIdentityId) principal.cognitoIdentityId = cognitoIdentityId;
  return withSourceIp(principal, sourceIp);
}

function fromCognito(identityId: string | undefined, identityPoolId: string | undefined, sourceIp: string | undefined): Principal | undefined {
  if (!identityId) return undefined;
  const principal: { type: 'cognito'; identityId: string; identityPoolId?: string; sourceIp?: string } = { type: 'cognito', identityId };
  if (identityPoolId) principal.identityPoolId = identityPoolId;
  return withSourceIp(principal, sourceIp);
}

function custom(principalId: string, sourceIp: string | undefined): Principal {
  const principal: { type: 'custom'; principalId: string; sourceIp?: string } = { type: 'custom', principalId };
  return withSourceIp(principal, sourceIp);
}

function anonymous(sourceIp: string | undefined, userAgent: string | undefined): Principal {
  const principal: { type: 'anonymous'; sourceIp?: string; userAgent?: string } = { type: 'anonymous' };
  if (sourceIp) principal.sourceIp = sourceIp;
  if (userAgent) principal.userAgent = userAgent;
  return principal;
}

function withSourceIp<P extends { sourceIp?: string }>(principal: P, sourceIp: string | undefined): P {
  if (sourceIp) principal.sourceIp = sourceIp;
  return principal;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  return value.length > MAX_LENGTH ? value.slice(0, MAX_LENGTH) : value;
}
