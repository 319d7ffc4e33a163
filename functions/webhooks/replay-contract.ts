/**
 * Names the webhooks function and its CDK table agree on. Pure constants, so synth loads none of
 * the runtime.
 */

/** DynamoDB table of deliveries already accepted. */
export const REPLAY_TABLE_ENV = 'WEBHOOK_REPLAY_TABLE';
/** Partition key (string): the delivery key, see delivery-ledger.ts. */
export const REPLAY_TABLE_KEY = 'pk';
/** Unix seconds after which a record may go: the table's TTL attribute. */
export const REPLAY_EXPIRY_ATTRIBUTE = 'expiresAt';
