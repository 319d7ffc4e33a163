/**
 * Rotation of a signing secret kept as three fields of one 1Password item: `current` (what senders
 * sign with), `previous` (what verifiers still accept) and `rotatedAt` (ISO 8601 time of the last
 * rotation). A verifier accepts a signature made with either `current` or `previous`.
 *
 * The invariant: after any sequence of rotations (one after another, repeated, or concurrent),
 * `previous` is the value that was `current` immediately before the latest `current`. Hence a
 * value that was ever `current` stays accepted until the rotation after the one that retired it.
 *
 * How it holds:
 * - a rotation writes `previous := the current it read` and sends the item `version` it read; a
 *   server that has a newer version answers 409, and the rotation starts again from a fresh read;
 * - a rotation that finds `rotatedAt` younger than `minAgeMs` does nothing: a second run, a
 *   retried invocation or the loser of a concurrent pair would otherwise push the value senders
 *   are still using out of `previous` in favour of one nobody had time to pick up;
 * - every write is checked by reading the item back. 1Password documents no version check on
 *   item replacement, so against a server that ignores `version` the read-back is what notices a
 *   concurrent writer. If another rotation replaced ours without having seen it, the outcome is
 *   `superseded` and nothing is retried: the item then holds the other rotation's value, and
 *   `previous` still holds the value both rotations read as current.
 */
import { randomBytes } from 'node:crypto';
import { toConnectError } from '../secrets/connect/connect-errors';
import type { ConnectFieldJson, ConnectItemJson, ItemAddress, ReplaceResult } from './ops-client';

/** A rotatable item, by vault and item name (or id). */
export interface RotationTarget {
  vault: string;
  item: string;
}

export const ROTATION_FIELDS = { current: 'current', previous: 'previous', rotatedAt: 'rotatedAt' } as const;

/** The Connect calls a rotation makes (OpsConnectClient provides them). */
export interface RotationConnect {
  locate(vault: string, item: string, deadline: number): Promise<ItemAddress>;
  getItem(address: ItemAddress, deadline: number): Promise<ConnectItemJson>;
  replaceItem(item: ConnectItemJson, deadline: number): Promise<ReplaceResult>;
}

export interface RotationOptions {
  /** Epoch milliseconds by which the rotation must be over. */
  deadline: number;
  /** A rotation younger than this is left alone. @default 1 hour */
  minAgeMs?: number;
  /** Rotate even if the last rotation is younger than minAgeMs. */
  force?: boolean;
  /** Read-write rounds before giving up on a contended item. @default 5 */
  maxAttempts?: number;
  now?: () => number;
  /** Source of new values. @default generateSecretValue */
  generate?: () => string;
}

/**
 * - `rotated`: this rotation's value is (or was, before a later rotation) `current`.
 * - `fresh`: the item was rotated less than minAgeMs ago (by a concurrent or earlier run); untouched.
 * - `superseded`: a concurrent writer that had not seen this rotation replaced it.
 */
export type RotationOutcome = 'rotated' | 'fresh' | 'superseded';

/** What a rotation did; never a value. */
export interface RotationResult extends ItemAddress {
  vault: string;
  item: string;
  outcome: RotationOutcome;
  /** The item's version after the rotation's last read. */
  itemVersion: number;
  /** Read-write rounds used. */
  attempts: number;
  /** Writes refused with 409. */
  conflicts: number;
  /** Our write landed on a version newer than the one we read (a writer the server let through). */
  overwroteConcurrentWrite: boolean;
}

export class RotationError extends Error {
  override readonly name = 'RotationError';
  constructor(
    readonly target: RotationTarget,
    readonly code: string,
    detail: string,
    options: { cause?: unknown } = {},
  ) {
    super(`rotation of ${target.vault}/${target.item} failed: ${detail}`, options);
  }
}

export const DEFAULT_MIN_AGE_MS = 3_600_000;
const DEFAULT_MAX_ATTEMPTS = 5;

/** 32 bytes from the system CSPRNG, base64url without padding (43 characters). */
export function generateSecretValue(): string {
  return randomBytes(32).toString('base64url');
}

