/**
 * Scheduled secrets canary (EventBridge): resolves every reference that every function of the
 * stage declares (OP_SECRETS_MANIFEST, written at synth from the stage config) the way those
 * functions will, and publishes SecretCanaryResolved / SecretCanaryFailed, on which an alarm
 * fires. Failures are reported, not thrown: a retry would only count them twice.
 */
import type { Context, ScheduledEvent } from 'aws-lambda';
import {
  checkReferences,
  connectLocation,
  ConnectSource,
  connectTokenSource,
  type ConnectTokenSource,
  invocationDeadline,
  MANIFEST_ENV,
  parseManifest,
  powertoolsTelemetry,
  reportChecks,
} from 'op-lambda';

export interface CanarySummary {
  checked: number;
  failed: number;
}

const telemetry = powertoolsTelemetry(process.env['POWERTOOLS_SERVICE_NAME'] ?? 'canary');
let tokens: ConnectTokenSource | undefined;

export async function handler(_event?: Partial<ScheduledEvent>, context?: Context): Promise<CanarySummary> {
  const deadline = invocationDeadline(context);
  try {
    const manifest = parseManifest(process.env[MANIFEST_ENV]);
    tokens ??= connectTokenSource();
    // The source reads the token again after a 401 (the token may have been rotated).
    const source = new ConnectSource({ ...connectLocation(process.env), token: tokens });
    const checks = await checkReferences(source, manifest, deadline);
    reportChecks(checks, telemetry);
    return { checked: checks.length, failed: checks.filter((check) => !check.ok).length };
  } catch (error) {
    // The canary could not run at all (manifest, host): that is a failed check as far as alarms go.
    telemetry.count('SecretCanaryFailed');
    telemetry.event('secret.canary', { outcome: 'failed', error: error instanceof Error ? error.message : 'unknown failure' }, 'error');
    throw error;
  } finally {
    telemetry.flush();
  }
}
