/**
 * A real local DynamoDB (dynalite, in memory) on an ephemeral loopback port, with the tables a
 * synthesized template declares: what the functions' tables (activity cursor, webhook replay) are
 * on this machine. TTL is not emulated: the functions never rely on expired items being gone.
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists, type AttributeDefinition, type KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { readCloudAssembly, type CfnTemplate } from '../gateway/cloud-assembly';

type DynaliteFactory = (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

// dynalite ships no type declarations; this is its documented factory signature.
const loadModule = createRequire(__filename);
const dynalite = loadModule('dynalite') as DynaliteFactory;

const REGION = 'us-east-1';
/** Not credentials: dynalite checks none, but the SDK signs every request and needs something to sign with. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface TableDefinition {
  name: string;
  keySchema: KeySchemaElement[];
  attributeDefinitions: AttributeDefinition[];
}

export interface LocalDynamo {
  client: DynamoDBClient;
  endpoint: string;
  /** What a function needs to reach it with the AWS SDK: endpoint, region, placeholder credentials. */
  environment: Readonly<Record<string, string>>;
  createTable(table: TableDefinition): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalDynamo(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  return {
    client,
    endpoint,
    environment: {
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    },
    async createTable(table) {
      await client.send(
        new CreateTableCommand({
          TableName: table.name,
          KeySchema: table.keySchema,
          AttributeDefinitions: table.attributeDefinitions,
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 1 }, { TableName: table.name });
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The DynamoDB tables of a template, named as the emulation resolves a `Ref` to them: their
 * TableName when it is a plain string, else their logical id.
 */
export function templateTables(template: CfnTemplate): TableDefinition[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::DynamoDB::Table')
    .map(([logicalId, resource]) => {
      const props = resource.Properties ?? {};
      return {
        name: typeof props['TableName'] === 'string' ? props['TableName'] : logicalId,
        keySchema: props['KeySchema'] as KeySchemaElement[],
        attributeDefinitions: props['AttributeDefinitions'] as AttributeDefinition[],
      };
    });
}

/** A local DynamoDB holding the tables of a stack of the cloud assembly, or undefined when it declares none. */
export async function startStackTables(cdkOut: string, stackName: string): Promise<LocalDynamo | undefined> {
  const stack = readCloudAssembly(cdkOut).find((candidate) => [candidate.stackName, candidate.artifactId, candidate.displayName].includes(stackName));
  if (!stack) throw new Error(`no stack ${stackName} in ${cdkOut}`);
  const tables = templateTables(stack.template);
  if (tables.length === 0) return undefined;
  const dynamo = await startLocalDynamo();
  try {
    for (const table of tables) await dynamo.createTable(table);
    return dynamo;
  } catch (error) {
    await dynamo.close();
    throw error;
  }
}
