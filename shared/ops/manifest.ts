/**
 * The secrets manifest: every secret reference declared by every function of one stage,
 * `{ functionName: { NAME: 'op://…' } }`. Synth builds it from the stage config and hands it to
 * the canary as the environment variable OP_SECRETS_MANIFEST; `secrets:check` builds it from the
 * same config. References are addresses, not secrets, so the manifest is safe to print and log.
 */
import { parseReference, type SecretReference } from '../secrets/reference';

export const MANIFEST_ENV = 'OP_SECRETS_MANIFEST';

/** Declared name (e.g. STRIPE_KEY) to reference, per function name. */
export type SecretsManifest = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** One declared secret, flattened out of the manifest. */
export interface ManifestEntry {
  functionName: string;
  name: string;
  reference: SecretReference;
}

/** What a function in the stage config looks like to the manifest: a name and its secrets. */
export interface FunctionSecrets {
  name: string;
  secrets?: Readonly<Record<string, string>>;
}

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

/** The manifest of a set of functions; functions without secrets are kept with an empty map. */
export function buildManifest(functions: readonly FunctionSecrets[]): SecretsManifest {
  const manifest: Record<string, Record<string, string>> = {};
  for (const fn of functions) {
    if (manifest[fn.name]) throw new ManifestError(`function "${fn.name}" is declared twice`);
    manifest[fn.name] = { ...fn.secrets };
  }
  return validateManifest(manifest);
}

/** Parses OP_SECRETS_MANIFEST; every reference is validated, so a bad one fails loudly here. */
export function parseManifest(json: string | undefined): SecretsManifest {
  if (json === undefined || json.trim() === '') throw new ManifestError(`${MANIFEST_ENV} is not set`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new ManifestError(`${MANIFEST_ENV} is not valid JSON`);
  }
  return validateManifest(parsed);
}

/** Every declared secret with its parsed reference, in a stable order (function, then name). */
export function manifestEntries(manifest: SecretsManifest): ManifestEntry[] {
  return Object.keys(manifest)
    .sort()
    .flatMap((functionName) =>
      Object.keys(manifest[functionName]!)
        .sort()
        .map((name) => ({ functionName, name, reference: parseReference(manifest[functionName]![name]!) })),
    );
}

function validateManifest(value: unknown): SecretsManifest {
  if (!isRecord(value)) throw new ManifestError('the manifest must be an object of functions');
  for (const [functionName, secrets] of Object.entries(value)) {
    if (!isRecord(secrets)) throw new ManifestError(`secrets of function "${functionName}" must be an object`);
    for (const [name, reference] of Object.entries(secrets)) {
      if (typeof reference !== 'string') throw new ManifestError(`${functionName}.${name} must be a reference string`);
      parseReference(reference);
    }
  }
  return value as SecretsManifest;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
