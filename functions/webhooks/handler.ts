import type { APIGatewayProxyResultV2 } from 'aws-lambda';

/** Minimal webhooks handler: answers 200 with a JSON body. */
export async function handler(): Promise<APIGatewayProxyResultV2> {
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ok: true, function: 'webhooks' }),
  };
}
