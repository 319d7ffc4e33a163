/**
 * Connect's answers, checked before anything in them is used. Whoever answers at OP_CONNECT_HOST
 * (a compromised Connect server, or one impersonating it) chooses every byte: an id goes into a
 * request path only once it has 1Password's shape (a vault id `..` must not reach another path),
 * and a field becomes a secret only when its value is a string.
 *
 * An answer that fails these checks is well-formed JSON that no genuine Connect server sends:
 * asking again would bring the same answer back, so the errors are not retryable.
 */
import type { FullItem } from '@1password/connect';
import { ConnectError } from '../errors';

/** 1Password's object ids: 26 lowercase letters and digits. */
export const CONNECT_ID_PATTERN = /^[\da-z]{26}$/;

/** RFC 4226: a one-time code has 6 to 10 decimal digits (10 spans the 31-bit truncated value). */
const ONE_TIME_CODE_PATTERN = /^\d{6,10}$/;

type ItemField = NonNullable<FullItem['fields']>[number];

export function isConnectId(value: unknown): value is string {
  return typeof value === 'string' && CONNECT_ID_PATTERN.test(value);
}

/** A well-formed answer that is not what Connect sends; `reference` when one reference is concerned. */
export function untrustworthyAnswer(detail: string, reference?: string): ConnectError {
  return new ConnectError('INVALID_RESPONSE', detail, { reference, retryable: false });
}

/** An id from a list (`what`: "vault list", "item list"), checked before it is indexed or put in a path. */
export function listedId(id: string, what: string): string {
  if (!isConnectId(id)) throw untrustworthyAnswer(`Connect's ${what} holds an id that is not a 1Password id`);
  return id;
}

/** Where an item was asked for: its body must say the same. */
export interface RequestedItem {
  readonly vaultId: string;
  readonly itemId: string;
}

/**
 * A full item as Connect sends it, for the item that was asked for. A body of the wrong shape is
 * malformed (retried: proxies and truncation make those); a body of the right shape naming
 * another item, or an id that is not 1Password's, is not (the same server would answer the same).
 */
export function checkedItem(item: FullItem | undefined, requested: RequestedItem): FullItem {
  if (typeof item?.id !== 'string' || (item.fields !== undefined && !Array.isArray(item.fields))) {
    throw new ConnectError('INVALID_RESPONSE', 'Connect returned a malformed item');
  }
  if (item.id !== requested.itemId || !isConnectId(item.id)) throw untrustworthyAnswer('Connect returned an item other than the one requested');
  if (item.vault?.id !== undefined && item.vault.id !== requested.vaultId) {
    throw untrustworthyAnswer('Connect returned an item of another vault than the one requested');
  }
  if (item.version !== undefined && !(Number.isSafeInteger(item.version) && item.version >= 0)) {
    throw untrustworthyAnswer('Connect returned an item whose version is not a whole number');
  }
  if (!(item.fields ?? []).every(isFieldShaped) || !(item.sections ?? []).every(isSectionShaped)) {
    throw untrustworthyAnswer('Connect returned an item whose fields or sections are malformed');
  }
  return item;
}

/** The field's value as the secret: a string, or nothing (an empty field). Never a number, object or null. */
export function fieldValue(field: ItemField, reference: string): string | ConnectError {
  const value: unknown = field.value;
  if (value === undefined) return '';
  if (typeof value !== 'string') return untrustworthyAnswer('Connect returned a field value that is not a string', reference);
  return value;
}

/** The current code of an OTP field: digits only, or it is no code. */
export function oneTimeCodeValue(code: unknown, reference: string): string | ConnectError {
  if (code === undefined || code === '') {
    return new ConnectError('FIELD_NOT_FOUND', 'Connect returned no current code for the one-time password field', { reference });
  }
  if (typeof code !== 'string' || !ONE_TIME_CODE_PATTERN.test(code)) {
    return untrustworthyAnswer('Connect returned a one-time code that is not 6 to 10 digits', reference);
  }
  return code;
}

/** Matching reads ids and labels as strings: anything else must not reach it. */
function isFieldShaped(field: unknown): boolean {
  return isRecord(field) && optionalString(field['id']) && optionalString(field['label']) && optionalSectionLink(field['section']);
}

function isSectionShaped(section: unknown): boolean {
  return isRecord(section) && optionalString(section['id']) && optionalString(section['label']);
}

function optionalSectionLink(section: unknown): boolean {
  return section === undefined || (isRecord(section) && optionalString(section['id']));
}

function optionalString(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
