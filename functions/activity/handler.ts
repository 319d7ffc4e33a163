/**
 * Scheduled forwarding of 1Password Connect's API activity log (EventBridge): every new entry is
 * written once, as one JSON line, to stdout, which Lambda delivers to this function's own log
 * group (`/op-lambda/<stage>/1password-activity`, kept at least a year). No CloudWatch API call
 * is made. The cursor lives in the DynamoDB table OP_ACTIVITY_TABLE; see
 * shared/ops/activity-forwarder.ts for why overlapping runs neither repeat nor skip an entry.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, ScheduledEvent } from 'aws-lambda';
import {
  ACTIVITY_PAGE_SIZE_ENV,
  ACTIVITY_TABLE_ENV,
  type ActivityForwardResult,
  connectLocation,
  connectTokenSource,
  type ConnectTokenSource,
  DEFAULT_ACTIVITY_PAGE_SIZE,
  DynamoCursorStore,
  formatActivityLine,
  forwardActivity,
  invocationDeadline,
  OpsConnectClient,
  powertoolsTelemetry,
} from 'op-lambda';

const telemetry = powertoolsTelemetry(process.env['POWERTOOLS_SERVICE_NAME'] ?? 'activity');
let tokens: ConnectTokenSource | undefined;
let dynamo: DynamoDBClient | undefined;

export async function handler(_event?: Partial<ScheduledEvent>, context?: Context): Promise<ActivityForwardResult> {
  const deadline = invocationDeadline(context);
  try {
    const table = process.env[ACTIVITY_TABLE_ENV];
    if (!table) throw new Error(`${ACTIVITY_TABLE_ENV} is not set`);
    tokens ??= connectTokenSource();
    dynamo ??= new DynamoDBClient({});
    const connect = new OpsConnectClient({ ...connectLocation(process.env), token: await tokens.get() });
    const result = await forwardActivity(connect, new DynamoCursorStore(dynamo, table), writeLine, {
      deadline,
      pageSize: pageSize(process.env[ACTIVITY_PAGE_SIZE_ENV]),
    });
    telemetry.count('ActivityForwarded', result.forwarded);
    if (result.resets > 0) telemetry.event('activity.forward', { outcome: 'log-restarted', resets: result.resets }, 'warn');
    return result;
  } catch (error) {
    telemetry.count('ActivityForwardFailed');
    telemetry.event('activity.forward', { outcome: 'failed', error: error instanceof Error ? error.message : 'unknown failure' }, 'error');
    throw error;
  } finally {
    telemetry.flush();
  }
}

/** Straight to stdout: one line per entry, not wrapped by the console's log format. */
function writeLine(entry: Parameters<typeof formatActivityLine>[0]): void {
  process.stdout.write(`${formatActivityLine(entry)}\n`);
}

function pageSize(value: string | undefined): number {
  const parsed = Number(value);
  return Number.isInteger(parsed) && parsed > 0 && parsed <= 1000 ? parsed : DEFAULT_ACTIVITY_PAGE_SIZE;
}
