/**
 * The whole API on this machine, from a synthesized cloud assembly: a 1Password Connect server
 * (the local one with the demo vault, or one given by host and token), a local JWT issuer standing
 * in for the issuer the template's authorizers trust, the payments provider stand-in, a local
 * DynamoDB with the stack's tables, and the gateway running every function of the stack. Shared by
 * `npm start` and the end-to-end tests, so the tests exercise exactly what a developer runs.
 *
 * With the local Connect server, each function presents its own token, the seed's token named
 * after the function (its FunctionName, e.g. `op-lambda-staging-payments`), scoped to the vaults it
 * reads: as deployed, a function reaches its own secrets and no other's.
 */
import { readCloudAssembly } from '../gateway/cloud-assembly';
import { startGateway, type GatewayRequestRecord, type LocalGateway, type LogLine } from '../gateway/server';
import { buildEmulationModel } from '../gateway/template-model';
import { startConnectServer, type ConnectSeed, type LocalConnect, type LoggedRequest } from '../connect/server';
import { startStackTables, type LocalDynamo } from '../dynamo/local-dynamo';
import { startLocalIssuer, type LocalIssuer } from '../issuer/server';
import { startPaymentsUpstream, type PaymentsUpstream } from '../payments/server';
import { WRITE_TOKEN_SECRET_ARN_ENV } from '../../shared/ops/contract';
import { isReference } from '../../shared/secrets/reference';
import { localSecretReader, remoteSecretReader, type SecretReader } from './secret-reader';

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
  /** Contents of the local Connect server; default the demo vault. It needs a token named after each function. */
  connectSeed?: ConnectSeed;
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
  /** Which token each function presents, by function name: a seed token name, or `OP_CONNECT_TOKEN`. */
  readonly tokenNames: Readonly<Record<string, string>>;
  /** The issuer the gateway trusts in place of the template's; undefined when no route has a JWT authorizer. */
  readonly issuer: LocalIssuer | undefined;
  readonly payments: PaymentsUpstream;
  /** The reference whose value the payments upstream accepts, when a function declares one. */
  readonly paymentsKeyReference: string | undefined;
  /** The local DynamoDB holding the stack's tables; undefined when the stack has none. */
  readonly dynamo: LocalDynamo | undefined;
  /** Stops the gateway (and every function process), the upstream and the local Connect server. */
  close(): Promise<void>;
}

interface StackFunction {
  /** Readable name, the gateway's key. */
  name: string;
  /** FunctionName, the name of its token in the local Connect seed. */
  deployedName: string;
  environment: Record<string, string>;
}

interface StackModel {
  functions: StackFunction[];
  /** Issuers the template's JWT authorizers trust. */
  issuers: string[];
  /** The audience a local token carries: the first the authorizers accept. */
  audience: string | undefined;
  /** Every scope a route requires, so that a default local token passes each route. */
  scopes: string[];
}

function readStack(cdkOut: string, stackName: string): StackModel {
  const model = buildEmulationModel(readCloudAssembly(cdkOut), { stacks: [stackName], region: 'us-east-1', accountId: '000000000000', cdkOut });
  const routes = model.apis.flatMap((api) => api.routes);
  const authorizers = routes.flatMap((route) => (route.jwtAuthorizer ? [route.jwtAuthorizer] : []));
  return {
    functions: model.functions.map(({ name, deployedName, environment }) => ({ name, deployedName: deployedName ?? name, environment })),
    issuers: [...new Set(authorizers.map((authorizer) => authorizer.issuer))],
    audience: authorizers.flatMap((authorizer) => authorizer.audience)[0],
    scopes: [...new Set(routes.flatMap((route) => route.authorizationScopes))],
  };
}

interface ConnectChoice {
  connect: LocalConnect | undefined;
  url: string;
  /** The Connect token of each function, by readable name. */
  tokens: Record<string, string>;
  tokenNames: Record<string, string>;
  readerFor: (reference: string) => SecretReader;
}

