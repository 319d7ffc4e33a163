import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { connectUrl, STAGE_NAMES, type StageConfig, type StageName, stageConfig } from '../../infra/config';
import { defineApp } from '../../infra/define-app';
import type { IConstruct } from 'constructs';
import type { ApiStack } from '../../infra/stacks/api-stack';
import { AXIOS_UNUSED_MESSAGE } from '../../shared/secrets/connect/axios-unused';
import { createTestApp, functionLogicalId, resourcesOfType, type TestApp, validationViolations } from './synth';

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}

const XRAY_ACTIONS = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
/** What Lambda needs to attach a function to a VPC: EC2 takes no resource-level scoping for it. */
const NETWORK_INTERFACE_ACTIONS = [
  'ec2:AssignPrivateIpAddresses',
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:UnassignPrivateIpAddresses',
];
/** The scheduled functions of Operations, deployed beside the function table's. */
const OPS_FUNCTIONS = ['rotate', 'canary', 'activity'] as const;
/** Operations' alarms: the function and the failure metric each watches. */
const OPS_ALARMS = [
  ['canary', 'SecretCanaryFailed'],
  ['rotate', 'SecretRotationFailed'],
  ['activity', 'ActivityForwardFailed'],
] as const;

type Policies = ReturnType<typeof resourcesOfType>;

