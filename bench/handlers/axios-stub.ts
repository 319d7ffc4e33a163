/**
 * Stands in for axios in a bundle whose Connect client always gets its own transport (the
 * resolver's fetch-based one): `@1password/connect` loads axios at require time but never calls
 * it then. Anything that does call it fails loudly.
 */
function unavailable(): never {
  throw new Error('axios is not bundled: pass an httpClient to OnePasswordConnect');
}

const axios = { create: unavailable, request: unavailable };

export default axios;
