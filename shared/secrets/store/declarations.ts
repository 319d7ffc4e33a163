/**
 * Which secrets a function needs: declared in code, by environment (the `op run` convention), or
 * both. Declarations are resolved once, at INIT, into a fixed list; a bad one fails INIT with an
 * error naming the variable.
 */
import type { Environment } from '../environment';
import { InvalidReferenceError, SecretDeclarationError } from '../errors';
import { isReference, parseReference, type SecretReference } from '../reference';

/** A secret as declared in code: a reference, or options whose reference may come from the environment. */
export type SecretSpec =
  | string
  | {
      /**
       * The `op://` reference. Omit it to read the reference from the environment variable of the
       * same name, so that one handler serves every stage.
       */
      readonly reference?: string;
      /**
       * Whether the handler cannot run without this secret. An optional secret that cannot be
       * resolved, or has no reference in this stage, is `undefined`.
       * @default true
       */
      readonly required?: boolean;
    };

/** Secrets declared in code, by the name the handler reads them under. */
export type SecretDeclarations = Readonly<Record<string, SecretSpec>>;

/** One declared secret after merging code and environment. */
export interface DeclaredSecret {
  readonly name: string;
  readonly reference: SecretReference;
  readonly required: boolean;
}

type Optionality<T> = T extends { readonly required: false } ? undefined : never;

/** A declared name: those of the code declaration by type, env-declared ones as any string. */
export type SecretName<S extends SecretDeclarations = SecretDeclarations> = (keyof S & string) | (string & {});

/** What `refresh(names)` resolves to: a value per name, `undefined` for an optional one that failed. */
export type RefreshedSecrets<S extends SecretDeclarations, N extends string> = {
  readonly [K in N]: K extends keyof S ? string | Optionality<S[K]> : string | undefined;
};

/** Every declared value by name: declared names typed from the declaration, env-declared ones by index. */
export type SecretValues<S extends SecretDeclarations = SecretDeclarations> = {
  readonly [K in keyof S]: string | Optionality<S[K]>;
} & Readonly<Record<string, string | undefined>>;

/** Names become properties of `context.secrets` (and possibly environment variables). */
const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_NAMES: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), 'then']);

/**
 * Merges code declarations with environment variables holding `op://` references. For a name in
 * both, the environment's reference wins (deployment configures, code declares) and the code's
 * `required` applies. Throws InvalidReferenceError (prefixed with the variable's name) or
 * SecretDeclarationError; messages never include an environment value that is not a reference.
 */
export function collectDeclarations(
  secrets: SecretDeclarations | undefined,
  env: Environment,
  fromEnv: boolean,
): DeclaredSecret[] {
  const declared = new Map<string, DeclaredSecret>();
  if (fromEnv) {
    for (const [name, value] of Object.entries(env)) {
      if (isReference(value)) declared.set(name, { name, reference: parseNamed(name, value), required: true });
    }
  }
  for (const [name, spec] of Object.entries(secrets ?? {})) {
    const declaration = fromCode(name, spec, env);
    if (declaration) declared.set(name, declaration);
    else declared.delete(name);
  }
  for (const name of declared.keys()) checkName(name);
  return [...declared.values()];
}

function fromCode(name: string, spec: SecretSpec, env: Environment): DeclaredSecret | undefined {
  const { reference: inCode, required = true } = typeof spec === 'string' ? { reference: spec, required: true } : spec;
  if (typeof required !== 'boolean') throw new SecretDeclarationError(name, '"required" must be a boolean');
  const inEnv = env[name];
  const reference = isReference(inEnv) ? inEnv : inCode;
  if (reference !== undefined) return { name, reference: parseNamed(name, reference), required };
  if (!required) return undefined;
  const where = inEnv === undefined ? 'is not set' : 'does not hold an op:// reference';
  throw new SecretDeclarationError(name, `no reference: declare one in code, or set the environment variable ${name} (it ${where})`);
}

function parseNamed(name: string, reference: string): SecretReference {
  try {
    return parseReference(reference);
  } catch (error) {
    if (error instanceof InvalidReferenceError) error.message = `${name}: ${error.message}`;
    throw error;
  }
}

function checkName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new SecretDeclarationError(name, 'names must be identifiers (letters, digits, "_"; not starting with a digit)');
  }
  if (RESERVED_NAMES.has(name)) throw new SecretDeclarationError(name, 'this name is reserved by JavaScript objects');
}
