/**
 * The scheduled side of op-lambda for one stage:
 *
 * - rotate: rotates the configured signing secrets through Connect with a read-write token kept
 *   in its own Secrets Manager secret, which this function, and no other, may read;
 * - canary: resolves every reference the stage's functions declare (the manifest, handed over at
 *   synth as OP_SECRETS_MANIFEST) and publishes SecretCanaryResolved / SecretCanaryFailed;
 * - activity: forwards 1Password Connect's API activity log into its own log group
 *   (`/op-lambda/<stage>/1password-activity`), with its cursor in a DynamoDB table;
 *
 * each on an EventBridge schedule, with alarms on SecretCanaryFailed, SecretRotationFailed and
 * ActivityForwardFailed.
 */
import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_DIMENSION } from '../../shared/audit/metrics';
import {
  ACTIVITY_TABLE_ENV,
  CURSOR_TABLE_KEY,
  ROTATION_MIN_AGE_ENV,
  ROTATION_TARGETS_ENV,
  WRITE_TOKEN_SECRET_ARN_ENV,
  type OpsMetricName,
} from '../../shared/ops/contract';
import { buildManifest, MANIFEST_ENV, type FunctionSecrets, type SecretsManifest } from '../../shared/ops/manifest';
import type { ConnectClientPlacement } from './connect-server';
import { ConnectToken, connectToken, type ConnectTokenConfig } from './connect-token';
import { PACKAGE_ROOT } from './package-root';
import { SecretsFunction } from './secrets-function';

/** An item rotated on schedule: it holds the fields `current`, `previous` and `rotatedAt`. */
export interface RotationItem {
  /** Vault name or id. */
  readonly vault: string;
  /** Item title or id. */
  readonly item: string;
}

export interface RotationSettings {
  /** EventBridge schedule expression, e.g. `rate(30 days)` or `cron(0 9 ? * MON *)`. */
  readonly schedule: string;
  readonly items: readonly RotationItem[];
  /**
   * Name of the Secrets Manager secret holding a read-write Connect token scoped to the vaults of
   * `items` and no other. Only the rotate function may read it.
   */
  readonly writeTokenSecretName: string;
  /**
   * A rotation younger than this is not repeated: a second or concurrent run leaves the item
   * alone. Senders must pick up a new `current` within the schedule's period, not this.
   * @default Duration.hours(1)
   */
  readonly minAge?: Duration;
}

export interface ActivitySettings {
  /** EventBridge schedule expression of the forwarding runs. */
  readonly schedule: string;
  /** Retention of the activity log group; at least a year. */
  readonly logRetention: logs.RetentionDays;
}

/** The Connect tokens of the scheduled functions, each its own (rotate has its write token in `rotation`). */
export interface OperationsTokens {
  /** Resolves every declared reference: read-only, scoped to every vault the stage's functions read. */
  readonly canary: ConnectTokenConfig;
  /** Reads Connect's activity log only: scoped to no vault. */
  readonly activity: ConnectTokenConfig;
}

/** What the operations read of a stage's configuration. */
export interface OperationsConfig {
  /** Stage name: part of the function names and of the activity log group's name. */
  readonly stage: string;
  /** `host`: the URL of the stage's Connect server, unless `connectHost` is given. */
  readonly connect: { readonly host?: string };
  /** The Connect tokens of canary and activity (rotate's is `rotation.writeTokenSecretName`). */
  readonly operationsTokens: OperationsTokens;
  /** Retention of the operations functions' log groups. */
  readonly auditLogRetention: logs.RetentionDays;
  /** The stage's functions and their secrets: what the canary checks. */
  readonly functions: readonly FunctionSecrets[];
  readonly rotation: RotationSettings;
  readonly activity: ActivitySettings;
}

