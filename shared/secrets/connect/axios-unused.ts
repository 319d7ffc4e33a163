/**
 * Stands in for axios in op-lambda's function bundles: SecretsFunction aliases `axios` to this module.
 *
 * `@1password/connect` requires axios as it loads, but builds an axios client only when it is given
 * no `httpClient`, and ConnectSource always gives it its own transport (./transport.ts, node:http). Bundled,
 * axios would be code that never runs yet is parsed and evaluated on every cold start.
 */

/** What any attempt to use axios through this stand-in throws. */
export const AXIOS_UNUSED_MESSAGE = 'axios is not bundled: op-lambda supplies its own HTTP transport to @1password/connect';

/** The one axios entry point the SDK calls (`axios.create`), only when it has no `httpClient`. */
function create(): never {
  throw new Error(AXIOS_UNUSED_MESSAGE);
}

export default { create };
