// Validates an item document sent with POST, PUT or PATCH and turns it into item content.
// Error messages name positions (`fields[2].type`), never a value.
import { randomInt } from 'node:crypto';
import { badRequest } from './errors';
import { randomId } from './ids';
import {
  FIELD_PURPOSES,
  ITEM_CATEGORIES,
  normalizeFieldType,
  type FieldRecord,
  type ItemContent,
  type SectionRecord,
  type UrlRecord,
} from './model';

type Json = Record<string, unknown>;

export function isJsonObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`${where} must be a string`);
  return value;
}

function optionalArray(value: unknown, where: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw badRequest(`${where} must be an array`);
  return value;
}

function objectAt(value: unknown, where: string): Json {
  if (!isJsonObject(value)) throw badRequest(`${where} must be an object`);
  return value;
}

const CHARACTER_SETS: Record<string, string> = {
  LETTERS: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
  DIGITS: '0123456789',
  SYMBOLS: '!@#$%^&*()_+-=[]{}|;:,.<>?~',
};

/** A value for `generate: true`, following the field's recipe (default: 32 letters and digits). */
function generateValue(recipe: unknown, where: string): string {
  const spec = recipe === undefined || recipe === null ? {} : objectAt(recipe, `${where}.recipe`);
  const length = spec['length'] ?? 32;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 1 || length > 64) {
    throw badRequest(`${where}.recipe.length must be an integer from 1 to 64`);
  }
  const sets = optionalArray(spec['characterSets'], `${where}.recipe.characterSets`);
  const chosen = sets.length > 0 ? sets : ['LETTERS', 'DIGITS'];
  const excluded = optionalString(spec['excludeCharacters'], `${where}.recipe.excludeCharacters`) ?? '';
  const alphabet = [...chosen.map((set) => {
    if (typeof set !== 'string' || !(set in CHARACTER_SETS)) throw badRequest(`${where}.recipe.characterSets has an unknown set`);
    return CHARACTER_SETS[set]!;
  }).join('')].filter((char) => !excluded.includes(char));
  if (alphabet.length === 0) throw badRequest(`${where}.recipe excludes every character`);
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]!).join('');
}

function readSections(value: unknown): SectionRecord[] {
  return optionalArray(value, 'sections').map((entry, index) => {
    const section = objectAt(entry, `sections[${index}]`);
    return {
      id: optionalString(section['id'], `sections[${index}].id`) ?? randomId(),
      label: optionalString(section['label'], `sections[${index}].label`) ?? '',
    };
  });
}

function readField(entry: unknown, where: string, sections: SectionRecord[]): FieldRecord {
  const field = objectAt(entry, where);
  const purpose = optionalString(field['purpose'], `${where}.purpose`) ?? '';
  if (!FIELD_PURPOSES.includes(purpose)) throw badRequest(`${where}.purpose is not a field purpose`);
  const sectionRef = field['section'] === undefined || field['section'] === null
    ? undefined
    : optionalString(objectAt(field['section'], `${where}.section`)['id'], `${where}.section.id`);
  if (sectionRef !== undefined && !sections.some((section) => section.id === sectionRef)) {
    throw badRequest(`${where}.section refers to a section the item does not have`);
  }
  const value = field['generate'] === true
    ? generateValue(field['recipe'], where)
    : optionalString(field['value'], `${where}.value`) ?? '';
  return {
    id: optionalString(field['id'], `${where}.id`) ?? randomId(),
    type: normalizeFieldType(optionalString(field['type'], `${where}.type`)),
    purpose,
    label: optionalString(field['label'], `${where}.label`) ?? '',
    value,
    ...(sectionRef ? { sectionId: sectionRef } : {}),
  };
}

function readUrls(value: unknown): UrlRecord[] {
  return optionalArray(value, 'urls').map((entry, index) => {
    const url = objectAt(entry, `urls[${index}]`);
    const href = optionalString(url['href'], `urls[${index}].href`);
    if (!href) throw badRequest(`urls[${index}].href is required`);
    const label = optionalString(url['label'], `urls[${index}].label`);
    return { href, ...(label ? { label } : {}), ...(url['primary'] === true ? { primary: true } : {}) };
  });
}

function readTags(value: unknown): string[] {
  return optionalArray(value, 'tags').map((tag, index) => {
    if (typeof tag !== 'string') throw badRequest(`tags[${index}] must be a string`);
    return tag;
  });
}

function checkUniqueFieldIds(fields: FieldRecord[]): void {
  if (new Set(fields.map((field) => field.id)).size !== fields.length) throw badRequest('two fields share an id');
}

/** The editable content of an item document; `id` and `vault.id`, when present, must match the route. */
export function readItemContent(body: unknown, route: { vaultId: string; itemId?: string }): ItemContent {
  const item = objectAt(body, 'item');
  if (item['id'] !== undefined && route.itemId !== undefined && item['id'] !== route.itemId) {
    throw badRequest("item id does not match the item's path");
  }
  const vault = item['vault'];
  if (isJsonObject(vault) && vault['id'] !== undefined && vault['id'] !== route.vaultId) {
    throw badRequest("vault id does not match the item's path");
  }
  const category = optionalString(item['category'], 'category');
  if (!category || !ITEM_CATEGORIES.includes(category)) throw badRequest('Invalid item category');
  if (item['favorite'] !== undefined && typeof item['favorite'] !== 'boolean') throw badRequest('favorite must be a boolean');
  const sections = readSections(item['sections']);
  const fields = optionalArray(item['fields'], 'fields').map((field, index) => readField(field, `fields[${index}]`, sections));
  checkUniqueFieldIds(fields);
  return {
    title: optionalString(item['title'], 'title') ?? '',
    category,
    tags: readTags(item['tags']),
    favorite: item['favorite'] === true,
    urls: readUrls(item['urls']),
    sections,
    fields,
  };
}

/** The inverse of readItemContent: the document PATCH operations are applied to. */
export function contentAsDocument(content: ItemContent): Json {
  return {
    title: content.title,
    category: content.category,
    tags: [...content.tags],
    favorite: content.favorite,
    urls: structuredClone(content.urls),
    sections: content.sections.map((section) => ({ ...section })),
    fields: content.fields.map((field) => ({
      id: field.id,
      type: field.type,
      purpose: field.purpose,
      label: field.label,
      value: field.value,
      ...(field.sectionId ? { section: { id: field.sectionId } } : {}),
    })),
  };
}
