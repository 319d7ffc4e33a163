/**
 * The faults of the fault matrix: how each is brought about and lifted, and what the secret
 * machinery must report for it. Connect faults are injected by the local Connect server in the
 * shapes real servers and proxies produce; 404 and a missing field are real vault changes made
 * over Connect's API; Secrets Manager faults come from a real local endpoint.
 */
import type { FaultSpec } from '../../../local/connect/server';
import type { SecretsManagerStandIn } from '../../../local/secrets-manager/server';
import { connectTokenSecretName } from '../../../infra/config';
import type { ConnectErrorCode } from '../../../shared/secrets/errors';
import type { ReliabilityApi } from './api';
import { TOKEN_NAME, vaultOf } from './api';
import { deleteItem, removeField } from './vault-edits';

export type Phase = 'cold start' | 'refresh';

/** The item and field the phase's function reads: Health's database URL, or Payments' key. */
export interface Target {
  function: 'Health' | 'Payments';
  item: string;
  field: string;
}

export const TARGETS: Readonly<Record<Phase, Target>> = {
  'cold start': { function: 'Health', item: 'database', field: 'url' },
  refresh: { function: 'Payments', item: 'payments-api', field: 'credential' },
};

/** The Secrets Manager secret holding the staging function's own Connect token. */
export function tokenSecretName(fn: Target['function']): string {
  return connectTokenSecretName('staging', fn.toLowerCase());
}

/** What the token secret holds: the local Connect server's read token. */
export function tokenSecretValue(api: ReliabilityApi): string {
  return JSON.stringify({ token: api.connect().tokens[TOKEN_NAME] });
}

export interface FaultContext {
  api: ReliabilityApi;
  secretsManager: SecretsManagerStandIn | undefined;
  target: Target;
}

/** Lifts the fault. */
export type Lift = () => Promise<void>;

export interface FaultRow {
  fault: string;
  /** The `code` of the `secret.failure` line. */
  code: ConnectErrorCode;
  /** Transient failures are retried and keep the last good value; permanent ones are neither. */
  retryable: boolean;
  /** The Retry-After (seconds) of the 503. */
  retryAfter: number;
  /** The Connect token is read from Secrets Manager (and only at cold start: a refresh never asks). */
  tokenFromSecretsManager?: boolean;
  inject(context: FaultContext): Promise<Lift>;
}

const ITEM_PATH = /^\/v1\/vaults\/[^/]+\/items\/[^/]+$/;

/** A fault on every Connect request (or those on `path`) until lifted. */
function connectFault(spec: FaultSpec, path?: RegExp): FaultRow['inject'] {
  return ({ api }) => {
    api.connect().addFault(path ? { path, spec } : { spec });
    return Promise.resolve(async () => api.connect().clearFaults());
  };
}

export const FAULT_ROWS: readonly FaultRow[] = [
  {
    fault: 'Connect refused (server down)',
    code: 'NETWORK',
    retryable: true,
    retryAfter: 1,
    inject: async ({ api }) => {
      await api.stopConnect();
      return () => api.restartConnect();
    },
  },
  { fault: 'Connection reset mid-response', code: 'NETWORK', retryable: true, retryAfter: 1, inject: connectFault({ kind: 'reset-mid-body' }) },
  { fault: 'Connect hangs (never answers)', code: 'TIMEOUT', retryable: true, retryAfter: 1, inject: connectFault({ kind: 'hang' }) },
  { fault: 'Connect slower than the deadline (8 s)', code: 'TIMEOUT', retryable: true, retryAfter: 1, inject: connectFault({ kind: 'latency', latencyMs: 8000 }) },
  { fault: '500 Internal Server Error', code: 'SERVER', retryable: true, retryAfter: 1, inject: connectFault({ kind: 'status', status: 500 }) },
  { fault: '503 from a proxy (text body)', code: 'SERVER', retryable: true, retryAfter: 1, inject: connectFault({ kind: 'status', status: 503, body: 'text' }) },
  { fault: '429 without Retry-After', code: 'RATE_LIMITED', retryable: true, retryAfter: 1, inject: connectFault({ kind: 'status', status: 429 }) },
  { fault: '429 with Retry-After: 2', code: 'RATE_LIMITED', retryable: true, retryAfter: 2, inject: connectFault({ kind: 'status', status: 429, retryAfter: '2' }) },
  { fault: 'Malformed JSON (200)', code: 'INVALID_RESPONSE', retryable: true, retryAfter: 1, inject: connectFault({ kind: 'malformed' }) },
  { fault: '401 token rejected', code: 'UNAUTHORIZED', retryable: false, retryAfter: 1, inject: connectFault({ kind: 'status', status: 401 }) },
  { fault: '403 vault out of the token\'s scope', code: 'FORBIDDEN', retryable: false, retryAfter: 1, inject: connectFault({ kind: 'status', status: 403 }, ITEM_PATH) },
  {
    fault: '404 item deleted (then re-created, new id)',
    code: 'NOT_FOUND',
    retryable: false,
    retryAfter: 1,
    inject: ({ api, target }) => deleteItem(api.connect(), vaultOf(target.item), target.item),
  },
  {
    fault: 'Field removed from the item (then restored)',
    code: 'FIELD_NOT_FOUND',
    retryable: false,
    retryAfter: 1,
    inject: ({ api, target }) => removeField(api.connect(), vaultOf(target.item), target.item, target.field),
  },
  {
    fault: 'Secrets Manager unreachable',
    code: 'TOKEN_UNAVAILABLE',
    retryable: true,
    retryAfter: 1,
    tokenFromSecretsManager: true,
    inject: async ({ secretsManager }) => {
      await secretsManager!.stop();
      return () => secretsManager!.start();
    },
  },
  {
    fault: 'Token secret missing (ResourceNotFoundException)',
    code: 'TOKEN_UNAVAILABLE',
    retryable: false,
    retryAfter: 1,
    tokenFromSecretsManager: true,
    inject: ({ secretsManager, api, target }) => {
      const name = tokenSecretName(target.function);
      secretsManager!.setSecret(name, undefined);
      return Promise.resolve(async () => secretsManager!.setSecret(name, tokenSecretValue(api)));
    },
  },
];
