import { randomBytes } from 'node:crypto';
import type { APIGatewayEventRequestContextV2, APIGatewayProxyEventV2WithRequestContext } from 'aws-lambda';
import type { JwtAuthorizerContext } from './jwt-authorizer';

/**
 * Builds the API Gateway HTTP API payload format 2.0 event for a real HTTP request: lower-cased
 * headers with repeated values comma-joined, cookies lifted out of the `cookie` header, decoded
 * query and path parameters, and a body that is base64-encoded unless its content type is text
 * (so, as in AWS, form posts arrive base64-encoded).
 */

export interface GatewayRequest {
  method: string;
  /** The request target as received: path and query string. */
  target: string;
  /** Header names and values, alternating, as Node's `rawHeaders`. */
  rawHeaders: readonly string[];
  body: Buffer;
  sourceIp: string;
  /** e.g. `1.1`. */
  httpVersion: string;
  localPort: number;
}

export interface EventContext {
  routeKey: string;
  pathParameters: Record<string, string>;
  apiId: string;
  stage: string;
  stageVariables: Record<string, string>;
  accountId: string;
  requestId: string;
  now: Date;
  /** Verified claims of a route behind a JWT authorizer; absent on public routes, as in AWS. */
  jwt?: JwtAuthorizerContext;
}

export type HttpApiRequestContext = APIGatewayEventRequestContextV2 & { authorizer?: { jwt: JwtAuthorizerContext } };
export type HttpApiEvent = APIGatewayProxyEventV2WithRequestContext<HttpApiRequestContext>;

export function buildHttpApiEvent(request: GatewayRequest, context: EventContext): HttpApiEvent {
  const [rawPath = '/', rawQueryString = ''] = splitTarget(request.target);
  const headers = headerMap(request);
  const cookies = cookiesOf(request.rawHeaders);
  const query = queryParameters(rawQueryString);
  const jwt = context.jwt;
  const event: HttpApiEvent = {
    version: '2.0',
    routeKey: context.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: context.accountId,
      apiId: context.apiId,
      ...(jwt ? { authorizer: { jwt } } : {}),
      domainName: headers.host ?? `${context.apiId}.execute-api.localhost`,
      domainPrefix: (headers.host ?? context.apiId).split('.')[0]!.split(':')[0]!,
      http: {
        method: request.method.toUpperCase(),
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: context.requestId,
      routeKey: context.routeKey,
      stage: context.stage,
      time: clfTime(context.now),
      timeEpoch: context.now.getTime(),
    },
    ...(Object.keys(context.pathParameters).length > 0 ? { pathParameters: context.pathParameters } : {}),
    isBase64Encoded: false,
    ...(Object.keys(context.stageVariables).length > 0 ? { stageVariables: context.stageVariables } : {}),
  };
  if (request.body.length > 0) {
    const binary = !isTextContentType(headers['content-type']);
    event.body = binary ? request.body.toString('base64') : request.body.toString('utf8');
    event.isBase64Encoded = binary;
  }
  return event;
}

/** Content types API Gateway passes as text; everything else (including none) is base64-encoded. */
export function isTextContentType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === '') return false;
  return type.startsWith('text/')
    || /^application\/(json|xml|javascript|ecmascript|graphql|x-javascript)$/.test(type)
    || /\+(json|xml)$/.test(type);
}

function splitTarget(target: string): [string, string] {
  const withoutFragment = target.split('#')[0]!;
  const at = withoutFragment.indexOf('?');
  return at < 0 ? [withoutFragment, ''] : [withoutFragment.slice(0, at), withoutFragment.slice(at + 1)];
}

function headerMap(request: GatewayRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index]!.toLowerCase();
    if (name === 'cookie') continue;
    const value = request.rawHeaders[index + 1]!;
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  // Added by API Gateway in front of every integration.
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${request.sourceIp}` : request.sourceIp;
  headers['x-forwarded-port'] ??= String(request.localPort);
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-amzn-trace-id'] ??= `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
  return headers;
}

function cookiesOf(rawHeaders: readonly string[]): string[] {
  const cookies: string[] = [];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    if (rawHeaders[index]!.toLowerCase() !== 'cookie') continue;
    cookies.push(...rawHeaders[index + 1]!.split(';').map((cookie) => cookie.trim()).filter(Boolean));
  }
  return cookies;
}

function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const parameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    parameters[name] = name in parameters ? `${parameters[name]},${value}` : value;
  }
  return Object.keys(parameters).length > 0 ? parameters : undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, the request time format of API Gateway. */
function clfTime(date: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

