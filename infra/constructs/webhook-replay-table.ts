/**
 * The table of webhook deliveries already accepted, so that a captured delivery is processed at
 * most once (see functions/webhooks/delivery-ledger.ts). Records live minutes: DynamoDB's TTL
 * removes them once their `expiresAt` has passed.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { REPLAY_EXPIRY_ATTRIBUTE, REPLAY_TABLE_ENV, REPLAY_TABLE_KEY } from '../../functions/webhooks/replay-contract';

export interface WebhookReplayTableProps {
  /**
   * What happens to the table when it leaves the stack. Its records matter for minutes only, and
   * without the stack there is no API to replay deliveries to.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class WebhookReplayTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: WebhookReplayTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: REPLAY_TABLE_KEY, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: REPLAY_EXPIRY_ATTRIBUTE,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
  }

  /**
   * Lets the function record deliveries: `dynamodb:PutItem` on this table alone (it never reads,
   * updates or deletes), and the table's name in its WEBHOOK_REPLAY_TABLE.
   */
  grantRecord(fn: lambda.Function): iam.Grant {
    fn.addEnvironment(REPLAY_TABLE_ENV, this.table.tableName);
    return this.table.grant(fn, 'dynamodb:PutItem');
  }
}
