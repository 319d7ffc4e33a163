/**
 * op-lambda/testing: a local 1Password Connect server for your own tests. A real HTTP server on
 * loopback, seeded from an object, with per-token vault scope, a request log and fault injection.
 *
 *   const connect = await startConnectServer({ seed });          // ephemeral port on 127.0.0.1
 *   process.env.OP_CONNECT_HOST = connect.url;
 *   process.env.OP_CONNECT_TOKEN = connect.tokens['ci'];
 *   connect.addFault({ path: /^\/v1\/vaults$/, times: 1, spec: { kind: 'status', status: 503 } });
 *   connect.countRequests({ method: 'GET' });
 *   await connect.close();
 */
export { currentTotp, demoSeed, startConnectServer } from '../local/connect/server';
export type {
  ConnectSeed,
  ConnectSeedField,
  ConnectSeedFile,
  ConnectSeedItem,
  ConnectSeedSection,
  ConnectSeedToken,
  ConnectSeedVault,
  Fault,
  FaultSpec,
  LocalConnect,
  LoggedRequest,
  RequestFilter,
  StartConnectOptions,
} from '../local/connect/server';
