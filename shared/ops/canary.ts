/**
 * The canary: resolve every reference of a stage's manifest, exactly as the functions will, and
 * report per declared secret whether it resolved. Values are looked at only to see that they are
 * there (an empty value is a failure: a handler would receive nothing) and are never kept.
 */
import type { SecretSource } from '../secrets/source';
import { manifestEntries, type SecretsManifest } from './manifest';
import type { OpsTelemetry } from './telemetry';

export interface ReferenceCheck {
  functionName: string;
  name: string;
  /** The reference as declared: an address, safe to print. */
  reference: string;
  ok: boolean;
  /** Why not, when not ok: a ConnectError code, or EMPTY. */
  code?: string;
  detail?: string;
  itemVersion?: number;
}

/** One check per declared secret, in manifest order; references shared by functions are fetched once. */
export async function checkReferences(source: SecretSource, manifest: SecretsManifest, deadline: number): Promise<ReferenceCheck[]> {
  const entries = manifestEntries(manifest);
  const distinct = [...new Map(entries.map((entry) => [entry.reference.key, entry.reference])).values()];
  const { values, errors } = distinct.length === 0 ? { values: new Map(), errors: new Map() } : await source.resolve(distinct, { deadline });
  return entries.map(({ functionName, name, reference }) => {
    const base = { functionName, name, reference: reference.raw };
    const resolved = values.get(reference.key);
    if (resolved && resolved.value !== '') return { ...base, ok: true, itemVersion: resolved.itemVersion };
    if (resolved) return { ...base, ok: false, code: 'EMPTY', detail: 'the field exists but holds no value' };
    const error = errors.get(reference.key);
    return { ...base, ok: false, code: error?.code ?? 'UNRESOLVED', detail: error?.detail ?? 'no value and no error came back' };
  });
}

/** The canary's audit events and metrics for one run's checks. */
export function reportChecks(checks: readonly ReferenceCheck[], telemetry: OpsTelemetry): void {
  const failed = checks.filter((check) => !check.ok);
  telemetry.count('SecretCanaryResolved', checks.length - failed.length);
  telemetry.count('SecretCanaryFailed', failed.length);
  for (const check of failed) {
    telemetry.event('secret.canary', {
      function: check.functionName,
      name: check.name,
      reference: check.reference,
      outcome: 'failed',
      code: check.code,
      detail: check.detail,
    }, 'error');
  }
  telemetry.event('secret.canary', { outcome: failed.length === 0 ? 'ok' : 'failed', checked: checks.length, failed: failed.length });
}
