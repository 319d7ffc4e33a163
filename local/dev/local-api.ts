/**
 * The whole API on this machine, from a synthesized cloud assembly: a 1Password Connect server
 * (the local one with the demo vault, or one given by host and token), the payments provider
 * stand-in, a local DynamoDB with the stack's tables, and the gateway running every function of
 * the stack. Shared by `npm start` and the
 * end-to-end tests, so the tests exercise exactly what a developer runs.
 */
import { readCloudAssembly } from '../gateway/cloud-assembly';
import { startGateway, type GatewayRequestRecord, type LocalGateway, type LogLine } from '../gateway/server';
import { buildEmulationModel } from '../gateway/template-model';
import { startConnectServer, type ConnectSeed, type LocalConnect, type LoggedRequest } from '../connect/server';
import { startStackTables, type LocalDynamo } from '../dynamo/local-dynamo';
import { startPaymentsUpstream, type PaymentsUpstream } from '../payments/server';
import { WRITE_TOKEN_SECRET_ARN_ENV } from '../../shared/ops/contract';
import { isReference } from '../../shared/secrets/reference';
import { localSecretReader, remoteSecretReader, type SecretReader } from './secret-reader';

/** The token the functions use with the local Connect server: read-only, every vault. */
const LOCAL_TOKEN_NAME = 'dev-read';
/** The token the rotate function uses with the local Connect server: read-write. */
const LOCAL_WRITE_TOKEN_NAME = 'dev-write';
/** The variable holding the payments provider's key in the payments function. */
const PAYMENTS_KEY_VARIABLE = 'PAYMENTS_API_KEY';
const PAYMENTS_URL_VARIABLE = 'PAYMENTS_API_URL';

export interface ExternalConnect {
  /** OP_CONNECT_HOST. */
  host: string;
  /** OP_CONNECT_TOKEN. */
  token: string;
  /** OP_CONNECT_ALLOW_HTTP: plain http to a host that is not loopback. */
  allowHttp?: boolean;
}

export interface LocalApiOptions {
  /** Folder of the cloud assembly. */
  cdkOut: string;
  /** The stack to serve, e.g. `OpLambda-staging`. */
  stackName: string;
  /** Gateway port; default 0 (ephemeral). */
  port?: number;
  /** Gateway host; default 127.0.0.1. */
  host?: string;
  /** Use this Connect server instead of starting the local one. */
  externalConnect?: ExternalConnect;
  /** Contents of the local Connect server; default the demo vault. */
  connectSeed?: ConnectSeed;
  /** Local Connect token the functions use; default `dev-read`. */
  tokenName?: string;
  /** Called for each request the local Connect server answered. */
  onConnectRequest?: (entry: LoggedRequest, durationMs: number) => void;
  /** Every line a function prints (and the emulator's START/END/REPORT lines). */
  onLog?: (line: LogLine) => void;
  /** Every request the gateway answered. */
  onRequest?: (record: GatewayRequestRecord) => void;
  maxContainersPerFunction?: number;
  /** Variables set in every function over the template's (e.g. a short OP_REVALIDATE_MS for tests). */
  environment?: Readonly<Record<string, string>>;
}

export interface LocalApi {
  readonly gateway: LocalGateway;
  /** The local Connect server; undefined when an external one is used. */
  readonly connect: LocalConnect | undefined;
  /** The Connect server the functions talk to. */
  readonly connectUrl: string;
  /** Which token the functions present: a seed token name, or `OP_CONNECT_TOKEN`. */
  readonly tokenName: string;
  readonly payments: PaymentsUpstream;
  /** The reference whose value the payments upstream accepts, when a function declares one. */
  readonly paymentsKeyReference: string | undefined;
  /** The local DynamoDB holding the stack's tables; undefined when the stack has none. */
  readonly dynamo: LocalDynamo | undefined;
  /** Stops the gateway (and every function process), the upstream and the local Connect server. */
  close(): Promise<void>;
}

interface StackFunction {
  name: string;
  environment: Record<string, string>;
}

function stackFunctions(cdkOut: string, stackName: string): StackFunction[] {
  const model = buildEmulationModel(readCloudAssembly(cdkOut), { stacks: [stackName], region: 'us-east-1', accountId: '000000000000', cdkOut });
  return model.functions.map(({ name, environment }) => ({ name, environment }));
}

