/**
 * Which field of an item a reference names.
 *
 * By id, else by label (case-insensitive); within the named section when the reference has one
 * (section by id, else label). Without a section, a field outside every section wins over
 * fields inside sections, as in 1Password's own clients. Two equally good matches are an error:
 * guessing would hand the handler the wrong credential.
 */
import type { FullItem } from '@1password/connect';
import { ConnectError } from '../errors';
import type { SecretReference } from '../reference';
import { exactlyOne, matchByIdThenName } from './match';

type ItemField = NonNullable<FullItem['fields']>[number];

export interface FieldMatch {
  value: string;
  fieldId: string;
}

/** Connect says OTP; its OpenAPI spec says TOTP. */
const OTP_TYPES: ReadonlySet<string> = new Set(['OTP', 'TOTP']);

/** The value (or current one-time code) a reference names in `item`, or why there is none. */
export function selectField(item: FullItem, reference: SecretReference): FieldMatch | ConnectError {
  const candidates = fieldsInScope(item, reference);
  if (candidates instanceof ConnectError) return candidates;
  const field = pickField(candidates, reference);
  if (field instanceof ConnectError) return field;
  return reference.attribute === 'otp' ? oneTimeCode(field, reference) : { value: field.value ?? '', fieldId: field.id ?? '' };
}

function fieldsInScope(item: FullItem, reference: SecretReference): ItemField[] | ConnectError {
  const fields = item.fields ?? [];
  if (reference.section === undefined) return fields;
  const sections = matchByIdThenName(item.sections ?? [], reference.section, (section) => section.label);
  const section = exactlyOne(sections, {
    none: () => new ConnectError('FIELD_NOT_FOUND', 'the item has no section with that id or label', { reference: reference.raw }),
    many: () => new ConnectError('AMBIGUOUS', 'several sections of the item match the section name', { reference: reference.raw }),
  });
  if (section instanceof ConnectError) return section;
  return fields.filter((field) => field.section?.id !== undefined && field.section.id === section.id);
}

function pickField(fields: ItemField[], reference: SecretReference): ItemField | ConnectError {
  const matches = matchByIdThenName(fields, reference.field, (field) => field.label);
  // Only without a section in the reference does "outside sections wins" apply.
  const preferred = matches.filter((field) => field.section?.id === undefined);
  const finalists = reference.section === undefined && preferred.length > 0 ? preferred : matches;
  return exactlyOne(finalists, {
    none: () => new ConnectError('FIELD_NOT_FOUND', 'the item has no field with that id or label', { reference: reference.raw }),
    many: (count) => new ConnectError('AMBIGUOUS', `${count} fields of the item match the field name`, { reference: reference.raw }),
  });
}

function oneTimeCode(field: ItemField, reference: SecretReference): FieldMatch | ConnectError {
  if (field.type === undefined || !OTP_TYPES.has(String(field.type))) {
    return new ConnectError('FIELD_NOT_FOUND', 'the field is not a one-time password field', { reference: reference.raw });
  }
  // The SDK maps Connect's undocumented `totp` property (the current code) to `otp`.
  if (typeof field.otp !== 'string' || field.otp.length === 0) {
    return new ConnectError('FIELD_NOT_FOUND', 'Connect returned no current code for the one-time password field', {
      reference: reference.raw,
    });
  }
  return { value: field.otp, fieldId: field.id ?? '' };
}
