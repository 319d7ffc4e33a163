/**
 * The module Lambda loads first in a SecretsFunction, built to `start.mjs` beside the function's
 * bundle (`index.js`) and the early start's own (`early-start.js`, from
 * shared/secrets/connect/early-start.ts): it sends the cold start's first requests to 1Password,
 * waits until they have left, and only then loads the bundle, so that evaluating it and waiting
 * for 1Password overlap. An ES module because only a top-level `await` lets the requests leave
 * before the bundle's evaluation blocks the event loop.
 *
 * Everything else is `require`d: an ES `import` of `node:http` reads every export of the module,
 * which loads Node's fetch implementation (undici), some 30 ms that a cold start never uses.
 * The runtime looks the handler up on `default` when the module does not export it by name.
 */
import { createRequire } from 'node:module';
import type { startEarlyRequests } from './secrets/connect/early-start';

const load = createRequire(import.meta.url);
const early = load('./early-start.js') as { startEarlyRequests: typeof startEarlyRequests };

await early.startEarlyRequests(process.env).sent;

const bundle: unknown = load('./index.js');
export default bundle;