interface ConnectChoice {
  connect: LocalConnect | undefined;
  url: string;
  token: string;
  /** For functions that write (rotation); locally they read it from OP_CONNECT_TOKEN. */
  writeToken: string | undefined;
  tokenName: string;
  readerFor: (reference: string) => SecretReader;
}

async function chooseConnect(options: LocalApiOptions): Promise<ConnectChoice> {
  const external = options.externalConnect;
  if (external) {
    return {
      connect: undefined,
      url: external.host,
      token: external.token,
      writeToken: undefined,
      tokenName: 'OP_CONNECT_TOKEN',
      readerFor: (ref) => remoteSecretReader(external, ref),
    };
  }
  const connect = await startConnectServer({ seed: options.connectSeed, onRequestLogged: options.onConnectRequest });
  const tokenName = options.tokenName ?? LOCAL_TOKEN_NAME;
  const token = connect.tokens[tokenName];
  if (token === undefined) {
    await connect.close();
    throw new Error(`the local Connect seed has no token named ${tokenName}`);
  }
  const writeToken = connect.tokens[LOCAL_WRITE_TOKEN_NAME];
  return { connect, url: connect.url, token, writeToken, tokenName, readerFor: (ref) => localSecretReader(connect, ref) };
}

/** Starts everything; on failure, stops what was already started. */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const functions = stackFunctions(options.cdkOut, options.stackName);
  const paymentsKeyReference = functions.map((fn) => fn.environment[PAYMENTS_KEY_VARIABLE]).find(isReference);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const choice = await chooseConnect(options);
    if (choice.connect) cleanups.push(() => choice.connect!.close());
    const readKey = paymentsKeyReference ? choice.readerFor(paymentsKeyReference) : () => Promise.reject(new Error('no payments key declared'));
    const payments = await startPaymentsUpstream({ acceptKey: readKey });
    cleanups.push(() => payments.close());
    const dynamo = await startStackTables(options.cdkOut, options.stackName);
    if (dynamo) cleanups.push(() => dynamo.close());
    const gateway = await startGateway({
      cdkOut: options.cdkOut,
      stacks: [options.stackName],
      port: options.port ?? 0,
      host: options.host,
      environment: {
        OP_CONNECT_HOST: choice.url,
        OP_CONNECT_TOKEN: choice.token,
        // Without a token secret the functions read OP_CONNECT_TOKEN and never call Secrets Manager.
        OP_CONNECT_TOKEN_SECRET_ARN: undefined,
        ...(options.externalConnect?.allowHttp ? { OP_CONNECT_ALLOW_HTTP: 'true' } : {}),
        ...dynamo?.environment,
        ...options.environment,
      },
      functionEnvironment: perFunctionEnvironment(functions, payments.url, choice.writeToken),
      maxContainersPerFunction: options.maxContainersPerFunction,
      onLog: options.onLog,
      onRequest: options.onRequest,
    });
    cleanups.push(() => gateway.close());
    return {
      gateway,
      connect: choice.connect,
      connectUrl: choice.url,
      tokenName: choice.tokenName,
      payments,
      paymentsKeyReference,
      dynamo,
      close: once(() => closeAll(cleanups)),
    };
  } catch (error) {
    await closeAll(cleanups);
    throw error;
  }
}

/** The payments provider's URL where a function calls it; the write token where one writes (rotation). */
function perFunctionEnvironment(functions: readonly StackFunction[], paymentsUrl: string, writeToken: string | undefined): Record<string, Record<string, string | undefined>> {
  const overrides: Record<string, Record<string, string | undefined>> = {};
  for (const fn of functions) {
    const own: Record<string, string | undefined> = {};
    if (PAYMENTS_URL_VARIABLE in fn.environment) own[PAYMENTS_URL_VARIABLE] = paymentsUrl;
    if (WRITE_TOKEN_SECRET_ARN_ENV in fn.environment && writeToken !== undefined) {
      own.OP_CONNECT_TOKEN = writeToken;
      own[WRITE_TOKEN_SECRET_ARN_ENV] = undefined;
    }
    if (Object.keys(own).length > 0) overrides[fn.name] = own;
  }
  return overrides;
}

/** Last started, first stopped; every one is attempted even when another fails. */
async function closeAll(cleanups: readonly (() => Promise<void>)[]): Promise<void> {
  const failures: unknown[] = [];
  for (const cleanup of [...cleanups].reverse()) {
    try {
      await cleanup();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, 'some local services did not stop cleanly');
}

function once(action: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= action());
}
