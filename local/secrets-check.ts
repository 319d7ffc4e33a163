/**
 * `npm run secrets:check -- --stage staging [--compare prod]`
 *
 * From a laptop or CI, each stage against its own Connect server: OP_CONNECT_HOST_<STAGE> with
 * OP_CONNECT_TOKEN_<STAGE>, each falling back to OP_CONNECT_HOST and OP_CONNECT_TOKEN (one server
 * serving both stages' vaults, the local one say). Every secret reference the stage's functions declare must resolve;
 * with --compare, the two stages must declare the same secret names per function, and the items
 * those secrets point at must carry the same field labels and types.
 *
 * Token scope: for each function whose own token is given as OP_CONNECT_TOKEN_<STAGE>_<FUNCTION>
 * (e.g. OP_CONNECT_TOKEN_STAGING_PAYMENTS), `GET /v1/vaults` with that token must list exactly the
 * vaults the function declares: a vault it does not declare is a token that reaches another
 * function's secrets. Prints tables of references and findings, never a value or a token.
 * Exit status: 0 clean, 1 unresolved reference, drift or over-broad token, 2 usage.
 */
import { parseArgs } from 'node:util';
import { STAGE_NAMES, isStageName, stageConfig, type StageName } from '../infra/config';
import { ConnectSource } from '../shared/secrets/connect/connect-source';
import { ConnectError } from '../shared/secrets/errors';
import { toConnectError } from '../shared/secrets/connect/connect-errors';
import { checkReferences, type ReferenceCheck } from '../shared/ops/canary';
import { OpsConnectClient } from '../shared/ops/ops-client';
import { compareDeclarations, compareItems, shapeOf, type DriftFinding, type ItemShape, type ShapeSource, type StageManifest } from '../shared/ops/drift';
import { buildManifest } from '../shared/ops/manifest';
import { tokenScopes, type TokenScope } from '../infra/token-scopes';

export interface ConnectAccess {
  allowHttp: boolean;
  /** The Connect server holding a stage's vaults. */
  hostFor(stage: string): string;
  /** The token for a stage. */
  tokenFor(stage: string): string;
  /** A function's own token, when given: its scope is then checked. */
  functionTokenFor?(stage: string, functionName: string): string | undefined;
}

/** A stage to check: its manifest and, for the token scope check, what each function's token should reach. */
export interface StageToCheck extends StageManifest {
  tokenScopes?: readonly TokenScope[];
}

/** What one function's own token can see, against what the function declares. */
export interface TokenCheck {
  functionName: string;
  /** Vaults the token sees that the function does not declare: the token reaches other functions' secrets. */
  undeclared: string[];
  /** Declared vaults the token cannot see: the function would fail to read them. */
  missing: string[];
  /** Why the vaults could not be listed (the token was refused, Connect is unreachable). */
  error?: string;
  ok: boolean;
}

export interface StageChecks {
  stage: string;
  checks: ReferenceCheck[];
  /** Only functions whose own token was given. */
  tokens: TokenCheck[];
}

