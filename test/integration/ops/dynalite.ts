// The local DynamoDB of the emulation, with a helper for the activity cursor's table shape.
import { startLocalDynamo, type LocalDynamo as Dynamo } from '../../../local/dynamo/local-dynamo';
import { CURSOR_TABLE_KEY } from '../../../shared/ops/contract';

export interface LocalDynamo extends Dynamo {
  createCursorTable(name: string): Promise<void>;
}

export async function startDynalite(): Promise<LocalDynamo> {
  const dynamo = await startLocalDynamo();
  return {
    ...dynamo,
    createCursorTable: (name) =>
      dynamo.createTable({
        name,
        keySchema: [{ AttributeName: CURSOR_TABLE_KEY, KeyType: 'HASH' }],
        attributeDefinitions: [{ AttributeName: CURSOR_TABLE_KEY, AttributeType: 'S' }],
      }),
  };
}
