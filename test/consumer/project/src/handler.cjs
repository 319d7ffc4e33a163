// A user's Lambda handler (CommonJS): the secret is declared by environment (`op run` style).
// @middy/core 7 is ESM-only, so CommonJS code loads it with import(), once per container.
const { createHash } = require('node:crypto');
const { opSecrets } = require('op-lambda');

const middyHandler = import('@middy/core').then(({ default: middy }) =>
  middy()
    .use(opSecrets())
    .handler(async (_event, context) => ({
      statusCode: 200,
      body: JSON.stringify({ digest: createHash('sha256').update(context.secrets.API_KEY).digest('hex') }),
    })),
);

exports.handler = async (event, context) => (await middyHandler)(event, context);
