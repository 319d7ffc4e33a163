/**
 * Decides whether one webhook delivery is authentic: header well formed, timestamp fresh, and a
 * v1 signature made with the source's current or previous signing secret. When neither matches,
 * the secrets may have been rotated since they were cached, so the caller may offer fresher ones
 * once (`refreshed`), which it throttles; when those cannot be read, `verifyDelivery` rejects.
 */
import { DEFAULT_TOLERANCE_SECONDS, isWithinTolerance, matchesAnySecret, parseSignatureHeader } from './signature';

export interface SigningSecrets {
  current: string;
  /** Absent outside a rotation. */
  previous?: string;
}

export type DeliveryVerdict =
  /** `signedAt`: the signature's timestamp (unix seconds), part of what makes the delivery unique. */
  | { kind: 'accepted'; usedRefresh: boolean; signedAt: number }
  /** No header, or not one we can read: 400. */
  | { kind: 'malformed'; reason: string }
  /** Signed too long ago, or further ahead than clock skew explains: 401. */
  | { kind: 'stale' }
  /** No signature matches any secret: 401. */
  | { kind: 'mismatch'; usedRefresh: boolean };

export interface DeliveryCheck {
  signatureHeader: string | undefined;
  rawBody: Buffer;
  nowSeconds: number;
  secrets: SigningSecrets;
  /**
   * Fresh secrets after a miss, or undefined when a refresh is not allowed now (throttled). May
   * reject when the secrets cannot be read: the rejection is the caller's to answer, since the
   * delivery may be valid.
   */
  refreshed: () => Promise<SigningSecrets | undefined>;
  toleranceSeconds?: number;
}

function secretList(secrets: SigningSecrets): string[] {
  return [secrets.current, secrets.previous].filter((secret): secret is string => typeof secret === 'string' && secret.length > 0);
}

export async function verifyDelivery(check: DeliveryCheck): Promise<DeliveryVerdict> {
  const parsed = parseSignatureHeader(check.signatureHeader);
  if (!parsed.ok) return { kind: 'malformed', reason: parsed.reason };
  const { header } = parsed;
  // Checked before any secret is used, so replays of old deliveries never trigger a refresh.
  if (!isWithinTolerance(header.timestamp, check.nowSeconds, check.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return { kind: 'stale' };
  if (matchesAnySecret(header, check.rawBody, secretList(check.secrets))) return { kind: 'accepted', usedRefresh: false, signedAt: header.timestamp };
  const fresh = await check.refreshed();
  if (fresh === undefined) return { kind: 'mismatch', usedRefresh: false };
  if (matchesAnySecret(header, check.rawBody, secretList(fresh))) return { kind: 'accepted', usedRefresh: true, signedAt: header.timestamp };
  return { kind: 'mismatch', usedRefresh: true };
}
