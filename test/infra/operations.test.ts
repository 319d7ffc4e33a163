import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { connectUrl, stageConfig, type StageConfig } from '../../infra/config';
import { activityLogGroupName, Operations } from '../../infra/constructs/operations';
import { buildManifest } from '../../shared/ops/manifest';
import { createTestApp, functionLogicalId, resourcesOfType, validationViolations, type TestApp } from './synth';

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}

const config: StageConfig = stageConfig('staging');
const name = (fn: string): string => `op-lambda-staging-${fn}`;

describe('Operations', () => {
  let testApp: TestApp;
  let stack: Stack;
  let template: Template;

  beforeAll(() => {
    // Bundled for real: the three handlers must build with esbuild like any function.
    testApp = createTestApp();
    stack = new Stack(testApp.app, 'OpsTest', { env: { account: '123456789012', region: 'eu-west-1' } });
    new Operations(stack, 'Operations', { config, connectHost: connectUrl(config.connect) });
    Validations.of(testApp.app).addPlugins(new AwsSolutionsChecks(testApp.app, { verbose: true }));
    template = Template.fromStack(stack);
  });

  afterAll(() => testApp.cleanup());

  const functionProps = (fn: string): Record<string, unknown> =>
    resourcesOfType(template, 'AWS::Lambda::Function')[functionLogicalId(template, name(fn))]!.Properties!;
  const environment = (fn: string): Record<string, unknown> => (functionProps(fn).Environment as { Variables: Record<string, unknown> }).Variables;
  const roleOf = (fn: string): string => (functionProps(fn).Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const statementsOf = (fn: string): Statement[] =>
    Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties!.Roles) === JSON.stringify([{ Ref: roleOf(fn) }]))
      .flatMap((policy) => (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
  const secretResources = (fn: string): string[] =>
    statementsOf(fn)
      .filter((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'))
      .map((statement) => JSON.stringify(statement.Resource));

  it('deploys rotate, canary and activity on nodejs24.x, arm64, with JSON logs and their bundles', () => {
    for (const fn of ['rotate', 'canary', 'activity']) {
      expect(functionProps(fn)).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], LoggingConfig: { LogFormat: 'JSON' } });
      const assetPath = resourcesOfType(template, 'AWS::Lambda::Function')[functionLogicalId(template, name(fn))]!.Metadata!['aws:asset:path'] as string;
      expect(existsSync(join(testApp.app.outdir, assetPath, 'index.js'))).toBe(true);
    }
  });

  it('runs each function on its EventBridge schedule', () => {
    const rules = Object.values(resourcesOfType(template, 'AWS::Events::Rule')).map((rule) => rule.Properties!);
    const scheduleOf = (fn: string): unknown =>
      rules.find((rule) => JSON.stringify(rule.Targets).includes(`"${functionLogicalId(template, name(fn))}"`))?.ScheduleExpression;
    expect(rules).toHaveLength(3);
    expect(scheduleOf('rotate')).toBe(config.rotation.schedule);
    expect(scheduleOf('canary')).toBe('rate(15 minutes)');
    expect(scheduleOf('activity')).toBe(config.activity.schedule);
    template.resourceCountIs('AWS::Lambda::Permission', 3);
    template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com', Action: 'lambda:InvokeFunction' });
  });

  it('lets the rotate function, and it alone, read the read-write token', () => {
    const writeToken = `:secret:${config.rotation.writeTokenSecretName}-??????`;
    expect(secretResources('rotate')).toHaveLength(1);
    expect(secretResources('rotate')[0]).toContain(writeToken);
    for (const fn of ['canary', 'activity'] as const) {
      expect(secretResources(fn)).toHaveLength(1);
      expect(secretResources(fn)[0]).toContain(`:secret:${config.operationsTokens[fn].secretName}-??????`);
    }
    const everyPolicy = JSON.stringify(resourcesOfType(template, 'AWS::IAM::Policy'));
    expect(everyPolicy.split(writeToken)).toHaveLength(2);
    expect(JSON.stringify(environment('rotate')[`OP_CONNECT_WRITE_TOKEN_SECRET_ARN`])).toContain(config.rotation.writeTokenSecretName);
    for (const fn of ['canary', 'activity']) expect(JSON.stringify(environment(fn))).not.toContain('connect-write-token');
  });

  it('hands the rotate function its items and the canary the stage manifest', () => {
    expect(JSON.parse(environment('rotate')['OP_ROTATION_TARGETS'] as string)).toEqual(config.rotation.items);
    expect(environment('rotate')['OP_ROTATION_MIN_AGE_MS']).toBe('3600000');
    expect(JSON.parse(environment('canary')['OP_SECRETS_MANIFEST'] as string)).toEqual(buildManifest(config.functions));
    // No reference is declared as a secret of these functions: they take no values at INIT.
    for (const fn of ['rotate', 'canary', 'activity']) {
      expect(Object.values(environment(fn)).filter((value) => typeof value === 'string' && value.startsWith('op://'))).toEqual([]);
    }
  });

  it('keeps the activity cursor in an encrypted, point-in-time-recoverable table only the forwarder touches', () => {
    const tables = Object.entries(resourcesOfType(template, 'AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(1);
    const [tableId, table] = tables[0]!;
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(table.DeletionPolicy).toBe('Retain');
    expect(environment('activity')['OP_ACTIVITY_TABLE']).toEqual({ Ref: tableId });
    const tableStatements = statementsOf('activity').filter((statement) => JSON.stringify(statement.Resource).includes(tableId));
    expect(tableStatements.flatMap((statement) => [statement.Action].flat()).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    for (const fn of ['rotate', 'canary']) expect(JSON.stringify(statementsOf(fn))).not.toContain(tableId);
  });

  it('forwards activity into /op-lambda/<stage>/1password-activity, kept at least a year', () => {
    const ref = (functionProps('activity').LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    const group = resourcesOfType(template, 'AWS::Logs::LogGroup')[ref]!;
    expect(group.Properties!.LogGroupName).toBe(activityLogGroupName('staging'));
    expect(group.Properties!.LogGroupName).toBe('/op-lambda/staging/1password-activity');
    expect(group.Properties!.RetentionInDays as number).toBeGreaterThanOrEqual(RetentionDays.ONE_YEAR);
    expect(group.DeletionPolicy).toBe('Retain');
  });

  it('alarms when the canary fails, a rotation fails or forwarding fails', () => {
    for (const [fn, metricName] of [
      ['canary', 'SecretCanaryFailed'],
      ['rotate', 'SecretRotationFailed'],
      ['activity', 'ActivityForwardFailed'],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'OpLambda',
        MetricName: metricName,
        Dimensions: [{ Name: 'service', Value: name(fn) }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
  });

  it('stays clean under cdk-nag', () => {
    expect(validationViolations(testApp.app)).toEqual([]);
  });
});

describe('Operations settings', () => {
  const apps: TestApp[] = [];
  afterAll(() => apps.forEach((testApp) => testApp.cleanup()));

  function build(overrides: Partial<StageConfig>, extra: { alarmTopic?: boolean } = {}): Template {
    const testApp = createTestApp({ skipBundling: true });
    apps.push(testApp);
    const stack = new Stack(testApp.app, 'OpsSettings');
    const alarmTopic = extra.alarmTopic ? new sns.Topic(stack, 'Alarms', { enforceSSL: true }) : undefined;
    new Operations(stack, 'Operations', { config: { ...config, ...overrides }, connectHost: connectUrl(config.connect), alarmTopic });
    return Template.fromStack(stack);
  }

  it('refuses an activity log kept less than a year', () => {
    expect(() => build({ activity: { ...config.activity, logRetention: RetentionDays.SIX_MONTHS } })).toThrow(/at least a year/);
  });

  it('refuses a rotation without items', () => {
    expect(() => build({ rotation: { ...config.rotation, items: [] } })).toThrow('stage staging: rotation.items is empty');
  });

  it('refuses a manifest too large for the canary environment', () => {
    const secrets = Object.fromEntries(Array.from({ length: 60 }, (_, index) => [`SECRET_${index}`, `op://op-lambda-staging/item-${index}/credential`]));
    expect(() => build({ functions: [{ ...config.functions[0]!, secrets }] })).toThrow(/manifest is \d+ bytes/);
  });

  it('sends alarms and recoveries to the topic it is given', () => {
    const template = build({}, { alarmTopic: true });
    const topicId = Object.keys(resourcesOfType(template, 'AWS::SNS::Topic'))[0]!;
    for (const alarm of Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties!.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties!.OKActions).toEqual([{ Ref: topicId }]);
    }
  });
});

