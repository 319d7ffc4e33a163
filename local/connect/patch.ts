// The RFC 6902 subset Connect's PATCH understands: add, remove and replace on item attributes,
// on `/fields` and `/sections` (by id) and their attributes, and on array elements by index.
import { badRequest } from './errors';
import { isJsonObject } from './item-input';

type Json = Record<string, unknown>;

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path: string;
  value?: unknown;
}

const ITEM_ATTRIBUTES = new Set(['title', 'category', 'favorite', 'tags', 'urls', 'sections', 'fields']);
const LIST_ATTRIBUTES = new Set(['tags', 'urls', 'sections', 'fields']);
const FIELD_ATTRIBUTES = new Set(['label', 'value', 'type', 'purpose', 'section', 'generate', 'recipe']);
const SECTION_ATTRIBUTES = new Set(['label']);

export function readPatch(body: unknown): PatchOperation[] {
  if (!Array.isArray(body)) throw badRequest('patch must be an array of operations');
  return body.map((entry, index) => {
    if (!isJsonObject(entry)) throw badRequest(`patch[${index}] must be an object`);
    const { op, path } = entry;
    if (op !== 'add' && op !== 'remove' && op !== 'replace') throw badRequest(`patch[${index}].op must be add, remove or replace`);
    if (typeof path !== 'string' || !path.startsWith('/')) throw badRequest(`patch[${index}].path must be a JSON pointer`);
    if (op !== 'remove' && !('value' in entry)) throw badRequest(`patch[${index}] needs a value`);
    return { op, path, value: entry['value'] };
  });
}

function pointerSegments(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function listOf(doc: Json, attribute: string): unknown[] {
  const list = doc[attribute];
  if (Array.isArray(list)) return list;
  const fresh: unknown[] = [];
  doc[attribute] = fresh;
  return fresh;
}

function applyToRoot(doc: Json, operation: PatchOperation, where: string): void {
  if (operation.op === 'remove') throw badRequest(`${where}: the item itself cannot be removed`);
  if (!isJsonObject(operation.value)) throw badRequest(`${where}.value must be an object`);
  // "Equivalent to a PUT": every attribute given replaces the current one.
  Object.assign(doc, operation.value);
}

function applyToAttribute(doc: Json, attribute: string, operation: PatchOperation): void {
  if (operation.op === 'remove') {
    if (LIST_ATTRIBUTES.has(attribute)) doc[attribute] = [];
    else if (attribute === 'favorite') doc[attribute] = false;
    else doc[attribute] = attribute === 'title' ? '' : undefined;
    return;
  }
  // `add` of one element to a list attribute appends it (`add /fields {…}` creates a field).
  if (operation.op === 'add' && LIST_ATTRIBUTES.has(attribute) && !Array.isArray(operation.value)) {
    listOf(doc, attribute).push(operation.value);
    return;
  }
  doc[attribute] = operation.value;
}

function applyToIndex(list: unknown[], key: string, operation: PatchOperation, where: string): void {
  const index = key === '-' ? list.length : /^\d+$/.test(key) ? Number(key) : NaN;
  const limit = operation.op === 'add' ? list.length : list.length - 1;
  if (!Number.isInteger(index) || index > limit) throw badRequest(`${where}: no element at that index`);
  if (operation.op === 'add') list.splice(index, 0, operation.value);
  else if (operation.op === 'replace') list[index] = operation.value;
  else list.splice(index, 1);
}

interface MemberTarget {
  list: unknown[];
  id: string;
  attributes: ReadonlySet<string>;
}

function applyToMember({ list, id, attributes }: MemberTarget, rest: string[], operation: PatchOperation, where: string): void {
  const index = list.findIndex((entry) => isJsonObject(entry) && entry['id'] === id);
  if (rest.length === 0) {
    if (index < 0 && operation.op !== 'add') throw badRequest(`${where}: no such element in the item`);
    if (operation.op === 'remove') list.splice(index, 1);
    else if (!isJsonObject(operation.value)) throw badRequest(`${where}.value must be an object`);
    else if (index < 0) list.push({ ...operation.value, id });
    else list[index] = { ...operation.value, id };
    return;
  }
  const [attribute] = rest;
  if (rest.length !== 1 || attribute === undefined || !attributes.has(attribute)) throw badRequest(`${where}: unsupported path`);
  const member = list[index];
  if (!isJsonObject(member)) throw badRequest(`${where}: no such element in the item`);
  if (operation.op === 'remove') {
    // An absent attribute and an undefined one read the same way when the document is validated.
    member[attribute] = attribute === 'value' || attribute === 'label' ? '' : undefined;
  } else {
    member[attribute] = operation.value;
  }
}

function applyOperation(doc: Json, operation: PatchOperation, where: string): void {
  const [attribute, key, ...rest] = pointerSegments(operation.path);
  if (attribute === undefined) return applyToRoot(doc, operation, where);
  if (!ITEM_ATTRIBUTES.has(attribute)) throw badRequest(`${where}: unsupported path`);
  if (key === undefined) return applyToAttribute(doc, attribute, operation);
  if (!LIST_ATTRIBUTES.has(attribute)) throw badRequest(`${where}: unsupported path`);
  const list = listOf(doc, attribute);
  // Fields and sections are addressed by id; tags and urls by index.
  if (attribute === 'fields' || attribute === 'sections') {
    const attributes = attribute === 'fields' ? FIELD_ATTRIBUTES : SECTION_ATTRIBUTES;
    return applyToMember({ list, id: key, attributes }, rest, operation, `${where} (${attribute}/${key})`);
  }
  if (rest.length > 0) throw badRequest(`${where}: unsupported path`);
  applyToIndex(list, key, operation, where);
}

/** Applies the operations in order to a copy of the document. */
export function applyPatch(doc: Json, operations: PatchOperation[]): Json {
  const copy = structuredClone(doc);
  operations.forEach((operation, index) => applyOperation(copy, operation, `patch[${index}]`));
  return copy;
}