export interface OperationsProps {
  /** The stage: its Connect host and tokens, rotation and activity settings, retention. */
  readonly config: OperationsConfig;
  /** @default - built from `config.functions` */
  readonly manifest?: SecretsManifest;
  /**
   * OP_CONNECT_HOST of the three functions.
   * @default - `config.connect.host`
   */
  readonly connectHost?: string;
  /** Where alarms are sent. @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
  /**
   * VPC placement of the three functions, when Connect is private to a VPC (`ConnectServer.clientPlacement`).
   * @default - not in a VPC
   */
  readonly placement?: ConnectClientPlacement;
  /**
   * Directory holding package.json and package-lock.json, the root esbuild bundles from.
   * @default - the nearest parent directory of the operations handlers holding package-lock.json
   */
  readonly projectRoot?: string;
  /** @default rate(15 minutes) */
  readonly canarySchedule?: string;
}

/** Name of a stage's activity log group. */
export function activityLogGroupName(stage: string): string {
  return `/op-lambda/${stage}/1password-activity`;
}

/** Lambda allows 4 KB of environment in all; the manifest must leave room for the rest. */
const MAX_MANIFEST_BYTES = 3072;
const OPS_TIMEOUT = Duration.seconds(60);

export class Operations extends Construct {
  readonly rotate: SecretsFunction;
  readonly canary: SecretsFunction;
  readonly activity: SecretsFunction;
  readonly cursorTable: dynamodb.Table;
  readonly writeTokenSecret: secretsmanager.ISecret;
  readonly activityLogGroup: logs.LogGroup;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const { config } = props;
    const prefix = `op-lambda-${config.stage}`;
    const host = props.connectHost ?? config.connect.host;
    if (host === undefined) throw new Error(`${this.node.path}: set connectHost, or config.connect.host`);
    const common = { projectRoot: props.projectRoot, timeout: OPS_TIMEOUT, memorySize: 256, secrets: {}, ...props.placement };

    this.writeTokenSecret = secretsmanager.Secret.fromSecretNameV2(this, 'ConnectWriteToken', config.rotation.writeTokenSecretName);
    this.rotate = new SecretsFunction(this, 'Rotate', {
      ...common,
      entry: entry('rotate'),
      functionName: `${prefix}-rotate`,
      description: `op-lambda ${config.stage}: rotates webhook signing secrets in 1Password`,
      // The write token is this function's only Connect token: its role reads that secret and no other.
      connect: { host, token: ConnectToken.fromSecret(this.writeTokenSecret) },
      environment: {
        [ROTATION_TARGETS_ENV]: JSON.stringify(rotationTargets(config)),
        [ROTATION_MIN_AGE_ENV]: String((config.rotation.minAge ?? Duration.hours(1)).toMilliseconds()),
      },
      logRetention: config.auditLogRetention,
    });
    this.rotate.function.addEnvironment(WRITE_TOKEN_SECRET_ARN_ENV, this.writeTokenSecret.secretArn);

    this.canary = new SecretsFunction(this, 'Canary', {
      ...common,
      entry: entry('canary'),
      functionName: `${prefix}-canary`,
      description: `op-lambda ${config.stage}: resolves every declared secret reference`,
      // Its own token, scoped to every vault the stage's functions read (it checks them all).
      connect: { host, token: connectToken(config.operationsTokens.canary) },
      environment: { [MANIFEST_ENV]: manifestVariable(props.manifest ?? buildManifest(config.functions)) },
      logRetention: config.auditLogRetention,
    });

