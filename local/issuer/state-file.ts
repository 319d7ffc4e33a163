/**
 * Where a running `npm start` tells `npm run token` how to reach its local issuer: a small JSON
 * file in the cloud assembly folder (which `npm start` owns), holding the issuer's URL and token
 * endpoint, never a key or a token. Written when the API is up, removed when it stops.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FILE_NAME = 'local-issuer.json';

export interface IssuerState {
  issuer: string;
  tokenEndpoint: string;
  /** The `npm start` process serving it. */
  pid: number;
}

export function issuerStatePath(cdkOut: string): string {
  return join(cdkOut, FILE_NAME);
}

export function writeIssuerState(cdkOut: string, state: IssuerState): void {
  writeFileSync(issuerStatePath(cdkOut), `${JSON.stringify(state)}\n`, { mode: 0o600 });
}

export function removeIssuerState(cdkOut: string): void {
  rmSync(issuerStatePath(cdkOut), { force: true });
}

/** The state a running `npm start` left, or undefined when there is none (or its process is gone). */
export function readIssuerState(cdkOut: string): IssuerState | undefined {
  let state: Partial<IssuerState>;
  try {
    state = JSON.parse(readFileSync(issuerStatePath(cdkOut), 'utf8')) as Partial<IssuerState>;
  } catch {
    return undefined;
  }
  if (typeof state.issuer !== 'string' || typeof state.tokenEndpoint !== 'string' || typeof state.pid !== 'number') return undefined;
  return isAlive(state.pid) ? (state as IssuerState) : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
