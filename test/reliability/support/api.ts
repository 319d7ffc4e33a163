/**
 * One isolated copy of the API for a reliability test: its own local Connect server (demo vault),
 * payments provider and gateway over a synthesized stage. Each test gets its own, so faults
 * injected for one never reach another running at the same time.
 *
 * The Connect token comes from OP_CONNECT_TOKEN, or, as on AWS, from the Secrets Manager secret
 * named by the template's OP_CONNECT_TOKEN_SECRET_ARN, read from a local endpoint.
 */
import { startConnectServer, type LocalConnect } from '../../../local/connect/server';
import { startStackTables } from '../../../local/dynamo/local-dynamo';
import { localSecretReader } from '../../../local/dev/secret-reader';
import { send, type Exchange, type RawRequest } from '../../../local/load/client';
import { startGateway, type LocalGateway, type LogLine } from '../../../local/gateway/server';
import { startLocalIssuer } from '../../../local/issuer/server';
import { startPaymentsUpstream, type PaymentsUpstream } from '../../../local/payments/server';
import { stageConfig } from '../../../infra/config';
import type { SynthesizedStage } from './stage';

const STAGING = stageConfig('staging');
const STAGE_AUTHORIZER = STAGING.authorizer;
/** The staging vault holding each item of the demo vault, one vault per purpose. */
const VAULT_OF_ITEM: Readonly<Record<string, string>> = {
  database: STAGING.vaults.database,
  'payments-api': STAGING.vaults.payments,
  'webhook-stripe': STAGING.vaults.webhooks,
  'webhook-github': STAGING.vaults.webhooks,
};

export function vaultOf(item: string): string {
  const vault = VAULT_OF_ITEM[item];
  if (vault === undefined) throw new Error(`no demo vault holds ${item}`);
  return vault;
}

export const PAYMENTS_KEY_REFERENCE = `op://${vaultOf('payments-api')}/payments-api/credential`;
export const TOKEN_NAME = 'dev-read';

export type TokenSource = { kind: 'env'; token?: string } | { kind: 'secrets-manager'; endpoint: string };

export interface ReliabilityApiOptions {
  stage: SynthesizedStage;
  /** @default { kind: 'env' } with the dev-read token */
  token?: TokenSource;
  maxContainersPerFunction?: number;
}

export interface ReliabilityApi {
  readonly gateway: LocalGateway;
  readonly payments: PaymentsUpstream;
  /** An access token for POST /payments, from the local issuer the gateway trusts in place of the stage's. */
  readonly accessToken: string;
  /** The Connect server running now (a new one after `restartConnect`). */
  connect(): LocalConnect;
  /** Stops Connect: its port refuses connections until `restartConnect`. */
  stopConnect(): Promise<void>;
  /** Starts Connect again on the same port, with the field edits made through `setField` replayed. */
  restartConnect(): Promise<void>;
  /** Edits a field through the server's own API for operators (replayed by `restartConnect`). */
  setField(item: string, field: string, value: string): void;
  /** Rotates the payments key: a new value in the vault, and the provider accepts only that one. */
  rotatePaymentsKey(value: string): void;
  /** Everything the functions printed. */
  logs(): LogLine[];
  send<R extends RawRequest>(request: R, timeoutMs?: number): Promise<Exchange<R>>;
  close(): Promise<void>;
}

const DUMMY_AWS_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIDLOCALRELIABILITY', AWS_SECRET_ACCESS_KEY: 'local-reliability-not-a-secret' };

export async function startReliabilityApi(options: ReliabilityApiOptions): Promise<ReliabilityApi> {
  let connect = await startConnectServer();
  const port = connect.port;
  const edits: [string, string, string][] = [];
  const logs: LogLine[] = [];
  const closers: (() => Promise<void>)[] = [() => connect.close()];
  const setField = (item: string, field: string, value: string): void => {
    edits.push([item, field, value]);
    connect.setField(vaultOf(item), item, field, value);
  };
  try {
    // The provider knows its key on its own: it keeps answering while the vault is unreachable.
    let acceptedKey = await localSecretReader(connect, PAYMENTS_KEY_REFERENCE)();
    const payments = await startPaymentsUpstream({ acceptKey: () => acceptedKey });
    closers.push(() => payments.close());
    const issuer = await startLocalIssuer({ audience: STAGE_AUTHORIZER.audience[0]!, defaultScope: STAGE_AUTHORIZER.paymentsScope });
    closers.push(() => issuer.close());
    const dynamo = await startStackTables(options.stage.cdkOut, options.stage.stackName);
    if (dynamo) closers.push(() => dynamo.close());
    const gateway = await startGateway({
      cdkOut: options.stage.cdkOut,
      stacks: [options.stage.stackName],
      environment: { OP_CONNECT_HOST: connect.url, ...dynamo?.environment, ...tokenEnvironment(options.token ?? { kind: 'env' }, connect) },
      functionEnvironment: { Payments: { PAYMENTS_API_URL: payments.url } },
      issuerOverrides: { [STAGE_AUTHORIZER.issuer]: issuer.url },
      maxContainersPerFunction: options.maxContainersPerFunction ?? 1,
      onLog: (line) => logs.push(line),
    });
    closers.push(() => gateway.close());
    return {
      gateway,
      payments,
      accessToken: await issuer.issue({ sub: 'reliability' }),
      connect: () => connect,
      stopConnect: () => connect.close(),
      restartConnect: async () => {
        connect = await startConnectServer({ port });
        for (const [item, field, value] of edits) connect.setField(vaultOf(item), item, field, value);
      },
      setField,
      rotatePaymentsKey: (value) => {
        setField('payments-api', 'credential', value);
        acceptedKey = value;
      },
      logs: () => [...logs],
      send: (request, timeoutMs = 20_000) => send(gateway.url, request, { timeoutMs }),
      close: () => closeAll(closers),
    };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}

function tokenEnvironment(source: TokenSource, connect: LocalConnect): Record<string, string | undefined> {
  if (source.kind === 'env') {
    return { OP_CONNECT_TOKEN: source.token ?? connect.tokens[TOKEN_NAME], OP_CONNECT_TOKEN_SECRET_ARN: undefined };
  }
  return { OP_CONNECT_TOKEN: undefined, AWS_ENDPOINT_URL_SECRETS_MANAGER: source.endpoint, ...DUMMY_AWS_CREDENTIALS };
}

async function closeAll(closers: readonly (() => Promise<void>)[]): Promise<void> {
  for (const close of [...closers].reverse()) await close().catch(() => undefined);
}

/** Structured log lines (JSON objects) a function printed, parsed. */
export function jsonLogs(lines: readonly LogLine[], functionName?: string): Record<string, unknown>[] {
  return lines
    .filter((line) => line.stream !== 'platform' && (functionName === undefined || line.functionName === functionName))
    .flatMap((line) => {
      try {
        const parsed: unknown = JSON.parse(line.text);
        return typeof parsed === 'object' && parsed !== null ? [parsed as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
}
