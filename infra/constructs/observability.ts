/**
 * What an operator watches for a set of SecretsFunctions: alarms on secret failures, stale
 * values and Lambda errors (emailed when an address is given), a dashboard of the secrets
 * runtime, and the Logs Insights query "who read which secret" over the audit trail.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { connectServerAlarms, connectServerDashboardRow } from './connect-observability';
import type { ConnectServer } from './connect-server';
import type { SecretsFunction } from './secrets-function';

export interface ObservabilityProps {
  readonly functions: readonly SecretsFunction[];
  /** Name of the dashboard and prefix of the query name, unique per account and region (e.g. `op-lambda-staging`). Alarms are named after each function's service. */
  readonly namePrefix: string;
  /**
   * Email address notified when an alarm fires or recovers.
   * @default - alarms without notifications, no SNS topic
   */
  readonly alarmEmail?: string;
  /**
   * Period over which each alarm evaluates its metric.
   * @default Duration.minutes(5)
   */
  readonly alarmPeriod?: Duration;
  /**
   * The stage's own Connect server: its alarms (unhealthy targets, 5xx) and a dashboard row.
   * @default - none (Connect runs elsewhere)
   */
  readonly connectServer?: ConnectServer;
}

/** Audit lines are JSON with a top-level `event`; `secret.access` is written once per invocation. */
const AUDIT_QUERY = new logs.QueryString({
  fields: ['@timestamp', '@log', 'names', 'principal', 'awsRequestId', 'route'],
  filterStatements: ['event = "secret.access"'],
  sort: '@timestamp desc',
  limit: 1000,
});

export class Observability extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  readonly auditQuery: logs.QueryDefinition;
  /** Present when `alarmEmail` is set. */
  readonly alarmTopic?: sns.Topic;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const period = props.alarmPeriod ?? Duration.minutes(5);
    this.alarmTopic = props.alarmEmail === undefined ? undefined : this.createAlarmTopic(props.alarmEmail);
    for (const fn of props.functions) this.alarms.push(...this.createAlarms(fn, period));
    const connectAlarms = props.connectServer ? connectServerAlarms(this, props.connectServer, props.namePrefix, period) : [];
    for (const alarm of connectAlarms) this.notify(alarm);
    this.alarms.push(...connectAlarms);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.namePrefix,
      defaultInterval: Duration.hours(3),
      widgets: [
        ...props.functions.map((fn) => dashboardRow(fn)),
        ...(props.connectServer ? [connectServerDashboardRow(props.connectServer)] : []),
      ],
    });

    this.auditQuery = new logs.QueryDefinition(this, 'WhoReadWhichSecret', {
      queryDefinitionName: `${props.namePrefix}/who-read-which-secret`,
      queryString: AUDIT_QUERY,
      logGroups: props.functions.map((fn) => fn.logGroup),
    });
  }

  private createAlarms(fn: SecretsFunction, period: Duration): cloudwatch.Alarm[] {
    const service = fn.serviceName;
    const specs: { id: string; name: string; metric: cloudwatch.IMetric; description: string }[] = [
      {
        id: 'SecretFailureAlarm',
        name: 'secret-failure',
        metric: fn.metricSecretFailure({ period }),
        description: `${service}: secrets could not be provided, clients got 503. Check 1Password Connect reachability, the token and the references.`,
      },
      {
        id: 'SecretStaleServedAlarm',
        name: 'secret-stale-served',
        metric: fn.metricSecretStaleServed({ period }),
        description: `${service}: cached secret values served past their lifetime because refreshing from 1Password failed.`,
      },
      {
        id: 'ErrorsAlarm',
        name: 'errors',
        metric: fn.function.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
        description: `${service}: the Lambda function reported errors.`,
      },
    ];
    return specs.map((spec) => {
      const alarm = new cloudwatch.Alarm(this, `${fn.node.id}${spec.id}`, {
        alarmName: `${service}-${spec.name}`,
        alarmDescription: spec.description,
        metric: spec.metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.notify(alarm);
      return alarm;
    });
  }

  private notify(alarm: cloudwatch.Alarm): void {
    if (!this.alarmTopic) return;
    alarm.addAlarmAction(new SnsAction(this.alarmTopic));
    alarm.addOkAction(new SnsAction(this.alarmTopic));
  }

  /** An encrypted, TLS-only topic CloudWatch alarms can publish to, with the email subscribed. */
  private createAlarmTopic(email: string): sns.Topic {
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the op-lambda alarm topic',
      enableKeyRotation: true,
    });
    // CloudWatch publishes to an encrypted topic only with use of the key (the AWS managed SNS key does not allow it).
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    const topic = new sns.Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true });
    topic.addSubscription(new EmailSubscription(email));
    return topic;
  }
}

/** One dashboard row per function: fetch latency, cache hits and fetches, failures and stale values, Lambda health. */
function dashboardRow(fn: SecretsFunction): cloudwatch.IWidget[] {
  const service = fn.serviceName;
  const width = 6;
  return [
    new cloudwatch.GraphWidget({
      title: `${service}: secret fetch latency (ms)`,
      width,
      left: [
        fn.metricSecretFetchLatency({ statistic: cloudwatch.Stats.p(50), label: 'p50' }),
        fn.metricSecretFetchLatency({ statistic: cloudwatch.Stats.p(99), label: 'p99' }),
      ],
    }),
    new cloudwatch.GraphWidget({
      title: `${service}: cache hits and fetches`,
      width,
      left: [fn.metricSecretCacheHit({ label: 'cache hits' }), fn.metricSecretFetch({ label: 'fetches' })],
    }),
    new cloudwatch.GraphWidget({
      title: `${service}: failures and stale served`,
      width,
      left: [fn.metricSecretFailure({ label: 'failures' }), fn.metricSecretStaleServed({ label: 'stale served' })],
    }),
    new cloudwatch.GraphWidget({
      title: `${service}: invocations and errors`,
      width,
      left: [fn.function.metricInvocations({ label: 'invocations' }), fn.function.metricErrors({ label: 'errors' })],
    }),
  ];
}
