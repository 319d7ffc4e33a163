import { join } from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConnectToken } from '../../infra/constructs/connect-token';
import { SecretsFunction, type SecretsFunctionProps } from '../../infra/constructs/secrets-function';
import { tryParseReference } from '../../shared/secrets/reference';
import { createTestApp, PROJECT_ROOT, resourcesOfType, type TestApp, validationViolations } from './synth';

const ENTRY = join(PROJECT_ROOT, 'functions', 'health', 'handler.ts');
const TOKEN_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:op-lambda/test/connect-token-AbCdEf';

interface Statement {
  Action: string | string[];
  Resource: unknown;
}

function parserMessage(reference: string): string {
  const result = tryParseReference(reference);
  if (result.ok) throw new Error(`${reference} unexpectedly parses`);
  return result.error.message;
}

describe('SecretsFunction', () => {
  const apps: TestApp[] = [];
  afterAll(() => apps.forEach((testApp) => testApp.cleanup()));

  /** A stack with the Connect token secret imported by complete ARN; bundling skipped (code is not under test). */
  function newStack(): { stack: Stack; tokenSecret: secretsmanager.ISecret; testApp: TestApp } {
    const testApp = createTestApp({ skipBundling: true });
    apps.push(testApp);
    const stack = new Stack(testApp.app, 'Test');
    const tokenSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Token', TOKEN_ARN);
    return { stack, tokenSecret, testApp };
  }

  function create(overrides: Partial<SecretsFunctionProps> = {}, id = 'Fn'): { stack: Stack; fn: SecretsFunction } {
    const { stack, tokenSecret } = newStack();
    const fn = new SecretsFunction(stack, id, {
      entry: ENTRY,
      secrets: { DATABASE_URL: 'op://vault/database/connection/url' },
      connect: { host: 'https://connect.example.com', token: ConnectToken.fromSecret(tokenSecret) },
      ...overrides,
    });
    return { stack, fn };
  }

  function variablesOf(stack: Stack): Record<string, unknown> {
    const functions = Object.values(resourcesOfType(Template.fromStack(stack), 'AWS::Lambda::Function'));
    expect(functions).toHaveLength(1);
    return (functions[0]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
  }

  function statementsOf(stack: Stack): Statement[] {
    return Object.values(resourcesOfType(Template.fromStack(stack), 'AWS::IAM::Policy')).flatMap(
      (policy) => (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement,
    );
  }

  describe('with defaults', () => {
    let stack: Stack;
    let fn: SecretsFunction;
    beforeAll(() => ({ stack, fn } = create()));

    it('declares each secret as an environment variable holding its reference', () => {
      expect(variablesOf(stack)).toMatchObject({
        DATABASE_URL: 'op://vault/database/connection/url',
        OP_CONNECT_HOST: 'https://connect.example.com',
        OP_CONNECT_TOKEN_SECRET_ARN: TOKEN_ARN,
        POWERTOOLS_SERVICE_NAME: 'Fn',
        POWERTOOLS_METRICS_NAMESPACE: 'OpLambda',
      });
      expect(variablesOf(stack)).not.toHaveProperty('NODE_OPTIONS');
      expect(fn.secrets).toEqual({ DATABASE_URL: 'op://vault/database/connection/url' });
    });

    it('applies the documented defaults', () => {
      Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Timeout: 10,
        MemorySize: 512,
        Handler: 'start.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON' },
      });
      Template.fromStack(stack).hasResource('AWS::Logs::LogGroup', {
        Properties: { RetentionInDays: RetentionDays.ONE_YEAR },
        DeletionPolicy: 'Retain',
      });
    });

    it('grants GetSecretValue on exactly the token secret ARN', () => {
      const secretStatements = statementsOf(stack).filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
      expect(secretStatements).toEqual([
        expect.objectContaining({
          Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
          Resource: TOKEN_ARN,
        }),
      ]);
    });

    it('grants log writing on its own log group only, with no managed policy', () => {
      const logStatements = statementsOf(stack).filter((s) => [s.Action].flat().some((a) => a.startsWith('logs:')));
      expect(logStatements).toEqual([
        expect.objectContaining({
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [stack.getLogicalId(fn.logGroup.node.defaultChild as never), 'Arn'] },
        }),
      ]);
      const roles = Object.values(resourcesOfType(Template.fromStack(stack), 'AWS::IAM::Role'));
      expect(roles).toHaveLength(1);
      expect(roles[0]!.Properties!.ManagedPolicyArns).toBeUndefined();
    });

    it('measures its own service in the OpLambda namespace', () => {
      const metric = fn.metricSecretFailure();
      expect(metric.namespace).toBe('OpLambda');
      expect(metric.metricName).toBe('SecretFailure');
      expect(metric.dimensions).toEqual({ service: 'Fn' });
      expect(fn.metricSecretFetchLatency().statistic).toBe('p50');
    });
  });

  it('takes the service name from the function name', () => {
    const { stack, fn } = create({ functionName: 'op-lambda-test-health' });
    expect(fn.serviceName).toBe('op-lambda-test-health');
    expect(variablesOf(stack).POWERTOOLS_SERVICE_NAME).toBe('op-lambda-test-health');
  });

  it('honours timeout, memory, retention and handler props', () => {
    const { stack } = create({
      timeout: Duration.seconds(20),
      memorySize: 1024,
      logRetention: RetentionDays.TWO_YEARS,
      handler: 'main',
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 20, MemorySize: 1024, Handler: 'start.main' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: RetentionDays.TWO_YEARS });
  });

  it('loads the bundle directly when the early start is turned off', () => {
    const { stack } = create({ earlyStart: false, handler: 'main' });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.main' });
  });

  it('sets the revalidation interval the runtime reads: a minute unless told otherwise', () => {
    expect(variablesOf(create().stack)['OP_REVALIDATE_MS']).toBe('60000');
    expect(variablesOf(create({ revalidateInterval: Duration.seconds(30) }).stack)['OP_REVALIDATE_MS']).toBe('30000');
  });

  it('refuses a revalidation interval under a second, naming the function', () => {
    expect(() => create({ revalidateInterval: Duration.millis(500) })).toThrow(/Test\/Fn: revalidateInterval must be at least 1 second/);
  });

  it('treats an op:// environment value as a secret and keeps plain values plain', () => {
    const { stack, fn } = create({
      environment: { API_URL: 'https://api.example.com', OTP_CODE: 'op://vault/login/one-time password?attribute=otp' },
    });
    expect(fn.secrets).toEqual({
      DATABASE_URL: 'op://vault/database/connection/url',
      OTP_CODE: 'op://vault/login/one-time password?attribute=otp',
    });
    expect(variablesOf(stack)).toMatchObject({ API_URL: 'https://api.example.com' });
  });

  it('validates secrets added after construction', () => {
    const { stack, fn } = create();
    fn.addSecret('STRIPE_KEY', 'op://payments/stripe/credential');
    expect(fn.secrets).toHaveProperty('STRIPE_KEY', 'op://payments/stripe/credential');
    expect(variablesOf(stack)).toHaveProperty('STRIPE_KEY', 'op://payments/stripe/credential');
    expect(() => fn.addSecret('BROKEN', 'op://payments/stripe')).toThrow(
      `Test/Fn: secret BROKEN: ${parserMessage('op://payments/stripe')}`,
    );
    expect(fn.secrets).not.toHaveProperty('BROKEN');
    expect(() => fn.addSecret('STRIPE_KEY', 'op://payments/stripe/other')).toThrow('Test/Fn: secret name "STRIPE_KEY" is declared twice');
    expect(() => fn.addEnvironment('PLAIN-NAME', 'x')).toThrow(/Test\/Fn: environment variable name "PLAIN-NAME" is not a valid/);
  });

  it('lets other principals read the token secret through grantConnectTokenRead', () => {
    const { stack, fn } = create();
    const auditor = new iam.Role(stack, 'Auditor', { assumedBy: new iam.AccountRootPrincipal() });
    fn.grantConnectTokenRead(auditor);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(auditor.node.defaultChild as never) }],
      PolicyDocument: {
        Statement: [{ Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Effect: 'Allow', Resource: TOKEN_ARN }],
      },
    });
  });

  describe('its own Connect token', () => {
    const withToken = (stack: Stack, id: string, token: ConnectToken): SecretsFunction =>
      new SecretsFunction(stack, id, { entry: ENTRY, secrets: {}, connect: { host: 'https://connect.example.com', token } });

    it('imports a token known by name in its own scope and grants it as `<name>-??????`', () => {
      const { stack } = newStack();
      withToken(stack, 'Health', ConnectToken.fromSecretName('op-lambda/test/health/connect-token'));
      withToken(stack, 'Payments', ConnectToken.fromSecretName('op-lambda/test/payments/connect-token'));
      const granted = statementsOf(stack)
        .filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))
        .map((s) => JSON.stringify(s.Resource));
      expect(granted).toHaveLength(2);
      expect(granted.filter((resource) => resource.includes(':secret:op-lambda/test/health/connect-token-??????'))).toHaveLength(1);
      expect(granted.filter((resource) => resource.includes(':secret:op-lambda/test/payments/connect-token-??????'))).toHaveLength(1);
    });

    it('refuses a name that ends like a Secrets Manager suffix, pointing at the complete ARN', () => {
      const { stack } = newStack();
      expect(() => withToken(stack, 'Fn', ConnectToken.fromSecretName('op-lambda/connect-token-AbCdEf'))).toThrow(
        /Test\/Fn: Connect token secret name "op-lambda\/connect-token-AbCdEf" ends like a Secrets Manager suffix.*fromSecretCompleteArn/,
      );
    });

    it('fails synth when two functions share one token secret, naming both', () => {
      const { stack, testApp } = newStack();
      withToken(stack, 'Health', ConnectToken.fromSecretCompleteArn(TOKEN_ARN));
      withToken(stack, 'Payments', ConnectToken.fromSecretCompleteArn(TOKEN_ARN));
      expect(() => testApp.app.synth()).toThrow(/Test\/Health\] shares its Connect token secret with Test\/Payments|Test\/Health.*shares its Connect token secret with Test\/Payments/s);
    });
  });

  describe('template hygiene', () => {
    it('keeps X-Ray\'s "*" in a policy of its own: a "*" granted on the role later is a cdk-nag finding', () => {
      const { stack, testApp, tokenSecret } = newStack();
      Validations.of(testApp.app).addPlugins(new AwsSolutionsChecks(testApp.app));
      const fn = new SecretsFunction(stack, 'Fn', {
        entry: ENTRY,
        secrets: {},
        connect: { host: 'https://connect.example.com', token: ConnectToken.fromSecret(tokenSecret) },
      });
      fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
      expect(() => testApp.app.synth()).toThrow(/AwsSolutions-IAM5\[Resource::\*\]/);
      let report = '';
      try {
        testApp.app.synth();
      } catch (error) {
        report = (error as Error).message;
      }
      expect(report).toContain('Test/Fn/Role/DefaultPolicy/Resource');
      expect(report).not.toContain('Test/Fn/XRayWrite');
    });

    it('acknowledges IAM5 only for the X-Ray policy, naming the wildcard it covers, and synthesizes clean under cdk-nag', () => {
      const { stack, testApp, tokenSecret } = newStack();
      Validations.of(testApp.app).addPlugins(new AwsSolutionsChecks(testApp.app));
      const fn = new SecretsFunction(stack, 'Fn', {
        entry: ENTRY,
        secrets: {},
        connect: { host: 'https://connect.example.com', token: ConnectToken.fromSecret(tokenSecret) },
      });
      const acknowledged = (path: string): unknown[] =>
        stack.node.findChild('Fn').node.findAll().filter((node) => node.node.path === path).flatMap((node) => node.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data));
      expect(acknowledged('Test/Fn/XRayWrite')).toEqual([{ 'Annotation::AwsSolutions-IAM5[Resource::*]': expect.stringContaining('X-Ray') }]);
      expect(acknowledged(fn.role.node.path)).toEqual([]);
      Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
      expect(validationViolations(testApp.app)).toEqual([]);
    });
  });

  it('runs in a VPC when given one, with the network-interface permissions Lambda checks its own role for', () => {
    const { stack, tokenSecret } = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, restrictDefaultSecurityGroup: false });
    const group = new ec2.SecurityGroup(stack, 'Clients', { vpc });
    new SecretsFunction(stack, 'Fn', {
      entry: ENTRY,
      secrets: {},
      connect: { host: 'https://connect.example.com', token: ConnectToken.fromSecret(tokenSecret) },
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [group],
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SecurityGroupIds: [{ 'Fn::GetAtt': [stack.getLogicalId(group.node.defaultChild as never), 'GroupId'] }],
        SubnetIds: stack.resolve(vpc.privateSubnets.map((subnet) => subnet.subnetId)),
      },
    });
    const onAnyResource = statementsOf(stack).filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat());
    expect(onAnyResource).toEqual(expect.arrayContaining(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeNetworkInterfaces']));
    for (const role of Object.values(resourcesOfType(template, 'AWS::IAM::Role'))) expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
  });

  it('keeps the network-interface "*" in a policy of its own, acknowledged for those actions alone, and synthesizes clean under cdk-nag', () => {
    const { stack, testApp, tokenSecret } = newStack();
    Validations.of(testApp.app).addPlugins(new AwsSolutionsChecks(testApp.app));
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, restrictDefaultSecurityGroup: false });
    // The VPC's own findings are not the function's.
    Validations.of(vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'a throwaway VPC the test places the function in' });
    const fn = new SecretsFunction(stack, 'Fn', {
      entry: ENTRY,
      secrets: {},
      connect: { host: 'https://connect.example.com', token: ConnectToken.fromSecret(tokenSecret) },
      vpc,
    });
    const acknowledgedAt = (path: string): unknown[] =>
      fn.node.findAll().filter((node) => node.node.path === path).flatMap((node) => node.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data));
    expect(acknowledgedAt('Test/Fn/NetworkInterfaces')).toEqual([{ 'Annotation::AwsSolutions-IAM5[Resource::*]': expect.stringContaining('network-interface') }]);
    expect(acknowledgedAt(fn.role.node.path)).toEqual([]);
    const policies = Object.values(resourcesOfType(Template.fromStack(stack), 'AWS::IAM::Policy'));
    const defaultPolicy = policies.find((policy) => JSON.stringify(policy).includes('secretsmanager:GetSecretValue'))!;
    expect(JSON.stringify(defaultPolicy)).not.toContain('ec2:');
    expect(validationViolations(testApp.app)).toEqual([]);
  });

  it('holds no network-interface permission outside a VPC', () => {
    const { stack } = create();
    expect(statementsOf(stack).flatMap((s) => [s.Action].flat()).filter((action) => action.startsWith('ec2:'))).toEqual([]);
  });

  describe('rejects at synth', () => {
    it.each([
      ['an empty item', 'op://vault//field'],
      ['a missing prefix', 'postgres://db.example.com/app'],
      ['a forbidden character', 'op://vault/it&em/field'],
      ['too many segments', 'op://vault/item/section/field/extra'],
      ['an unknown attribute', 'op://vault/item/field?attribute=ssh'],
    ])('a reference with %s, naming the path, the variable, the reference and the position', (_case, reference) => {
      const attempt = (): unknown => create({ secrets: { DATABASE_URL: reference } }, 'Health');
      // The same parser as the runtime: its message, prefixed by where the reference was declared.
      expect(attempt).toThrow(`Test/Health: secret DATABASE_URL: ${parserMessage(reference)}`);
      expect(attempt).toThrow(`"${reference}"`);
      expect(attempt).toThrow(/ at position \d+/);
    });

    it.each([
      ['1DATABASE', 'is not a valid environment variable name'],
      ['DATABASE-URL', 'is not a valid environment variable name'],
      ['D', 'is not a valid environment variable name'],
      ['_HANDLER', 'is not a valid environment variable name'],
      ['AWS_REGION', 'is reserved by the Lambda runtime'],
      ['AWS_LAMBDA_FUNCTION_NAME', 'is reserved by the Lambda runtime'],
      ['OP_CONNECT_TOKEN', 'is set by SecretsFunction itself'],
      ['POWERTOOLS_SERVICE_NAME', 'is set by SecretsFunction itself'],
    ])('a secret named %s', (name, reason) => {
      expect(() => create({ secrets: { [name]: 'op://vault/item/field' } })).toThrow(`Test/Fn: secret name "${name}" ${reason}`);
    });

    it('a Connect token put in plain environment', () => {
      expect(() => create({ environment: { OP_CONNECT_TOKEN: 'eyJhbGciOi' } })).toThrow(
        'Test/Fn: environment variable name "OP_CONNECT_TOKEN" is set by SecretsFunction itself',
      );
    });

    it('a name declared both as environment and as secret', () => {
      expect(() =>
        create({ environment: { DATABASE_URL: 'postgres://localhost' }, secrets: { DATABASE_URL: 'op://vault/db/url' } }),
      ).toThrow('Test/Fn: secret name "DATABASE_URL" is declared twice');
    });

    it.each(['http://connect.example.com', 'connect.example.com', ''])('a Connect host %j that is not https', (host) => {
      const { stack, tokenSecret } = newStack();
      expect(
        () => new SecretsFunction(stack, 'Fn', { entry: ENTRY, secrets: {}, connect: { host, token: ConnectToken.fromSecret(tokenSecret) } }),
      ).toThrow(`Test/Fn: connect.host ${JSON.stringify(host)} must be an https:// URL`);
    });
  });
});
