/**
 * Powertools Parameters `getSecret` for the compared secrets, inside a Middy handler. Its cache
 * lives `maxAge` seconds (default 5); an hour here, so warm invokes measure cache hits only.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import middy from '@middy/core';
import { comparedSecretIds, seen } from './catalog';

const ids = comparedSecretIds();
const MAX_AGE_SECONDS = 3600;

export const handler = middy(async () => {
  const values = await Promise.all(ids.map((id) => getSecret(id, { maxAge: MAX_AGE_SECONDS })));
  return seen(values);
});