/** The policies attached to this role, by logical id: its default policy, its X-Ray policy and, in a VPC, its network-interface policy. */
function policiesOfRole(policies: Policies, roleId: string): Record<string, Statement[]> {
  const attached = Object.entries(policies).filter(([, policy]) => JSON.stringify(policy.Properties!.Roles) === JSON.stringify([{ Ref: roleId }]));
  return Object.fromEntries(attached.map(([id, policy]) => [id, (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement]));
}

/** The statements of every policy attached to this role. */
function statementsOfRole(policies: Policies, roleId: string): Statement[] {
  return Object.values(policiesOfRole(policies, roleId)).flat();
}

describe.each(STAGE_NAMES)('ApiStack for stage %s', (stage: StageName) => {
  const config: StageConfig = stageConfig(stage);
  let testApp: TestApp;
  let stack: ApiStack;
  let template: Template;

  beforeAll(() => {
    // One real synthesis (bundling included) per stage, shared by every test below.
    testApp = createTestApp({ context: { stage } });
    stack = defineApp(testApp.app);
    template = Template.fromStack(stack);
  }, 120_000);

  afterAll(() => testApp.cleanup());

  const functionName = (name: string): string => `op-lambda-${stage}-${name}`;
  const functionProps = (name: string): Record<string, unknown> =>
    resourcesOfType(template, 'AWS::Lambda::Function')[functionLogicalId(template, functionName(name))]!.Properties!;
  const roleLogicalId = (name: string): string => (functionProps(name).Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const logicalIdOf = (construct: IConstruct): string => stack.getLogicalId(construct.node.defaultChild as CfnElement);

  it('is named after its stage', () => {
    expect(stack.stackName).toBe(`OpLambda-${stage}`);
    expect(stack.node.id).toBe(`OpLambda-${stage}`);
  });

  it('deploys exactly the functions of the function table behind the API, plus the three operations functions', () => {
    const tableNames = config.functions.map((fn) => functionName(fn.name));
    // The API's functions: the stack's function map and the integrations' targets.
    expect([...stack.functions.keys()].sort()).toEqual(config.functions.map((fn) => fn.name).sort());
    for (const [name, fn] of stack.functions) expect(logicalIdOf(fn.function)).toBe(functionLogicalId(template, functionName(name)));
    const integrationTargets = Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Integration')).map(
      (integration) => (integration.Properties!.IntegrationUri as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0],
    );
    expect(new Set(integrationTargets)).toEqual(new Set(tableNames.map((name) => functionLogicalId(template, name))));
    // The stack's functions: those, and the scheduled ones of Operations.
    for (const op of OPS_FUNCTIONS) expect(logicalIdOf(stack.operations[op].function)).toBe(functionLogicalId(template, functionName(op)));
    const names = Object.values(resourcesOfType(template, 'AWS::Lambda::Function')).map((fn) => fn.Properties?.FunctionName);
    expect(names.sort()).toEqual([...tableNames, ...OPS_FUNCTIONS.map(functionName)].sort());
  });

  it.each(config.functions.map((fn) => [fn.name, fn] as const))('runs %s on nodejs24.x, arm64, traced, JSON logs', (name) => {
    expect(functionProps(name)).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON' },
      Timeout: 10,
      MemorySize: 512,
      Handler: 'start.handler',
    });
  });

  it.each(config.functions.map((fn) => [fn.name, fn] as const))('gives %s its references, Connect settings and Powertools names', (name, fn) => {
    const variables = (functionProps(name).Environment as { Variables: Record<string, unknown> }).Variables;
    for (const [variable, reference] of Object.entries(fn.secrets)) {
      expect(variable in variables && variables[variable]).toBe(reference);
      expect(Object.values(config.vaults).some((vault) => reference.startsWith(`op://${vault}/`))).toBe(true);
    }
    expect(variables).toMatchObject({
      ...fn.environment,
      OP_CONNECT_HOST: connectUrl(config.connect),
      POWERTOOLS_SERVICE_NAME: functionName(name),
      POWERTOOLS_METRICS_NAMESPACE: 'OpLambda',
    });
    expect(variables).not.toHaveProperty('NODE_OPTIONS');
    expect(JSON.stringify(variables.OP_CONNECT_TOKEN_SECRET_ARN)).toContain(`:secret:${fn.connectToken.secretName}`);
    expect(variables).not.toHaveProperty('OP_CONNECT_TOKEN');
  });

  it('gives the functions the declared secrets of the design', () => {
    const secretsOf = (name: string): Record<string, string> => config.functions.find((fn) => fn.name === name)!.secrets;
    const { database, webhooks, payments } = config.vaults;
    expect(secretsOf('health')).toEqual({ DATABASE_URL: `op://${database}/database/connection/url` });
    expect(secretsOf('webhooks')).toEqual({
      WEBHOOK_STRIPE_CURRENT: `op://${webhooks}/webhook-stripe/current`,
      WEBHOOK_STRIPE_PREVIOUS: `op://${webhooks}/webhook-stripe/previous`,
      WEBHOOK_GITHUB_CURRENT: `op://${webhooks}/webhook-github/current`,
      WEBHOOK_GITHUB_PREVIOUS: `op://${webhooks}/webhook-github/previous`,
    });
    expect(secretsOf('payments')).toEqual({ PAYMENTS_API_KEY: `op://${payments}/payments-api/credential` });
    // One vault per purpose: no two functions of the table read the same vault.
    expect(new Set(Object.values(config.vaults)).size).toBe(3);
    expect(config.functions.find((fn) => fn.name === 'payments')!.environment).toHaveProperty('PAYMENTS_API_URL');
  });

  it('gives each function its own role, without managed policies', () => {
    const roles = config.functions.map((fn) => JSON.stringify(functionProps(fn.name).Role));
    expect(new Set(roles).size).toBe(config.functions.length);
    for (const role of Object.values(resourcesOfType(template, 'AWS::IAM::Role'))) {
      expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('lets each function read its own Connect token secret and nothing else: only rotate reads the write token', () => {
    const writeToken = `:secret:${config.rotation.writeTokenSecretName}-??????`;
    const expected: [name: string, token: string][] = [
      ...config.functions.map((fn) => [fn.name, `:secret:${fn.connectToken.secretName}-??????`] as [string, string]),
      ['canary', `:secret:${config.operationsTokens.canary.secretName}-??????`],
      ['activity', `:secret:${config.operationsTokens.activity.secretName}-??????`],
      ['rotate', writeToken],
    ];
    expect(new Set(expected.map(([, token]) => token)).size).toBe(expected.length);
    const allPolicies = resourcesOfType(template, 'AWS::IAM::Policy');
    const functionRoles = new Set(expected.map(([name]) => roleLogicalId(name)));
    const policies = Object.fromEntries(
      Object.entries(allPolicies).filter(([, policy]) => (policy.Properties!.Roles as { Ref: string }[]).some((role) => functionRoles.has(role.Ref))),
    );
    const inVpc = config.connect.server !== undefined;
    // Per role: its default policy, X-Ray's and, in a VPC, the network interfaces'.
    expect(Object.keys(policies)).toHaveLength(expected.length * (inVpc ? 3 : 2));
    for (const [name, token] of expected) {
      const statements = statementsOfRole(policies, roleLogicalId(name));
      // X-Ray's "*" and the network interfaces' each live in a policy of their own, so no
      // acknowledgement covers the rest of the role.
      const starPolicies = Object.values(policiesOfRole(policies, roleLogicalId(name))).filter((policy) => policy.some((s) => s.Resource === '*'));
      const sortedActions = (policy: Statement[]): Statement[] => policy.map((s) => ({ ...s, Action: [s.Action].flat().sort() }));
      expect(starPolicies.map(sortedActions)).toEqual(
        expect.arrayContaining([
          [{ Action: XRAY_ACTIONS, Effect: 'Allow', Resource: '*' }],
          ...(inVpc ? [[{ Action: NETWORK_INTERFACE_ACTIONS, Effect: 'Allow', Resource: '*' }]] : []),
        ]),
      );
      expect(starPolicies).toHaveLength(inVpc ? 2 : 1);
      const secretStatements = statements.filter((s) => [s.Action].flat().some((action) => action.startsWith('secretsmanager:')));
      expect(secretStatements).toHaveLength(1);
      expect([secretStatements[0]!.Action].flat().sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
      const resource = JSON.stringify(secretStatements[0]!.Resource);
      expect(resource.endsWith(`${token}"]]}`)).toBe(true);
      expect(resource).not.toContain('*');
      for (const statement of statements) expect([statement.Action].flat().every((action) => !action.includes('*'))).toBe(true);
      // X-Ray and Lambda's VPC attachment accept no resource-level permissions: their actions are the only ones allowed on "*".
      const onAnyResource = statements.filter((s) => JSON.stringify(s.Resource).includes('*')).flatMap((s) => [s.Action].flat());
      expect(onAnyResource.sort()).toEqual([...(inVpc ? NETWORK_INTERFACE_ACTIONS : []), ...XRAY_ACTIONS].sort());
      const logStatement = statements.find((s) => [s.Action].flat().includes('logs:PutLogEvents'))!;
      expect(logStatement.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/LogGroup/), 'Arn'] });
      // Beyond its log group, X-Ray and its token, only the activity forwarder (its cursor table) and
      // the webhooks (their replay table) hold a grant.
      const others = statements.filter(
        (s) => ![s.Action].flat().some((action) => /^(logs|xray|secretsmanager|ec2):/.test(action)),
      );
      const tableGrants: Record<string, unknown[]> = {
        activity: [{ 'Fn::GetAtt': [logicalIdOf(stack.operations.cursorTable), 'Arn'] }],
        webhooks: [{ 'Fn::GetAtt': [logicalIdOf(stack.replayTable!.table), 'Arn'] }],
      };
      expect(others.map((s) => s.Resource)).toEqual(tableGrants[name] ?? []);
    }
    // No other policy anywhere in the stack names the write token.
    const rotatePolicies = Object.entries(policies).filter(
      ([, policy]) => JSON.stringify(policy.Properties!.Roles).includes(`"${roleLogicalId('rotate')}"`) && JSON.stringify(policy).includes(writeToken),
    );
    const mentionsWriteToken = Object.entries(template.toJSON().Resources as Record<string, { Type: string }>)
      .filter(([, resource]) => resource.Type.startsWith('AWS::IAM::') && JSON.stringify(resource).includes(writeToken))
      .map(([id]) => id);
    expect(mentionsWriteToken).toEqual(rotatePolicies.map(([id]) => id));
  });

  it('keeps webhook deliveries in a TTL table the webhooks function may only PutItem into', () => {
    const tableId = logicalIdOf(stack.replayTable!.table);
    const table = resourcesOfType(template, 'AWS::DynamoDB::Table')[tableId]!;
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect((functionProps('webhooks').Environment as { Variables: Record<string, unknown> }).Variables['WEBHOOK_REPLAY_TABLE']).toEqual({ Ref: tableId });
    const grants = statementsOfRole(resourcesOfType(template, 'AWS::IAM::Policy'), roleLogicalId('webhooks')).filter((s) => JSON.stringify(s.Resource).includes(tableId));
    expect(grants).toEqual([{ Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: { 'Fn::GetAtt': [tableId, 'Arn'] } }]);
    for (const fn of config.functions.filter((candidate) => candidate.name !== 'webhooks')) expect(JSON.stringify(functionProps(fn.name))).not.toContain(tableId);
  });

  it('routes each path to its function', () => {
    const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route');
    const integrations = resourcesOfType(template, 'AWS::ApiGatewayV2::Integration');
    const routeKeys = Object.values(routes).map((route) => route.Properties!.RouteKey);
    expect(routeKeys.sort()).toEqual(['GET /health', 'POST /payments', 'POST /webhooks/{source}']);
    for (const fn of config.functions) {
      for (const { method, path } of fn.routes) {
        const route = Object.values(routes).find((r) => r.Properties!.RouteKey === `${method} ${path}`)!;
        const target = route.Properties!.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
        const integration = integrations[target['Fn::Join'][1][1].Ref]!;
        expect(integration.Properties).toMatchObject({
          IntegrationType: 'AWS_PROXY',
          PayloadFormatVersion: '2.0',
          IntegrationUri: { 'Fn::GetAtt': [functionLogicalId(template, functionName(fn.name)), 'Arn'] },
        });
      }
    }
  });

  it('puts POST /payments behind the stage\'s JWT authorizer with its scope; health and webhooks stay public', () => {
    const authorizers = Object.entries(resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer'));
    expect(authorizers).toHaveLength(1);
    const [authorizerId, authorizer] = authorizers[0]!;
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: config.authorizer.issuer, Audience: [...config.authorizer.audience] },
    });
    const byKey = Object.fromEntries(
      Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Route')).map((route) => [route.Properties!.RouteKey as string, route.Properties!]),
    );
    expect(byKey['POST /payments']).toMatchObject({
      AuthorizationType: 'JWT',
      AuthorizerId: { Ref: authorizerId },
      AuthorizationScopes: [config.authorizer.paymentsScope],
    });
    for (const key of ['GET /health', 'POST /webhooks/{source}']) {
      expect([key, byKey[key]!.AuthorizationType ?? 'NONE']).toEqual([key, 'NONE']);
      expect(byKey[key]!.AuthorizerId).toBeUndefined();
    }
  });

  it('throttles the default stage and writes JSON access logs', () => {
    const stages = Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Stage'));
    expect(stages).toHaveLength(1);
    const props = stages[0]!.Properties! as {
      StageName: string;
      AutoDeploy: boolean;
      DefaultRouteSettings: Record<string, number>;
      AccessLogSettings: { DestinationArn: unknown; Format: string };
    };
    expect(props.StageName).toBe('$default');
    expect(props.AutoDeploy).toBe(true);
    expect(props.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: config.throttle.rateLimit,
      ThrottlingBurstLimit: config.throttle.burstLimit,
    });
    expect(props.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^AccessLogs/), 'Arn'] });
    expect(JSON.parse(props.AccessLogSettings.Format)).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
    });
  });

  it('keeps function logs (the audit trail) at least a year, and access logs as configured', () => {
    const logGroups = resourcesOfType(template, 'AWS::Logs::LogGroup');
    const functionGroups = config.functions.map((fn) => {
      const ref = (functionProps(fn.name).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      return logGroups[ref]!;
    });
    for (const group of functionGroups) {
      expect(group.Properties!.RetentionInDays).toBe(config.auditLogRetention);
      expect(group.Properties!.RetentionInDays as number).toBeGreaterThanOrEqual(RetentionDays.ONE_YEAR);
      expect(group.DeletionPolicy).toBe('Retain');
    }
    const accessLogs = Object.entries(logGroups).find(([id]) => id.startsWith('AccessLogs'))![1];
    expect(accessLogs.Properties!.RetentionInDays).toBe(config.logRetention);
  });

  it('alarms on secret failures, stale values and Lambda errors of every function', () => {
    for (const fn of config.functions) {
      const service = functionName(fn.name);
      for (const metricName of ['SecretFailure', 'SecretStaleServed']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'OpLambda',
          MetricName: metricName,
          Dimensions: [{ Name: 'service', Value: service }],
          Statistic: 'Sum',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
        });
      }
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionLogicalId(template, service) } }],
      });
    }
    // Operations alarms on its own failures, one alarm per scheduled function.
    for (const [op, metricName] of OPS_ALARMS) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'OpLambda',
        MetricName: metricName,
        Dimensions: [{ Name: 'service', Value: functionName(op) }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
    // The stage's Connect server: unhealthy targets, its own 5xx and its load balancer's.
    const connectAlarms = config.connect.server ? 3 : 0;
    template.resourceCountIs('AWS::CloudWatch::Alarm', config.functions.length * 3 + OPS_ALARMS.length + connectAlarms);
  });

  it('notifies nobody when no alarm email is configured', () => {
    expect(config.alarmEmail).toBeUndefined();
    template.resourceCountIs('AWS::SNS::Topic', 0);
  });

  it('defines the "who read which secret" query over every function log group', () => {
    const queries = Object.values(resourcesOfType(template, 'AWS::Logs::QueryDefinition'));
    expect(queries).toHaveLength(1);
    const query = queries[0]!.Properties! as { Name: string; QueryString: string; LogGroupNames: unknown[] };
    expect(query.Name).toBe(`op-lambda-${stage}/who-read-which-secret`);
    expect(query.QueryString).toContain('filter event = "secret.access"');
    for (const field of ['names', 'principal', 'awsRequestId', 'route']) expect(query.QueryString).toContain(field);
    const functionGroupRefs = config.functions.map((fn) => (functionProps(fn.name).LoggingConfig as { LogGroup: unknown }).LogGroup);
    expect(query.LogGroupNames).toEqual(functionGroupRefs);
  });

  it('has a dashboard of fetch latency, cache hits, fetches, failures and stale values per function', () => {
    const dashboards = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]!.Properties!.DashboardName).toBe(`op-lambda-${stage}`);
    const body = JSON.stringify(dashboards[0]!.Properties!.DashboardBody);
    for (const fn of config.functions) expect(body).toContain(functionName(fn.name));
    for (const metric of ['SecretFetchLatency', 'SecretCacheHit', 'SecretFetch', 'SecretFailure', 'SecretStaleServed']) {
      expect(body).toContain(`\\"${metric}\\"`);
    }
    expect(body).toContain('p99');
    expect(body).toContain('p50');
  });

  it('outputs the API URL', () => {
    template.hasOutput('ApiUrl', { Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
  });

  it('records asset and path metadata for the local emulator', () => {
    for (const fn of config.functions) {
      const metadata = resourcesOfType(template, 'AWS::Lambda::Function')[functionLogicalId(template, functionName(fn.name))]!.Metadata!;
      expect(metadata['aws:asset:path']).toMatch(/^asset\.[0-9a-f]{64}$/);
      expect(metadata['aws:cdk:path']).toBe(`OpLambda-${stage}/${fn.name[0]!.toUpperCase()}${fn.name.slice(1)}/Function/Resource`);
    }
  });

  it('bundles a stub in place of axios wherever @1password/connect is bundled, and axios nowhere', () => {
    const sdkUsers = [...config.functions.map((fn) => fn.name), 'canary'];
    for (const name of [...config.functions.map((fn) => fn.name), ...OPS_FUNCTIONS]) {
      const metadata = resourcesOfType(template, 'AWS::Lambda::Function')[functionLogicalId(template, functionName(name))]!.Metadata!;
      const assetDir = join(testApp.app.outdir, metadata['aws:asset:path'] as string);
      const { sources } = JSON.parse(readFileSync(join(assetDir, 'index.js.map'), 'utf8')) as { sources: string[] };
      expect(sources.filter((source) => source.includes('node_modules/axios/'))).toEqual([]);
      const bundlesSdk = sources.some((source) => source.includes('node_modules/@1password/connect/'));
      expect([name, bundlesSdk]).toEqual([name, sdkUsers.includes(name)]);
      expect(sources.some((source) => source.endsWith('shared/secrets/connect/axios-unused.ts'))).toBe(bundlesSdk);
      expect(readFileSync(join(assetDir, 'index.js'), 'utf8').includes(AXIOS_UNUSED_MESSAGE)).toBe(bundlesSdk);
    }
  });

  it('builds start.mjs, the module Lambda loads first, beside each function bundle', () => {
    for (const fn of config.functions) {
      const resource = resourcesOfType(template, 'AWS::Lambda::Function')[functionLogicalId(template, functionName(fn.name))]!;
      const assetDir = join(testApp.app.outdir, resource.Metadata!['aws:asset:path'] as string);
      const start = readFileSync(join(assetDir, 'start.mjs'), 'utf8');
      expect([fn.name, resource.Properties!.Handler, start.includes('"./index.js"')]).toEqual([fn.name, 'start.handler', true]);
    }
  });

  it('is environment-agnostic without an account and region', () => {
    expect(stack.environment).toBe('aws://unknown-account/unknown-region');
  });

  it('passes cdk-nag AwsSolutions with no unacknowledged finding', () => {
    expect(validationViolations(testApp.app)).toEqual([]);
  });

  it('carries no error or warning annotation', () => {
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('protects the prod stack from deletion', () => {
    expect(stack.terminationProtection).toBe(stage === 'prod');
  });
});