async function chooseConnect(options: LocalApiOptions, functions: readonly StackFunction[]): Promise<ConnectChoice> {
  const external = options.externalConnect;
  if (external) {
    return {
      connect: undefined,
      url: external.host,
      tokens: Object.fromEntries(functions.map((fn) => [fn.name, external.token])),
      tokenNames: Object.fromEntries(functions.map((fn) => [fn.name, 'OP_CONNECT_TOKEN'])),
      readerFor: (ref) => remoteSecretReader(external, ref),
    };
  }
  const connect = await startConnectServer({ seed: options.connectSeed, onRequestLogged: options.onConnectRequest });
  const missing = functions.filter((fn) => connect.tokens[fn.deployedName] === undefined).map((fn) => fn.deployedName);
  if (missing.length > 0) {
    await connect.close();
    throw new Error(`the local Connect seed has no token for ${missing.join(', ')}: each function presents the token named after it`);
  }
  return {
    connect,
    url: connect.url,
    tokens: Object.fromEntries(functions.map((fn) => [fn.name, connect.tokens[fn.deployedName]!])),
    tokenNames: Object.fromEntries(functions.map((fn) => [fn.name, fn.deployedName])),
    readerFor: (ref) => localSecretReader(connect, ref),
  };
}

/** A local issuer in place of the template's, when a route has a JWT authorizer. */
async function startIssuer(stack: StackModel): Promise<LocalIssuer | undefined> {
  if (stack.issuers.length === 0) return undefined;
  return startLocalIssuer({ audience: stack.audience ?? 'op-lambda-local', defaultScope: stack.scopes.join(' ') });
}

/** Starts everything; on failure, stops what was already started. */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const stack = readStack(options.cdkOut, options.stackName);
  const { functions } = stack;
  const paymentsKeyReference = functions.map((fn) => fn.environment[PAYMENTS_KEY_VARIABLE]).find(isReference);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const choice = await chooseConnect(options, functions);
    if (choice.connect) cleanups.push(() => choice.connect!.close());
    const issuer = await startIssuer(stack);
    if (issuer) cleanups.push(() => issuer.close());
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
        // Without a token secret the functions read OP_CONNECT_TOKEN and never call Secrets Manager.
        OP_CONNECT_TOKEN_SECRET_ARN: undefined,
        ...(options.externalConnect?.allowHttp ? { OP_CONNECT_ALLOW_HTTP: 'true' } : {}),
        ...dynamo?.environment,
        ...options.environment,
      },
      functionEnvironment: perFunctionEnvironment(functions, payments.url, choice.tokens),
      issuerOverrides: issuer ? Object.fromEntries(stack.issuers.map((trusted) => [trusted, issuer.url])) : undefined,
      maxContainersPerFunction: options.maxContainersPerFunction,
      onLog: options.onLog,
      onRequest: options.onRequest,
    });
    cleanups.push(() => gateway.close());
    return {
      gateway,
      connect: choice.connect,
      connectUrl: choice.url,
      tokenNames: choice.tokenNames,
      issuer,
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

/**
 * Each function's own Connect token (the rotate function's is its write token, so it reads no
 * write token secret either), and the payments provider's URL where a function calls it.
 */
function perFunctionEnvironment(functions: readonly StackFunction[], paymentsUrl: string, tokens: Readonly<Record<string, string>>): Record<string, Record<string, string | undefined>> {
  return Object.fromEntries(
    functions.map((fn) => {
      const own: Record<string, string | undefined> = { OP_CONNECT_TOKEN: tokens[fn.name] };
      if (PAYMENTS_URL_VARIABLE in fn.environment) own[PAYMENTS_URL_VARIABLE] = paymentsUrl;
      if (WRITE_TOKEN_SECRET_ARN_ENV in fn.environment) own[WRITE_TOKEN_SECRET_ARN_ENV] = undefined;
      return [fn.name, own];
    }),
  );
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
