// The delivery ledger against dynalite: the SDK is created on the first delivery only, once, and a
// delivery claimed twice is a duplicate.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startLocalDynamo, type LocalDynamo } from '../../../../local/dynamo/local-dynamo';
import { DynamoDeliveryLedger, type DeliveryClaim } from '../../../../functions/webhooks/delivery-ledger';
import { REPLAY_TABLE_KEY } from '../../../../functions/webhooks/replay-contract';

const TABLE = 'replay-ledger-test';
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  await dynamo.createTable({
    name: TABLE,
    keySchema: [{ AttributeName: REPLAY_TABLE_KEY, KeyType: 'HASH' }],
    attributeDefinitions: [{ AttributeName: REPLAY_TABLE_KEY, AttributeType: 'S' }],
  });
});

afterAll(async () => {
  await dynamo.close();
});

function claimOf(key: string): DeliveryClaim {
  const nowSeconds = Math.floor(Date.now() / 1000);
  return { key, expiresAt: nowSeconds + 300, nowSeconds, deadlineAt: Date.now() + 5_000 };
}

function ledgerCountingClients(): { ledger: DynamoDeliveryLedger; created: () => number } {
  let created = 0;
  const ledger = new DynamoDeliveryLedger(TABLE, () => {
    created += 1;
    return new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  });
  return { ledger, created: () => created };
}

describe('DynamoDeliveryLedger', () => {
  it('creates no client before the first delivery, and one for every delivery after it', async () => {
    const { ledger, created } = ledgerCountingClients();
    const before = created();
    await ledger.claim(claimOf('test#lazy-1'));
    await ledger.claim(claimOf('test#lazy-2'));
    expect([before, created()]).toEqual([0, 1]);
  });

  it('answers duplicate for a delivery claimed before', async () => {
    const { ledger } = ledgerCountingClients();
    expect([await ledger.claim(claimOf('test#twice')), await ledger.claim(claimOf('test#twice'))]).toEqual(['first', 'duplicate']);
  });
});
