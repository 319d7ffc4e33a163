import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { WebhookReplayTable } from '../../infra/constructs/webhook-replay-table';

function synth(removalPolicy?: RemovalPolicy): { template: Template; stack: Stack; replay: WebhookReplayTable } {
  const stack = new Stack(new App(), 'Replay');
  const replay = new WebhookReplayTable(stack, 'WebhookReplay', removalPolicy === undefined ? {} : { removalPolicy });
  const fn = new lambda.Function(stack, 'Webhooks', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=()=>{}') });
  replay.grantRecord(fn);
  return { template: Template.fromStack(stack), stack, replay };
}

describe('WebhookReplayTable', () => {
  it('is an encrypted, point-in-time-recoverable, on-demand table keyed by pk, with TTL on expiresAt', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('is deleted with the stack by default, and kept when asked', () => {
    expect(Object.values(synth().template.findResources('AWS::DynamoDB::Table'))[0]!.DeletionPolicy).toBe('Delete');
    expect(Object.values(synth(RemovalPolicy.RETAIN).template.findResources('AWS::DynamoDB::Table'))[0]!.DeletionPolicy).toBe('Retain');
  });

  it('grants the function PutItem on exactly the table ARN, and nothing else', () => {
    const { template, stack, replay } = synth();
    const tableId = stack.getLogicalId(replay.table.node.defaultChild as never);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{ Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: [{ 'Fn::GetAtt': [tableId, 'Arn'] }] }],
      },
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => (policy.Properties.PolicyDocument as { Statement: { Action: unknown }[] }).Statement,
    );
    expect(statements.flatMap((statement) => [statement.Action].flat())).toEqual(['dynamodb:PutItem']);
  });

  it("names the table in the function's WEBHOOK_REPLAY_TABLE", () => {
    const { template, stack, replay } = synth();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { WEBHOOK_REPLAY_TABLE: { Ref: stack.getLogicalId(replay.table.node.defaultChild as never) } } },
    });
  });
});
