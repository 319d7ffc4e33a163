/**
 * Small helpers for the end-to-end suites: what a webhook sender and an operator looking at the
 * logs would do.
 */
import type { LocalConnect } from '../../../local/connect/server';
import type { LocalGateway } from '../../../local/gateway/server';
import { signPayload } from '../../../functions/webhooks/signature';
import type { StackFixture } from '../../helpers/stack-fixture';

/** The staging vault holding each item of the demo vault (one vault per purpose). */
const VAULT_OF_ITEM: Readonly<Record<string, string>> = {
  database: 'op-lambda-staging-database',
  'payments-api': 'op-lambda-staging-payments',
  'webhook-stripe': 'op-lambda-staging-webhooks',
  'webhook-github': 'op-lambda-staging-webhooks',
};

export function vaultOf(item: string): string {
  const vault = VAULT_OF_ITEM[item];
  if (vault === undefined) throw new Error(`no demo vault holds ${item}`);
  return vault;
}

/** Any item GET (`/v1/vaults/{id}/items/{id}`), the request a cold start makes once per item. */
export const ITEM_GET = /^\/v1\/vaults\/[a-z0-9]{26}\/items\/[a-z0-9]{26}$/;

export function itemPath(connect: LocalConnect, vault: string, item: string): string {
  const json = connect.getItem(vault, item);
  return `/v1/vaults/${json.vault.id}/items/${json.id}`;
}

export function fieldValue(connect: LocalConnect, vault: string, item: string, label: string): string {
  const field = connect.getItem(vault, item).fields.find((candidate) => candidate.label === label);
  if (field?.value === undefined) throw new Error(`no field ${label} in ${vault}/${item}`);
  return field.value;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** A webhook delivery as a sender signs it (Stripe's scheme), one v1 signature per secret. */
export function signedDelivery(secrets: readonly string[], body: string, timestamp = nowSeconds()): { headers: Record<string, string>; body: string } {
  return {
    headers: { 'content-type': 'application/json', 'x-signature': signPayload(secrets, timestamp, Buffer.from(body)) },
    body,
  };
}

export function paymentBody(amount = 1299): string {
  return JSON.stringify({ amount, currency: 'EUR', description: 'e2e order' });
}

export type AuditLine = Record<string, unknown> & { event?: string };

/** JSON log lines of one function (or one of its containers) carrying an audit event (`secret.*`), oldest first. */
export function auditLines(gateway: LocalGateway, functionName: string, event?: string, containerId?: string): AuditLine[] {
  return gateway.logs
    // Powertools writes warnings and errors to stderr; CloudWatch keeps both streams.
    .filter((line) => line.functionName === functionName && line.stream !== 'platform' && (containerId === undefined || line.containerId === containerId))
    .flatMap((line) => {
      try {
        const parsed = JSON.parse(line.text) as unknown;
        return typeof parsed === 'object' && parsed !== null ? [parsed as AuditLine] : [];
      } catch {
        return [];
      }
    })
    .filter((line) => typeof line.event === 'string' && line.event.startsWith('secret.') && (event === undefined || line.event === event));
}

/**
 * A function's output reaches the gateway through its stdout pipe, which may trail the HTTP
 * answer by a moment: waits (a bounded while) for audit lines that match.
 */
export async function waitForAuditLines(
  gateway: LocalGateway,
  functionName: string,
  event: string,
  matches: { containerId?: string; line?: (line: AuditLine) => boolean } = {},
  timeoutMs = 5000,
): Promise<AuditLine[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = auditLines(gateway, functionName, event, matches.containerId).filter(matches.line ?? (() => true));
    if (found.length > 0 || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The Lambda request id and container of the invoke behind the last gateway request. */
export function lastInvoke(stack: StackFixture): { requestId: string; containerId: string; pid: number | undefined; coldStart: boolean } {
  const invoke = stack.gateway.requests.at(-1)?.invoke;
  if (!invoke) throw new Error('the last gateway request reached no function');
  return { requestId: invoke.requestId, containerId: invoke.containerId, pid: invoke.pid, coldStart: invoke.coldStart };
}

/** A problem+json 503 as the middleware answers it when 1Password cannot be reached. */
export function expectSecretsUnavailable(response: { status: number; headers: Headers; json: <T>() => T }): void {
  expect(response.status).toBe(503);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  const body = response.json<Record<string, unknown>>();
  expect(body).toMatchObject({ status: 503, title: expect.any(String), detail: expect.any(String), type: expect.any(String) });
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/op-lambda-staging|127\.0\.0\.1|op:\/\//);
}
