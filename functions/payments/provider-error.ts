/**
 * What the payments function repeats of a provider's error: its status and, when the provider
 * names one, an error code of a strict shape (lowercase words joined by underscores, e.g.
 * `idempotency_key_reused`, Stripe's `card_declined`). Nothing else of the provider's body reaches
 * a caller or a log: a provider that echoes the request would echo the key with it.
 */

/** Lowercase words and underscores only: no digits or capitals, which every API key carries. */
const ERROR_CODE = /^[a-z]+(?:_[a-z]+)*$/;
const MAX_CODE_LENGTH = 40;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{ "error": "code" }` or Stripe's `{ "error": { "code": "code" } }`. */
function candidateCode(body: unknown): unknown {
  if (!isObject(body)) return undefined;
  const { error } = body;
  return isObject(error) ? error['code'] : error;
}

/** The provider's error code when it has the expected shape; undefined otherwise. */
export function providerErrorCode(body: unknown): string | undefined {
  const code = candidateCode(body);
  return typeof code === 'string' && code.length <= MAX_CODE_LENGTH && ERROR_CODE.test(code) ? code : undefined;
}
