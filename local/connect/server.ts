// A local 1Password Connect server: real HTTP on loopback, seeded from JSON, with fault injection.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ActivityLog, type InjectedActivityJson } from './activity';
import { TokenRegistry } from './auth';
import { FaultBook, type Fault } from './faults';
import { deriveId } from './ids';
import { toItemJson, type ConnectItemJson } from './item-json';
import { Lifetime } from './lifetime';
import { Metrics } from './metrics';
import { cloneContent, type FieldRecord, type ItemRecord } from './model';
import { handleRequest } from './pipeline';
import { RequestLog, type LoggedRequest, type RequestFilter } from './request-log';
import type { ServerState } from './routes/context';
import { demoSeed, readSeedFile, validateSeed, type ConnectSeed } from './seed';
import { ConnectStore } from './store';

export type { ConnectSeed, ConnectSeedField, ConnectSeedFile, ConnectSeedItem, ConnectSeedSection, ConnectSeedToken, ConnectSeedVault } from './seed';
export type { Fault, FaultSpec } from './faults';
export type { LoggedRequest, RequestFilter } from './request-log';
export type { ConnectFieldJson, ConnectFileJson, ConnectItemJson, ConnectItemSummaryJson, ConnectVaultJson } from './item-json';
export type { ApiRequestJson, InjectedActivityJson } from './activity';
export { DEMO_SEED_FILE, demoSeed } from './seed';
export { CONNECT_VERSION, VERSION_HEADER } from './http-io';
export { deriveId, isConnectId } from './ids';
export { currentTotp } from './totp';

export interface LocalConnect {
  /** e.g. http://127.0.0.1:54321 (no trailing slash, no /v1). */
  readonly url: string;
  readonly port: number;
  /** Token name -> token value, from the seed. */
  readonly tokens: Readonly<Record<string, string>>;
  readonly requests: readonly LoggedRequest[];
  countRequests(filter?: RequestFilter): number;
  resetRequests(): void;
  addFault(fault: Fault): void;
  clearFaults(): void;
  /** Global per-request latency (0 = none). */
  setLatency(ms: number): void;
  /** Vault, item and field by id or (case-insensitive) name; bumps the item's version. */
  setField(vault: string, item: string, field: string, value: string): void;
  /**
   * Appends an entry to the activity log exactly as given, as a compromised Connect server could
   * serve it (any fields, `_aws` and `logType` included): for tests of what reads the log.
   */
  injectActivity(entry: InjectedActivityJson): void;
  /** A deep copy of the item as `GET /v1/vaults/{v}/items/{i}` would answer it. */
  getItem(vault: string, item: string): ConnectItemJson;
  /** Also ends hung and delayed requests and destroys open sockets. */
  close(): Promise<void>;
}

export interface StartConnectOptions {
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Takes precedence over seedFile. */
  seed?: ConnectSeed;
  /** A seed JSON file. Default: the demo vault (`demoSeed()`). */
  seedFile?: string;
  /** Initial global latency per request. */
  latencyMs?: number;
  /** Called once per request when it is over (answered, reset or released at close). */
  onRequestLogged?: (entry: LoggedRequest, durationMs: number) => void;
}

/** The user id shown as `lastEditedBy` after setField. */
const ADMIN_EDITOR_ID = deriveId('user', 'local-admin');

function checkLatency(ms: number): number {
  if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError('latency must be a non-negative number of milliseconds');
  return ms;
}

function findField(item: ItemRecord, ref: string): FieldRecord | undefined {
  const byId = item.fields.find((field) => field.id === ref);
  if (byId) return byId;
  const byLabel = item.fields.filter((field) => field.label.toLowerCase() === ref.toLowerCase());
  // A field outside sections wins over one inside, as in secret references.
  return byLabel.find((field) => field.sectionId === undefined) ?? byLabel[0];
}

class RunningConnect implements LocalConnect {
  readonly url: string;
  readonly port: number;
  readonly tokens: Readonly<Record<string, string>>;

  constructor(
    private readonly server: Server,
    private readonly state: ServerState,
    private readonly log: RequestLog,
    private readonly faults: FaultBook,
    private readonly lifetime: Lifetime,
    private readonly latency: { ms: number },
    seed: ConnectSeed,
    host: string,
  ) {
    this.port = (server.address() as AddressInfo).port;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
    this.tokens = Object.freeze(Object.fromEntries(seed.tokens.map((token) => [token.name, token.token])));
  }

  get requests(): readonly LoggedRequest[] {
    return this.log.entries;
  }

  countRequests(filter?: RequestFilter): number {
    return this.log.count(filter);
  }

  resetRequests(): void {
    this.log.reset();
  }

  addFault(fault: Fault): void {
    this.faults.add(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  setLatency(ms: number): void {
    this.latency.ms = checkLatency(ms);
  }

  private locate(vaultRef: string, itemRef: string) {
    const vault = this.state.store.findVault(vaultRef);
    if (!vault) throw new Error(`no vault ${vaultRef} in the local Connect server`);
    const item = this.state.store.findItem(vault, itemRef);
    if (!item) throw new Error(`no item ${itemRef} in vault ${vault.name}`);
    return { vault, item };
  }

  setField(vaultRef: string, itemRef: string, fieldRef: string, value: string): void {
    const { vault, item } = this.locate(vaultRef, itemRef);
    const target = findField(item, fieldRef);
    if (!target) throw new Error(`no field ${fieldRef} in item ${item.title}`);
    const content = cloneContent(item);
    content.fields = content.fields.map((field) => (field.id === target.id ? { ...field, value } : field));
    this.state.store.updateItem(vault, item, content, ADMIN_EDITOR_ID);
  }

  injectActivity(entry: InjectedActivityJson): void {
    this.state.activity.inject(entry);
  }

  getItem(vaultRef: string, itemRef: string): ConnectItemJson {
    return structuredClone(toItemJson(this.locate(vaultRef, itemRef).item));
  }

  async close(): Promise<void> {
    this.lifetime.end();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startConnectServer(options: StartConnectOptions = {}): Promise<LocalConnect> {
  const seed = options.seed
    ? validateSeed(structuredClone(options.seed))
    : options.seedFile === undefined
      ? demoSeed()
      : readSeedFile(options.seedFile);
  const state: ServerState = {
    store: new ConnectStore(seed),
    tokens: new TokenRegistry(seed.tokens),
    activity: new ActivityLog(),
    metrics: new Metrics(),
  };
  const log = new RequestLog();
  const faults = new FaultBook();
  const lifetime = new Lifetime();
  const latency = { ms: checkLatency(options.latencyMs ?? 0) };
  const deps = { state, log, faults, lifetime, latencyMs: () => latency.ms, onRequestLogged: options.onRequestLogged };
  const server = createServer((req, res) => void handleRequest(deps, req, res));
  const host = options.host ?? '127.0.0.1';
  await listen(server, options.port ?? 0, host);
  return new RunningConnect(server, state, log, faults, lifetime, latency, seed, host);
}
