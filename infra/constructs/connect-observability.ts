/**
 * What an operator watches of a deployed ConnectServer: alarms on unhealthy targets and on 5xx
 * answers (from Connect itself and from its load balancer), and a dashboard row.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { ConnectServer } from './connect-server';

interface AlarmSpec {
  readonly id: string;
  readonly name: string;
  readonly metric: cloudwatch.IMetric;
  readonly evaluationPeriods: number;
  readonly description: string;
}

/** The server's alarms, named `<namePrefix>-connect-<what>`, in `scope`. */
export function connectServerAlarms(scope: Construct, server: ConnectServer, namePrefix: string, period: Duration): cloudwatch.Alarm[] {
  const specs: AlarmSpec[] = [
    {
      id: 'ConnectUnhealthyTargetsAlarm',
      name: 'connect-unhealthy-targets',
      // Three minutes in a row: a task being replaced is briefly unhealthy by design.
      metric: server.metricUnhealthyTargets({ period: Duration.minutes(1) }),
      evaluationPeriods: 3,
      description: '1Password Connect: a task fails its /heartbeat health check. See the ConnectServer log group and the ECS service events.',
    },
    {
      id: 'Connect5xxAlarm',
      name: 'connect-5xx',
      metric: server.metricConnect5xx({ period }),
      evaluationPeriods: 1,
      description: '1Password Connect answered 5xx: check connect-sync (is 1Password.com reachable, are the credentials valid?).',
    },
    {
      id: 'ConnectLoadBalancer5xxAlarm',
      name: 'connect-lb-5xx',
      metric: server.metricLoadBalancer5xx({ period }),
      evaluationPeriods: 1,
      description: '1Password Connect load balancer answered 5xx itself: no healthy task, or tasks unreachable.',
    },
  ];
  return specs.map(
    (spec) =>
      new cloudwatch.Alarm(scope, spec.id, {
        alarmName: `${namePrefix}-${spec.name}`,
        alarmDescription: spec.description,
        metric: spec.metric,
        threshold: 1,
        evaluationPeriods: spec.evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
  );
}

/** One dashboard row: targets, requests and errors, response time, task CPU and memory. */
export function connectServerDashboardRow(server: ConnectServer): cloudwatch.IWidget[] {
  const width = 6;
  return [
    new cloudwatch.GraphWidget({
      title: '1Password Connect: healthy and unhealthy tasks',
      width,
      left: [server.metricHealthyTargets({ label: 'healthy' }), server.metricUnhealthyTargets({ label: 'unhealthy' })],
    }),
    new cloudwatch.GraphWidget({
      title: '1Password Connect: requests and 5xx',
      width,
      left: [server.metricRequests({ label: 'requests' })],
      right: [server.metricConnect5xx({ label: 'Connect 5xx' }), server.metricLoadBalancer5xx({ label: 'load balancer 5xx' })],
    }),
    new cloudwatch.GraphWidget({
      title: '1Password Connect: response time (s)',
      width,
      left: [
        server.metricResponseTime({ statistic: cloudwatch.Stats.p(50), label: 'p50' }),
        server.metricResponseTime({ statistic: cloudwatch.Stats.p(99), label: 'p99' }),
      ],
    }),
    new cloudwatch.GraphWidget({
      title: '1Password Connect: task CPU and memory (%)',
      width,
      left: [server.service.metricCpuUtilization({ label: 'CPU' }), server.service.metricMemoryUtilization({ label: 'memory' })],
    }),
  ];
}