    this.cursorTable = new dynamodb.Table(this, 'ActivityCursor', {
      partitionKey: { name: CURSOR_TABLE_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Losing the cursor would forward the whole activity log again.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.activity = new SecretsFunction(this, 'Activity', {
      ...common,
      entry: entry('activity'),
      functionName: `${prefix}-activity`,
      description: `op-lambda ${config.stage}: forwards the 1Password Connect activity log`,
      // Its own token, scoped to no vault: it reads the activity log only.
      connect: { host, token: connectToken(config.operationsTokens.activity) },
      environment: { [ACTIVITY_TABLE_ENV]: this.cursorTable.tableName },
      logRetention: checkedActivityRetention(this, config.activity.logRetention),
    });
    this.activityLogGroup = this.activity.logGroup;
    // The forwarder writes entries to stdout: the function's own log group is the activity log.
    (this.activityLogGroup.node.defaultChild as logs.CfnLogGroup).logGroupName = activityLogGroupName(config.stage);
    this.cursorTable.grant(this.activity.role, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');

    this.schedule('RotateSchedule', config.rotation.schedule, this.rotate, 2);
    this.schedule('CanarySchedule', props.canarySchedule ?? 'rate(15 minutes)', this.canary, 0);
    this.schedule('ActivitySchedule', config.activity.schedule, this.activity, 0);

    this.alarm(this.canary, 'SecretCanaryFailed', 'canary-failed', 'a declared secret reference did not resolve: run `npm run secrets:check` for details');
    this.alarm(this.rotate, 'SecretRotationFailed', 'rotation-failed', 'a signing secret could not be rotated (see the secret.rotate events in its log)');
    this.alarm(this.activity, 'ActivityForwardFailed', 'activity-forward-failed', 'the 1Password activity log could not be forwarded');
    if (props.alarmTopic) {
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(new SnsAction(props.alarmTopic));
        alarm.addOkAction(new SnsAction(props.alarmTopic));
      }
    }
  }

  /** An operations metric of one of the functions (namespace OpLambda, dimension `service`). */
  metric(fn: SecretsFunction, metricName: OpsMetricName, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { [SERVICE_DIMENSION]: fn.serviceName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(15),
      ...props,
    });
  }

  private schedule(id: string, expression: string, fn: SecretsFunction, retryAttempts: number): events.Rule {
    return new events.Rule(this, id, {
      description: `Runs ${fn.serviceName}`,
      schedule: events.Schedule.expression(expression),
      targets: [new targets.LambdaFunction(fn.function, { retryAttempts, maxEventAge: Duration.hours(1) })],
    });
  }

  private alarm(fn: SecretsFunction, metricName: OpsMetricName, name: string, description: string): void {
    this.alarms.push(
      new cloudwatch.Alarm(this, `${metricName}Alarm`, {
        alarmName: `${fn.serviceName}-${name}`,
        alarmDescription: `${fn.serviceName}: ${description}.`,
        metric: this.metric(fn, metricName),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}

/** The operations handlers ship with the package, beside these constructs. */
function entry(name: 'rotate' | 'canary' | 'activity'): string {
  return join(PACKAGE_ROOT, 'functions', name, 'handler.ts');
}

/** Rotation items as the rotate function reads them, checked here rather than at run time. */
function rotationTargets(config: OperationsConfig): RotationItem[] {
  if (config.rotation.items.length === 0) throw new Error(`stage ${config.stage}: rotation.items is empty`);
  return config.rotation.items.map(({ vault, item }) => {
    if (!vault.trim() || !item.trim()) throw new Error(`stage ${config.stage}: rotation items need a vault and an item`);
    return { vault, item };
  });
}

function manifestVariable(manifest: SecretsManifest): string {
  const json = JSON.stringify(manifest);
  if (Buffer.byteLength(json) > MAX_MANIFEST_BYTES) {
    throw new Error(`the secrets manifest is ${Buffer.byteLength(json)} bytes: more than the ${MAX_MANIFEST_BYTES} the canary's environment can hold`);
  }
  return json;
}

function checkedActivityRetention(scope: Construct, retention: logs.RetentionDays): logs.RetentionDays {
  if (retention < logs.RetentionDays.ONE_YEAR) {
    throw new Error(`${scope.node.path}: activity.logRetention must be at least a year (RetentionDays.ONE_YEAR)`);
  }
  return retention;
}
