// A user's Lambda handler (ESM): Middy with op-lambda's middleware.
import { createHash } from 'node:crypto';
import middy from '@middy/core';
import { opSecrets } from 'op-lambda';

export const handler = middy()
  .use(opSecrets({ secrets: { API_KEY: 'op://app/api/credential' } }))
  .handler(async (_event, context) => ({
    statusCode: 200,
    body: JSON.stringify({ digest: createHash('sha256').update(context.secrets.API_KEY).digest('hex') }),
  }));
