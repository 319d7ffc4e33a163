import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { type StageConfig, stageConfig } from '../../infra/config';
import type { SecretsFunction } from '../../infra/constructs/secrets-function';
import { defineApp } from '../../infra/define-app';
import { tryParseReference } from '../../shared/secrets/reference';
import { createTestApp, resourcesOfType, type TestApp, validationViolations } from './synth';

function captureError(body: () => unknown): Error {
  try {
    body();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

const TOKEN_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:op-lambda/staging/connect-token-AbCdEf';

describe('defineApp', () => {
  const apps: TestApp[] = [];
  afterAll(() => apps.forEach((testApp) => testApp.cleanup()));

  /** Construct logic only: bundling skipped. */
  function appWith(context: Record<string, unknown> = {}): TestApp {
    const testApp = createTestApp({ context, skipBundling: true });
    apps.push(testApp);
    return testApp;
  }

  function withEnv<T>(variables: Record<string, string | undefined>, body: () => T): T {
    const saved = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
    const assign = (values: Record<string, string | undefined>): void => {
      for (const [name, value] of Object.entries(values)) {
        if (value === undefined) Reflect.deleteProperty(process.env, name);
        else process.env[name] = value;
      }
    };
    assign(variables);
    try {
      return body();
    } finally {
      assign(saved);
    }
  }

  const noCliEnvironment = { CDK_DEFAULT_ACCOUNT: undefined, CDK_DEFAULT_REGION: undefined };

  it('builds the staging stack when no stage is given', () => {
    const stack = withEnv(noCliEnvironment, () => defineApp(appWith().app));
    expect(stack.stackName).toBe('OpLambda-staging');
  });

  it('builds the prod stack with -c stage=prod', () => {
    const stack = withEnv(noCliEnvironment, () => defineApp(appWith({ stage: 'prod' }).app));
    expect(stack.stackName).toBe('OpLambda-prod');
    expect(JSON.stringify(Template.fromStack(stack).toJSON())).toContain('op://op-lambda-prod-payments/');
  });

  it('names the known stages when given an unknown one', () => {
    expect(() => defineApp(appWith({ stage: 'dev' }).app)).toThrow(
      'Unknown stage "dev": expected one of staging, prod (select it with -c stage=<name>)',
    );
  });

  it('stays environment-agnostic when the CLI knows a region but no account', () => {
    const stack = withEnv({ CDK_DEFAULT_ACCOUNT: undefined, CDK_DEFAULT_REGION: 'us-east-1' }, () => defineApp(appWith().app));
    expect(stack.environment).toBe('aws://unknown-account/unknown-region');
  });

  it('targets the CLI account and region when it knows both', () => {
    const stack = withEnv({ CDK_DEFAULT_ACCOUNT: '111122223333', CDK_DEFAULT_REGION: 'eu-central-1' }, () =>
      defineApp(appWith().app),
    );
    expect(stack.environment).toBe('aws://111122223333/eu-central-1');
  });

  it('prefers the account and region of the config', () => {
    const config: StageConfig = { ...stageConfig('staging'), account: '444455556666', region: 'eu-west-1' };
    const stack = withEnv({ CDK_DEFAULT_ACCOUNT: '111122223333', CDK_DEFAULT_REGION: 'eu-central-1' }, () =>
      defineApp(appWith().app, { config }),
    );
    expect(stack.environment).toBe('aws://444455556666/eu-west-1');
  });

  it('fails synth on a bad reference in the function table, naming the construct, the variable and the reference', () => {
    const base = stageConfig('staging');
    const badReference = `op://${base.vaults.database}/database//url`;
    const config: StageConfig = {
      ...base,
      functions: base.functions.map((fn) => (fn.name === 'health' ? { ...fn, secrets: { DATABASE_URL: badReference } } : fn)),
    };
    const parsed = tryParseReference(badReference);
    expect(parsed.ok).toBe(false);
    const attempt = (): unknown => defineApp(appWith().app, { config });
    expect(attempt).toThrow(`OpLambda-staging/Health: secret DATABASE_URL: ${parsed.ok ? '' : parsed.error.message}`);
    expect(attempt).toThrow(/at position \d+/);
  });

  it('fails synth on an invalid environment variable name in the function table', () => {
    const base = stageConfig('staging');
    const config: StageConfig = {
      ...base,
      functions: base.functions.map((fn) => (fn.name === 'payments' ? { ...fn, environment: { 'PAYMENTS-URL': 'https://x' } } : fn)),
    };
    expect(() => defineApp(appWith().app, { config })).toThrow(
      'OpLambda-staging/Payments: environment variable name "PAYMENTS-URL" is not a valid environment variable name',
    );
  });

  it('grants each function exactly its own token secret when the config gives complete ARNs', () => {
    const base = stageConfig('staging');
    const arnOf = (name: string): string => TOKEN_ARN.replace('connect-token', `${name}/connect-token`);
    const config: StageConfig = {
      ...base,
      functions: base.functions.map((fn) => ({ ...fn, connectToken: { ...fn.connectToken, secretArn: arnOf(fn.name) } })),
      operationsTokens: {
        canary: { ...base.operationsTokens.canary, secretArn: arnOf('canary') },
        activity: { ...base.operationsTokens.activity, secretArn: arnOf('activity') },
      },
    };
    const stack = defineApp(appWith().app, { config });
    const template = Template.fromStack(stack);
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');
    const policies = resourcesOfType(template, 'AWS::IAM::Policy');
    /** The function's token secret: what its role may read, and what its environment names. */
    const tokenOf = (fn: SecretsFunction): { granted: unknown[]; variable: unknown } => {
      const roleId = stack.getLogicalId(fn.role.node.defaultChild as CfnElement);
      const granted = Object.values(policies)
        .filter((policy) => JSON.stringify(policy.Properties!.Roles) === JSON.stringify([{ Ref: roleId }]))
        .flatMap((policy) => (policy.Properties!.PolicyDocument as { Statement: { Action: string[]; Resource: unknown }[] }).Statement)
        .filter((s) => s.Action.includes('secretsmanager:GetSecretValue'))
        .map((s) => s.Resource);
      const properties = functions[stack.getLogicalId(fn.function.node.defaultChild as CfnElement)]!.Properties!;
      return { granted, variable: (properties.Environment as { Variables: Record<string, unknown> }).Variables.OP_CONNECT_TOKEN_SECRET_ARN };
    };
    const { rotate, canary, activity } = stack.operations;
    expect(stack.functions.size).toBe(base.functions.length);
    const readers = new Map([...stack.functions, ['canary', canary], ['activity', activity]]);
    expect(Object.keys(functions)).toHaveLength(readers.size + 1);
    for (const [name, fn] of readers) expect([name, tokenOf(fn)]).toEqual([name, { granted: [arnOf(name)], variable: arnOf(name) }]);
    // The write token has no ARN in the config: rotate names it, by name, and reads nothing else.
    const writeTokenArn = stack.resolve(stack.operations.writeTokenSecret.secretArn) as unknown;
    expect(JSON.stringify(writeTokenArn)).toContain(`:secret:${base.rotation.writeTokenSecretName}`);
    expect(tokenOf(rotate)).toEqual({ granted: [expect.anything()], variable: writeTokenArn });
    expect(JSON.stringify(tokenOf(rotate).granted)).toContain(`:secret:${base.rotation.writeTokenSecretName}-??????`);
    expect(JSON.stringify(tokenOf(rotate).granted)).not.toContain(':secret:op-lambda/staging/connect-token');
  });

  it('refuses a token secret name that looks like it carries a Secrets Manager suffix', () => {
    const base = stageConfig('staging');
    const config: StageConfig = {
      ...base,
      functions: base.functions.map((fn) => (fn.name === 'health' ? { ...fn, connectToken: { secretName: 'op-lambda/connect-token-AbCdEf' } } : fn)),
    };
    expect(() => defineApp(appWith().app, { config })).toThrow(/OpLambda-staging\/Health: Connect token secret name .* use ConnectToken\.fromSecretCompleteArn/);
  });

  it('refuses a route that has neither an authorizer nor a reason to be public', () => {
    const base = stageConfig('staging');
    const config: StageConfig = {
      ...base,
      functions: base.functions.map((fn) => (fn.name === 'payments' ? { ...fn, routes: [{ method: fn.routes[0]!.method, path: '/payments' }] } : fn)),
    };
    expect(() => defineApp(appWith().app, { config })).toThrow('function payments: route POST /payments has neither authorizationScopes nor publicBecause');
  });

  it('refuses an authorizer issuer that is not https', () => {
    const base = stageConfig('staging');
    const config: StageConfig = { ...base, authorizer: { ...base.authorizer, issuer: 'http://auth.example.com' } };
    expect(() => defineApp(appWith().app, { config })).toThrow('authorizer.issuer "http://auth.example.com" must be an https:// URL');
  });

  describe('with an alarm email', () => {
    let testApp: TestApp;
    let template: Template;
    beforeAll(() => {
      testApp = appWith();
      template = Template.fromStack(defineApp(testApp.app, { config: { ...stageConfig('prod'), alarmEmail: 'ops@example.com' } }));
    });

    it('emails alarms through a KMS-encrypted, TLS-only topic', () => {
      const topics = resourcesOfType(template, 'AWS::SNS::Topic');
      expect(Object.keys(topics)).toHaveLength(1);
      const [topicId, topic] = Object.entries(topics)[0]!;
      expect(topic.Properties!.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/AlarmTopicKey/), 'Arn'] });
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topicId } });
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      const topicPolicy = JSON.stringify(Object.values(resourcesOfType(template, 'AWS::SNS::TopicPolicy'))[0]!.Properties);
      expect(topicPolicy).toContain('aws:SecureTransport');
      for (const alarm of Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'))) {
        expect(alarm.Properties!.AlarmActions).toEqual([{ Ref: topicId }]);
        expect(alarm.Properties!.OKActions).toEqual([{ Ref: topicId }]);
      }
    });

    it('lets CloudWatch use the topic key', () => {
      const keyPolicy = JSON.stringify(Object.values(resourcesOfType(template, 'AWS::KMS::Key'))[0]!.Properties!.KeyPolicy);
      expect(keyPolicy).toContain('cloudwatch.amazonaws.com');
      expect(keyPolicy).toContain('kms:GenerateDataKey*');
    });

    it('stays clean under cdk-nag', () => {
      expect(validationViolations(testApp.app)).toEqual([]);
    });
  });

  it('runs cdk-nag AwsSolutions over the app: an unacknowledged finding fails synth', () => {
    const testApp = appWith();
    const stack = defineApp(testApp.app);
    new sns.Topic(stack, 'PlainTopic');
    const failure = captureError(() => testApp.app.synth());
    expect(failure.message).toContain('AwsSolutions-SNS3');
    expect(failure.message).toContain('OpLambda-staging/PlainTopic/Resource');
  });
});
