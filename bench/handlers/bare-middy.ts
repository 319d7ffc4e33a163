/** A Middy handler with no middleware: the baseline of warm overhead and of bundle cost. */
import middy from '@middy/core';

export const handler = middy(async () => ({ statusCode: 200 }));
