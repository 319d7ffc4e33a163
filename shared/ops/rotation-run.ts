/**
 * One scheduled rotation run: every configured item in turn, each with its own audit event and
 * metric, so one failing item neither hides nor blocks the others.
 */
import { toConnectError } from '../secrets/connect/connect-errors';
import { RotationError, rotateItem, type RotationConnect, type RotationOptions, type RotationResult, type RotationTarget } from './rotation';
import { ROTATION_TARGETS_ENV, type OpsMetricName } from './contract';
import type { OpsTelemetry } from './telemetry';

export interface RotationFailure {
  target: RotationTarget;
  code: string;
  message: string;
}

export interface RotationRunResult {
  results: RotationResult[];
  failures: RotationFailure[];
}

const OUTCOME_METRIC: Readonly<Record<RotationResult['outcome'], OpsMetricName>> = {
  rotated: 'SecretRotated',
  fresh: 'SecretRotationSkipped',
  superseded: 'SecretRotationSuperseded',
};

export async function rotateAll(
  connect: RotationConnect,
  targets: readonly RotationTarget[],
  telemetry: OpsTelemetry,
  options: RotationOptions,
): Promise<RotationRunResult> {
  const run: RotationRunResult = { results: [], failures: [] };
  for (const target of targets) {
    try {
      const result = await rotateItem(connect, target, options);
      run.results.push(result);
      telemetry.count(OUTCOME_METRIC[result.outcome]);
      telemetry.event('secret.rotate', {
        vault: target.vault,
        item: target.item,
        vaultId: result.vaultId,
        itemId: result.itemId,
        itemVersion: result.itemVersion,
        outcome: result.outcome,
        attempts: result.attempts,
        conflicts: result.conflicts,
        overwroteConcurrentWrite: result.overwroteConcurrentWrite,
      }, result.outcome === 'superseded' || result.overwroteConcurrentWrite ? 'warn' : 'info');
    } catch (error) {
      const failure = describeFailure(target, error);
      run.failures.push(failure);
      telemetry.count('SecretRotationFailed');
      telemetry.event('secret.rotate', { vault: target.vault, item: target.item, outcome: 'failed', code: failure.code, error: failure.message }, 'error');
    }
  }
  return run;
}

/** Rotation targets from OP_ROTATION_TARGETS: a JSON list of `{ vault, item }`. */
export function parseRotationTargets(json: string | undefined): RotationTarget[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json ?? '');
  } catch {
    throw new Error(`${ROTATION_TARGETS_ENV} must be a JSON list of { "vault", "item" }`);
  }
  if (!Array.isArray(parsed) || !parsed.every(isTarget)) {
    throw new Error(`${ROTATION_TARGETS_ENV} must be a JSON list of { "vault", "item" }`);
  }
  return parsed.map(({ vault, item }) => ({ vault, item }));
}

function isTarget(value: unknown): value is RotationTarget {
  if (typeof value !== 'object' || value === null) return false;
  const { vault, item } = value as Record<string, unknown>;
  return typeof vault === 'string' && vault !== '' && typeof item === 'string' && item !== '';
}

/** Code and message only: messages of RotationError and ConnectError never hold values. */
function describeFailure(target: RotationTarget, error: unknown): RotationFailure {
  if (error instanceof RotationError) return { target, code: error.code, message: error.message };
  const connectError = toConnectError(error);
  return { target, code: connectError.code, message: connectError.message };
}
