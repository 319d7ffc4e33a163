/**
 * `GET /health`: whether this function has what it needs, for load balancers.
 *
 * 200 `{"status":"ok"}` and nothing more: the route is public, and item versions or cache ages
 * would tell anyone on the internet when secrets rotate. When a required secret cannot be had, the
 * middleware answers 503 problem+json with Retry-After before this handler runs, which is exactly
 * what a health check should report.
 *
 * The secret is declared by name only; each stage's reference (`op://<vault>/database/connection/url`)
 * comes from the environment variable of the same name, so one bundle serves every stage.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { jsonResponse, opSecrets } from 'op-lambda';

export const secrets = opSecrets({ secrets: { DATABASE_URL: { required: true } } });

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>()
  .use(secrets)
  .handler(async () => jsonResponse(200, { status: 'ok' }));
