// Bearer tokens from the seed: each one read-only or read-write, scoped to some vaults or to all.
import { ConnectError } from './errors';
import { deriveId, deriveUuid } from './ids';
import type { VaultRecord } from './model';
import type { ConnectSeedToken } from './seed';

export interface TokenGrant {
  name: string;
  write: boolean;
  /** Vault names (lower case) or ids; `*` for all. */
  scope: readonly string[];
  /** Stable identities for the activity log, derived from the token's name (never its value). */
  actorId: string;
  jti: string;
  /** The id shown as `lastEditedBy` on items this token writes. */
  userId: string;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export class TokenRegistry {
  private readonly byValue = new Map<string, TokenGrant>();

  constructor(tokens: readonly ConnectSeedToken[]) {
    for (const token of tokens) {
      this.byValue.set(token.token, {
        name: token.name,
        write: token.write === true,
        scope: token.vaults.map((ref) => ref.toLowerCase()),
        actorId: deriveUuid('actor', token.name),
        jti: deriveId('jti', token.name),
        userId: deriveId('user', token.name),
      });
    }
  }

  /** The grant for an Authorization header, if it carries a known token. */
  lookup(authorization: string | undefined): TokenGrant | undefined {
    const token = BEARER.exec(authorization ?? '')?.[1];
    return token === undefined ? undefined : this.byValue.get(token);
  }

  /** As lookup, but a missing or unknown token is Connect's 401. */
  authenticate(authorization: string | undefined): TokenGrant {
    if (!BEARER.test(authorization ?? '')) throw new ConnectError(401, 'Invalid bearer token');
    const grant = this.lookup(authorization);
    if (!grant) throw new ConnectError(401, 'Invalid token signature');
    return grant;
  }
}

export function grantCoversVault(grant: TokenGrant, vault: VaultRecord): boolean {
  return grant.scope.some((ref) => ref === '*' || ref === vault.id || ref === vault.name.toLowerCase());
}
