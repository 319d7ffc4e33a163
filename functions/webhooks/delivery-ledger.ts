/**
 * Deliveries already accepted, kept in DynamoDB so that a captured delivery is processed at most
 * once, whichever container it reaches.
 *
 * The delivery key is the source and a SHA-256 of what the sender signed (`<t>.<raw body>`), not
 * a delivery id: neither source's delivery id (GitHub's `X-GitHub-Delivery` header) is covered by
 * the signature, so a replayer could change it at will; nor the signature header as sent, which a
 * replayer can reorder or pad with `v0=` entries. What was signed cannot change without a new
 * signature. A sender's retry of the same event is signed anew (new `t`), so it is a new delivery.
 *
 * A record is written with one conditional PutItem and lives until the delivery's timestamp falls
 * out of the tolerance window (the table's TTL removes it later; until then the condition treats an
 * expired record as absent).
 */
import { createHash } from 'node:crypto';
import type { DynamoDBClient, PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import { REPLAY_EXPIRY_ATTRIBUTE, REPLAY_TABLE_KEY } from './replay-contract';

export type ClaimOutcome = 'first' | 'duplicate';

/** The ledger could not be reached or refused the write: whether the delivery is new is unknown. */
export class DeliveryLedgerUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`the delivery ledger is unavailable (${reason})`);
    this.name = 'DeliveryLedgerUnavailableError';
  }
}

export interface Delivery {
  source: string;
  /** The signature's timestamp, unix seconds. */
  signedAt: number;
  rawBody: Buffer;
}

export interface DeliveryClaim {
  key: string;
  /** Unix seconds after which the delivery is stale anyway, so its record is no longer needed. */
  expiresAt: number;
  nowSeconds: number;
  /** Epoch ms by which the ledger must have answered. */
  deadlineAt: number;
}

export interface DeliveryLedger {
  /** Records the delivery; 'duplicate' when it was recorded before. Rejects with DeliveryLedgerUnavailableError. */
  claim(claim: DeliveryClaim): Promise<ClaimOutcome>;
}

/** `<source>#<hex SHA-256 of "<t>.<raw body>">`: no secret, no signature. */
export function deliveryKey(delivery: Delivery): string {
  const digest = createHash('sha256').update(`${delivery.signedAt}.`).update(delivery.rawBody).digest('hex');
  return `${delivery.source}#${digest}`;
}

type DynamoSdk = typeof import('@aws-sdk/client-dynamodb');

interface Connection {
  sdk: DynamoSdk;
  client: DynamoDBClient;
}

/**
 * The ledger in a DynamoDB table. The SDK is loaded on the first delivery, not at INIT: evaluating
 * it costs a cold start tens of milliseconds, and a cold start for a health check or a bad
 * signature never needs it.
 */
export class DynamoDeliveryLedger implements DeliveryLedger {
  private connection: Promise<Connection> | undefined;

  constructor(
    private readonly tableName: string,
    /** @default a client configured from the environment, as Lambda provides it */
    private readonly createClient: (sdk: DynamoSdk) => DynamoDBClient = (sdk) => new sdk.DynamoDBClient({}),
  ) {}

  async claim(claim: DeliveryClaim): Promise<ClaimOutcome> {
    let sdk: DynamoSdk | undefined;
    try {
      const connection = await this.connect();
      sdk = connection.sdk;
      const timeoutMs = claim.deadlineAt - Date.now();
      if (timeoutMs <= 0) throw new DeliveryLedgerUnavailableError('no time left');
      await connection.client.send(new sdk.PutItemCommand(this.put(claim)), { abortSignal: AbortSignal.timeout(timeoutMs) });
      return 'first';
    } catch (error) {
      if (sdk && error instanceof sdk.ConditionalCheckFailedException) return 'duplicate';
      if (error instanceof DeliveryLedgerUnavailableError) throw error;
      throw new DeliveryLedgerUnavailableError(errorName(error));
    }
  }

  private connect(): Promise<Connection> {
    this.connection ??= import('@aws-sdk/client-dynamodb').then((sdk) => ({ sdk, client: this.createClient(sdk) }));
    return this.connection;
  }

  private put(claim: DeliveryClaim): PutItemCommandInput {
    return {
      TableName: this.tableName,
      Item: { [REPLAY_TABLE_KEY]: { S: claim.key }, [REPLAY_EXPIRY_ATTRIBUTE]: { N: String(claim.expiresAt) } },
      // TTL deletes expired items within days, not at once: an expired record counts as absent.
      ConditionExpression: 'attribute_not_exists(#key) OR #expiresAt < :now',
      ExpressionAttributeNames: { '#key': REPLAY_TABLE_KEY, '#expiresAt': REPLAY_EXPIRY_ATTRIBUTE },
      ExpressionAttributeValues: { ':now': { N: String(claim.nowSeconds) } },
    };
  }
}

/** The error's name (e.g. `ResourceNotFoundException`, `TimeoutError`), never its message. */
function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'unknown';
}
