/**
 * Where the activity forwarder is up to in Connect's activity log, kept in DynamoDB.
 *
 * The cursor is the number of entries already forwarded (`offset`) and the requestId of the last
 * one (`anchor`). It only moves by a conditional write on the offset the writer read, so of two
 * overlapping runs that read the same cursor exactly one can claim the next page: the other is
 * told so, and re-reads.
 */
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CURSOR_TABLE_KEY } from './contract';

export interface ActivityCursor {
  /** Entries of the activity log already claimed, counted from its start. */
  offset: number;
  /** requestId of the entry at `offset - 1`, to notice a log that restarted underneath us. */
  anchor?: string;
}

const START_CURSOR: ActivityCursor = { offset: 0 };

export interface CursorStore {
  read(): Promise<ActivityCursor>;
  /** Moves the cursor from `expected` to `next`; false when another run moved it first. */
  claim(expected: ActivityCursor, next: ActivityCursor): Promise<boolean>;
}

export class DynamoCursorStore implements CursorStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    /** One cursor per Connect server the table serves. */
    private readonly cursorId = 'activity-cursor',
  ) {}

  async read(): Promise<ActivityCursor> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: this.key(), ConsistentRead: true }),
    );
    if (!Item?.offset?.N) return START_CURSOR;
    return { offset: Number(Item.offset.N), ...(Item.anchor?.S ? { anchor: Item.anchor.S } : {}) };
  }

  async claim(expected: ActivityCursor, next: ActivityCursor): Promise<boolean> {
    try {
      if (expected.offset === 0 && expected.anchor === undefined) await this.client.send(this.create(next));
      else await this.client.send(this.advance(expected, next));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** The first claim ever: only if no run has created the cursor yet. */
  private create(next: ActivityCursor): PutItemCommand {
    return new PutItemCommand({
      TableName: this.tableName,
      Item: { ...this.key(), ...cursorAttributes(next) },
      ConditionExpression: 'attribute_not_exists(#pk) OR (#offset = :zero AND attribute_not_exists(#anchor))',
      ExpressionAttributeNames: { '#pk': CURSOR_TABLE_KEY, '#offset': 'offset', '#anchor': 'anchor' },
      ExpressionAttributeValues: { ':zero': { N: '0' } },
    });
  }

  private advance(expected: ActivityCursor, next: ActivityCursor): UpdateItemCommand {
    const anchorCondition = expected.anchor === undefined ? 'attribute_not_exists(#anchor)' : '#anchor = :expectedAnchor';
    return new UpdateItemCommand({
      TableName: this.tableName,
      Key: this.key(),
      UpdateExpression: next.anchor === undefined ? 'SET #offset = :next, #updatedAt = :now REMOVE #anchor' : 'SET #offset = :next, #anchor = :anchor, #updatedAt = :now',
      ConditionExpression: `#offset = :expected AND ${anchorCondition}`,
      ExpressionAttributeNames: { '#offset': 'offset', '#anchor': 'anchor', '#updatedAt': 'updatedAt' },
      ExpressionAttributeValues: {
        ':expected': { N: String(expected.offset) },
        ':next': { N: String(next.offset) },
        ':now': { S: new Date().toISOString() },
        ...(expected.anchor === undefined ? {} : { ':expectedAnchor': { S: expected.anchor } }),
        ...(next.anchor === undefined ? {} : { ':anchor': { S: next.anchor } }),
      },
    });
  }

  private key(): Record<string, { S: string }> {
    return { [CURSOR_TABLE_KEY]: { S: this.cursorId } };
  }
}

function cursorAttributes(cursor: ActivityCursor): Record<string, { S: string } | { N: string }> {
  return {
    offset: { N: String(cursor.offset) },
    updatedAt: { S: new Date().toISOString() },
    ...(cursor.anchor === undefined ? {} : { anchor: { S: cursor.anchor } }),
  };
}