export interface SecretsCheckReport {
  stages: StageChecks[];
  /** Present with a comparison. */
  drift?: DriftFinding[];
  ok: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Resolves every reference of each stage and, for two stages, compares them. */
export async function runSecretsCheck(
  stages: readonly StageToCheck[],
  access: ConnectAccess,
  deadline: number = Date.now() + DEFAULT_TIMEOUT_MS,
): Promise<SecretsCheckReport> {
  const checked = await Promise.all(
    stages.map(async ({ stage, manifest, tokenScopes: scopes = [] }) => {
      const source = new ConnectSource({ host: access.hostFor(stage), allowHttp: access.allowHttp, token: access.tokenFor(stage) });
      const [checks, tokens] = await Promise.all([checkReferences(source, manifest, deadline), checkTokens(stage, scopes, access, deadline)]);
      return { stage, checks, tokens };
    }),
  );
  const drift = stages.length === 2 ? await stageDrift(stages[0]!, stages[1]!, access, deadline) : undefined;
  const ok =
    checked.every(({ checks, tokens }) => checks.every((check) => check.ok) && tokens.every((token) => token.ok)) && (drift?.length ?? 0) === 0;
  return { stages: checked, ...(drift ? { drift } : {}), ok };
}

/** One `GET /v1/vaults` per function whose own token was given. */
function checkTokens(stage: string, scopes: readonly TokenScope[], access: ConnectAccess, deadline: number): Promise<TokenCheck[]> {
  const given = scopes.flatMap((scope) => {
    const token = access.functionTokenFor?.(stage, scope.functionName);
    return token ? [{ scope, token }] : [];
  });
  return Promise.all(given.map(({ scope, token }) => checkToken(scope, new OpsConnectClient({ host: access.hostFor(stage), allowHttp: access.allowHttp, token }), deadline)));
}

async function checkToken(scope: TokenScope, client: OpsConnectClient, deadline: number): Promise<TokenCheck> {
  let visible: { id: string; name: string }[];
  try {
    visible = await client.vaults(deadline);
  } catch (error) {
    const failure = toConnectError(error);
    return { functionName: scope.functionName, undeclared: [], missing: [], error: `${failure.code}: ${failure.message}`, ok: false };
  }
  const declared = new Set(scope.vaults);
  const isDeclared = (vault: { id: string; name: string }): boolean => declared.has(vault.id.toLowerCase()) || declared.has(vault.name.toLowerCase());
  const undeclared = visible.filter((vault) => !isDeclared(vault)).map((vault) => vault.name).sort();
  const missing = scope.vaults.filter((wanted) => !visible.some((vault) => [vault.id.toLowerCase(), vault.name.toLowerCase()].includes(wanted)));
  return { functionName: scope.functionName, undeclared, missing, ok: undeclared.length === 0 && missing.length === 0 };
}

async function stageDrift(a: StageManifest, b: StageManifest, access: ConnectAccess, deadline: number): Promise<DriftFinding[]> {
  return [...compareDeclarations(a, b), ...(await compareItems(a, b, connectShapes(access, deadline)))];
}

/** Item shapes read over Connect, one read per item. */
function connectShapes(access: ConnectAccess, deadline: number): ShapeSource {
  const cache = new Map<string, Promise<ItemShape | ConnectError>>();
  return {
    itemShape(stage, vault, item) {
      const key = `${stage}\0${vault}\0${item}`.toLowerCase();
      let shape = cache.get(key);
      if (!shape) {
        const client = new OpsConnectClient({ host: access.hostFor(stage), allowHttp: access.allowHttp, token: access.tokenFor(stage) });
        shape = client
          .locate(vault, item, deadline)
          .then((address) => client.getItem(address, deadline))
          .then(shapeOf, (error: unknown) => toConnectError(error));
        cache.set(key, shape);
      }
      return shape;
    },
  };
}

/** The report as plain-text tables. */
export function formatReport(report: SecretsCheckReport): string {
  const lines: string[] = [];
  const referenceRows = report.stages.flatMap(({ stage, checks }) =>
    checks.map((check) => [stage, check.functionName, check.name, check.reference, check.ok ? 'ok' : `FAIL ${check.code}: ${check.detail ?? ''}`.trim()]),
  );
  lines.push('References', ...table(['STAGE', 'FUNCTION', 'NAME', 'REFERENCE', 'STATUS'], referenceRows));
  if (report.drift) {
    const [first, second] = report.stages;
    lines.push('', `Drift between ${first?.stage} and ${second?.stage}`);
    if (report.drift.length === 0) lines.push('none: same secret names per function, same field labels and types');
    else {
      const rows = report.drift.map((finding) => [finding.kind, finding.stage, finding.functionName, finding.name ?? '', finding.item ?? '', finding.field ?? '', finding.detail]);
      lines.push(...table(['DRIFT', 'STAGE', 'FUNCTION', 'NAME', 'ITEM', 'FIELD', 'DETAIL'], rows));
    }
  }
  const tokenRows = report.stages.flatMap(({ stage, tokens }) => tokens.map((token) => [stage, token.functionName, tokenStatus(token)]));
  lines.push('', 'Token scope (GET /v1/vaults with each function\'s own token)');
  if (tokenRows.length === 0) lines.push('not checked: give a function\'s own token as OP_CONNECT_TOKEN_<STAGE>_<FUNCTION>');
  else lines.push(...table(['STAGE', 'FUNCTION', 'STATUS'], tokenRows));
  const unresolved = report.stages.reduce((sum, { checks }) => sum + checks.filter((check) => !check.ok).length, 0);
  const total = report.stages.reduce((sum, { checks }) => sum + checks.length, 0);
  const badTokens = report.stages.reduce((sum, { tokens }) => sum + tokens.filter((token) => !token.ok).length, 0);
  const tokenSummary = tokenRows.length === 0 ? '' : badTokens === 0 ? `, ${tokenRows.length} token(s) scoped to their vaults` : `, ${badTokens} token(s) badly scoped`;
  lines.push(
    '',
    report.ok
      ? `OK: ${total} references resolved${report.drift ? ', no drift' : ''}${tokenSummary}`
      : `FAILED: ${unresolved} of ${total} references unresolved${report.drift ? `, ${report.drift.length} drift finding(s)` : ''}${tokenSummary}`,
  );
  return lines.join('\n');
}

function tokenStatus(token: TokenCheck): string {
  if (token.error) return `FAIL ${token.error}`;
  const problems = [
    ...(token.undeclared.length > 0 ? [`sees undeclared vault(s) ${token.undeclared.join(', ')}`] : []),
    ...(token.missing.length > 0 ? [`cannot see declared vault(s) ${token.missing.join(', ')}`] : []),
  ];
  return problems.length === 0 ? 'ok' : `FAIL ${problems.join('; ')}`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const format = (row: string[]): string => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [format(header), ...rows.map(format)];
}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** The command line: parses arguments and environment, runs the check, prints, returns the exit status. */
export async function main(argv: readonly string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  let stage: StageName;
  let compare: StageName | undefined;
  try {
    ({ stage, compare } = parseCliArgs(argv));
  } catch (error) {
    io.err(`${(error as Error).message}\nusage: npm run secrets:check -- --stage <${STAGE_NAMES.join('|')}> [--compare <stage>]`);
    return 2;
  }
  const named = [stage, ...(compare ? [compare] : [])];
  const missingHost = named.find((name) => !perStage(env, 'OP_CONNECT_HOST', name));
  const missingToken = named.find((name) => !perStage(env, 'OP_CONNECT_TOKEN', name));
  if (missingHost || missingToken) {
    const [variable, name] = missingHost ? ['OP_CONNECT_HOST', missingHost] : ['OP_CONNECT_TOKEN', missingToken!];
    io.err(`no Connect ${missingHost ? 'host' : 'token'} for ${name}: set ${variable}_${name.toUpperCase()} (or ${variable} for every stage)`);
    return 2;
  }
  const access: ConnectAccess = {
    allowHttp: /^(true|1)$/i.test(env['OP_CONNECT_ALLOW_HTTP']?.trim() ?? ''),
    hostFor: (name) => perStage(env, 'OP_CONNECT_HOST', name)!,
    tokenFor: (name) => perStage(env, 'OP_CONNECT_TOKEN', name)!,
    functionTokenFor: (name, functionName) => env[functionTokenVariable(name, functionName)] || undefined,
  };
  const stages = [stage, ...(compare ? [compare] : [])].map((name) => {
    const config = stageConfig(name);
    return { stage: name, manifest: buildManifest(config.functions), tokenScopes: tokenScopes(config) };
  });
  try {
    const report = await runSecretsCheck(stages, access);
    io.out(formatReport(report));
    return report.ok ? 0 : 1;
  } catch (error) {
    // Configuration errors (an insecure host, say) carry codes and messages without values.
    const failure = error instanceof ConnectError ? `${error.code}: ${error.message}` : (error as Error).message;
    io.err(`secrets:check failed: ${failure}`);
    return 2;
  }
}

/** Where a function's own token is given: OP_CONNECT_TOKEN_<STAGE>_<FUNCTION>, e.g. OP_CONNECT_TOKEN_STAGING_PAYMENTS. */
export function functionTokenVariable(stage: string, functionName: string): string {
  return `OP_CONNECT_TOKEN_${stage}_${functionName}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/** `<variable>_<STAGE>`, else `<variable>` shared by every stage. */
function perStage(env: Record<string, string | undefined>, variable: string, stage: string): string | undefined {
  return env[`${variable}_${stage.toUpperCase()}`] || env[variable] || undefined;
}

function parseCliArgs(argv: readonly string[]): { stage: StageName; compare?: StageName } {
  const { values } = parseArgs({
    args: [...argv],
    options: { stage: { type: 'string' }, compare: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  if (!isStageName(values.stage)) throw new Error(`--stage must be one of ${STAGE_NAMES.join(', ')}`);
  if (values.compare !== undefined && !isStageName(values.compare)) throw new Error(`--compare must be one of ${STAGE_NAMES.join(', ')}`);
  if (values.compare === values.stage) throw new Error('--compare must name another stage');
  return { stage: values.stage, ...(values.compare ? { compare: values.compare } : {}) };
}

if (require.main === module) {
  void main(process.argv.slice(2), process.env, {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  }).then((code) => {
    process.exitCode = code;
  });
}
