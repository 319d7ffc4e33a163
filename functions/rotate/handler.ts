/**
 * Scheduled rotation of the webhook signing secrets (EventBridge). For each item in
 * OP_ROTATION_TARGETS: a fresh 32-byte value becomes `current`, the old `current` becomes
 * `previous`, `rotatedAt` is stamped, through Connect with the read-write token only this function
 * may read. Safe to run twice or concurrently (see shared/ops/rotation.ts). An item that could not
 * be rotated fails the invocation, after being audited, so that Lambda's retry tries it again;
 * items already rotated are then left alone.
 */
import type { Context, ScheduledEvent } from 'aws-lambda';
import {
  connectLocation,
  connectTokenSource,
  type ConnectTokenSource,
  DEFAULT_ROTATION_MIN_AGE_MS,
  invocationDeadline,
  OpsConnectClient,
  parseRotationTargets,
  powertoolsTelemetry,
  rotateAll,
  ROTATION_MIN_AGE_ENV,
  ROTATION_TARGETS_ENV,
  type RotationTarget,
  writeTokenEnvironment,
} from 'op-lambda';

export interface RotateSummary {
  rotated: number;
  fresh: number;
  superseded: number;
  failed: number;
}

const telemetry = powertoolsTelemetry(process.env['POWERTOOLS_SERVICE_NAME'] ?? 'rotate');
let tokens: ConnectTokenSource | undefined;

export async function handler(_event?: Partial<ScheduledEvent>, context?: Context): Promise<RotateSummary> {
  const deadline = invocationDeadline(context);
  try {
    const setup = await prepare();
    const run = await rotateAll(setup.connect, setup.targets, telemetry, { deadline, minAgeMs: setup.minAgeMs });
    if (run.failures.some((failure) => failure.code === 'UNAUTHORIZED')) tokens?.invalidate();
    const count = (outcome: string): number => run.results.filter((result) => result.outcome === outcome).length;
    const summary = { rotated: count('rotated'), fresh: count('fresh'), superseded: count('superseded'), failed: run.failures.length };
    if (summary.failed > 0) throw new Error(`rotation failed for ${summary.failed} of ${setup.targets.length} item(s)`);
    return summary;
  } finally {
    telemetry.flush();
  }
}

interface Setup {
  connect: OpsConnectClient;
  targets: RotationTarget[];
  minAgeMs: number;
}

/** Configuration and token; a failure here means nothing could be rotated, and is counted as such. */
async function prepare(): Promise<Setup> {
  try {
    const targets = parseRotationTargets(process.env[ROTATION_TARGETS_ENV]);
    tokens ??= connectTokenSource({ env: writeTokenEnvironment(process.env) });
    const connect = new OpsConnectClient({ ...connectLocation(process.env), token: await tokens.get() });
    const minAgeMs = Number(process.env[ROTATION_MIN_AGE_ENV] ?? DEFAULT_ROTATION_MIN_AGE_MS);
    return { connect, targets, minAgeMs: Number.isFinite(minAgeMs) && minAgeMs >= 0 ? minAgeMs : DEFAULT_ROTATION_MIN_AGE_MS };
  } catch (error) {
    telemetry.count('SecretRotationFailed');
    telemetry.event('secret.rotate', { outcome: 'failed', error: error instanceof Error ? error.message : 'unknown failure' }, 'error');
    throw error;
  }
}