/** Rotates one item; see the module comment for what is guaranteed. */
export async function rotateItem(connect: RotationConnect, target: RotationTarget, options: RotationOptions): Promise<RotationResult> {
  const now = options.now ?? Date.now;
  const minAgeMs = options.minAgeMs ?? DEFAULT_MIN_AGE_MS;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const generate = options.generate ?? generateSecretValue;
  const address = await connect.locate(target.vault, target.item, options.deadline);
  let conflicts = 0;
  let attempts = 0;
  const result = (outcome: RotationOutcome, itemVersion: number, overwroteConcurrentWrite = false): RotationResult => ({
    ...target,
    ...address,
    outcome,
    itemVersion,
    attempts,
    conflicts,
    overwroteConcurrentWrite,
  });
  while (attempts < maxAttempts) {
    attempts += 1;
    const before = await connect.getItem(address, options.deadline);
    const state = readRotationState(before, target);
    if (!options.force && state.rotatedAt !== undefined && now() - state.rotatedAt < minAgeMs) {
      return result('fresh', before.version);
    }
    const value = generate();
    const written = await writeOnce(connect, withRotation(before, value, new Date(now())), options.deadline);
    if (written === 'conflict') {
      conflicts += 1;
      continue;
    }
    const after = await connect.getItem(address, options.deadline);
    const verdict = judge(after, target, value, state.current);
    if (verdict === 'not-written') continue;
    return result(verdict, after.version, written !== 'unknown' && written.version > before.version + 1);
  }
  throw new RotationError(target, 'CONTENDED', `still contended after ${maxAttempts} attempts (${conflicts} conflicts)`);
}

interface RotationState {
  current: string;
  rotatedAt?: number;
}

/** The rotation fields of an item; an item without a `current` field is not rotatable. */
function readRotationState(item: ConnectItemJson, target: RotationTarget): RotationState {
  const current = findField(item, ROTATION_FIELDS.current);
  if (!current) throw new RotationError(target, 'NOT_ROTATABLE', `the item has no "${ROTATION_FIELDS.current}" field`);
  const rotatedAt = Date.parse(findField(item, ROTATION_FIELDS.rotatedAt)?.value ?? '');
  return { current: current.value ?? '', ...(Number.isNaN(rotatedAt) ? {} : { rotatedAt }) };
}

/** The item as it should be after rotating in `value`: previous := current, current := value. */
export function withRotation(item: ConnectItemJson, value: string, at: Date): ConnectItemJson {
  const next = structuredClone(item);
  const current = findField(next, ROTATION_FIELDS.current)!;
  setField(next, ROTATION_FIELDS.previous, current.value ?? '', current.type ?? 'CONCEALED');
  current.value = value;
  setField(next, ROTATION_FIELDS.rotatedAt, at.toISOString(), 'STRING');
  return next;
}

type WriteOutcome = ConnectItemJson | 'conflict' | 'unknown';

/**
 * One replacement write. A write whose answer was lost (timeout, reset) may or may not have
 * landed: 'unknown' sends the caller to read the item back rather than guess.
 */
async function writeOnce(connect: RotationConnect, item: ConnectItemJson, deadline: number): Promise<WriteOutcome> {
  try {
    const written = await connect.replaceItem(item, deadline);
    return written.ok ? written.item : 'conflict';
  } catch (error) {
    const failure = toConnectError(error);
    if (failure.retryable && Date.now() < deadline) return 'unknown';
    throw failure;
  }
}

/** What the read-back says about our write of `value` over `readCurrent`. */
function judge(after: ConnectItemJson, target: RotationTarget, value: string, readCurrent: string): RotationOutcome | 'not-written' {
  const current = findField(after, ROTATION_FIELDS.current)?.value;
  const previous = findField(after, ROTATION_FIELDS.previous)?.value;
  if (current === value && previous === readCurrent) return 'rotated';
  // A later rotation saw ours and retired it properly: ours was committed.
  if (previous === value) return 'rotated';
  if (current === readCurrent) return 'not-written';
  if (current === undefined) throw new RotationError(target, 'NOT_ROTATABLE', 'the item lost its current field during rotation');
  return 'superseded';
}

/** Field by label (case-insensitive) outside sections first, as secret references resolve it. */
function findField(item: ConnectItemJson, label: string): ConnectFieldJson | undefined {
  const matches = (item.fields ?? []).filter((field) => field.label?.toLowerCase() === label.toLowerCase());
  return matches.find((field) => field.section === undefined) ?? matches[0];
}

/** Sets the field `findField` finds, or adds one outside sections. */
function setField(item: ConnectItemJson, label: string, value: string, type: string): void {
  const existing = findField(item, label);
  if (existing) existing.value = value;
  else (item.fields ??= []).push({ id: newFieldId(), type, label, value });
}

/** 26 lowercase letters and digits, the shape of a 1Password id. */
function newFieldId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(26), (byte) => alphabet[byte % alphabet.length]).join('');
}
