/**
 * The module Lambda loads first in a SecretsFunction, built to `start.mjs` beside the function's
 * bundle (`index.js`): it sends the cold start's first requests to 1Password
 * (shared/secrets/connect/early-start.ts), waits until they have left, and only then loads the
 * bundle, so that evaluating it and waiting for 1Password overlap. An ES module because only a
 * top-level `await` lets the requests leave before the bundle's evaluation blocks the event loop.
 *
 * The runtime looks the handler up on `default` when the module does not export it by name.
 */
import { createRequire } from 'node:module';
import { startEarlyRequests } from './secrets/connect/early-start';

await startEarlyRequests(process.env).sent;

const bundle: unknown = createRequire(import.meta.url)('./index.js');
export default bundle;
