// The JSON document a local Connect server starts from: tokens and vault contents.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import demoVault from './demo-vault.json';

export interface ConnectSeedToken {
  name: string;
  token: string;
  /** Vault names or ids this token may access; `["*"]` for every vault. */
  vaults: string[];
  /** Read-write when true; read-only otherwise. */
  write?: boolean;
}

export interface ConnectSeedSection {
  id?: string;
  label: string;
}

export interface ConnectSeedField {
  id?: string;
  label: string;
  /** CONCEALED, STRING, OTP, EMAIL, URL, ... (`TOTP` is stored as `OTP`, as Connect does). Default STRING. */
  type?: string;
  purpose?: '' | 'USERNAME' | 'PASSWORD' | 'NOTES';
  value?: string;
  /** Label or id of one of the item's sections. */
  section?: string;
}

export interface ConnectSeedFile {
  id?: string;
  name: string;
  /** UTF-8 text content. */
  content: string;
  /** Label or id of one of the item's sections. */
  section?: string;
}

export interface ConnectSeedUrl {
  href: string;
  label?: string;
  primary?: boolean;
}

export interface ConnectSeedItem {
  id?: string;
  title: string;
  category: string;
  tags?: string[];
  favorite?: boolean;
  urls?: ConnectSeedUrl[];
  sections?: ConnectSeedSection[];
  fields: ConnectSeedField[];
  files?: ConnectSeedFile[];
}

export interface ConnectSeedVault {
  id?: string;
  name: string;
  description?: string;
  items: ConnectSeedItem[];
}

export interface ConnectSeed {
  tokens: ConnectSeedToken[];
  vaults: ConnectSeedVault[];
}

/** The demo vault shipped with op-lambda (its tokens are local demo values). */
export const DEMO_SEED_FILE: string = join(__dirname, 'demo-vault.json');

export class SeedError extends Error {
  override readonly name = 'SeedError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(value: unknown, where: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new SeedError(`${where} must be a non-empty string`);
}

function requireArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new SeedError(`${where} must be an array`);
  return value;
}

function checkToken(token: unknown, where: string): void {
  if (!isRecord(token)) throw new SeedError(`${where} must be an object`);
  requireString(token['name'], `${where}.name`);
  requireString(token['token'], `${where}.token`);
  requireArray(token['vaults'], `${where}.vaults`).forEach((v, i) => requireString(v, `${where}.vaults[${i}]`));
  if (token['write'] !== undefined && typeof token['write'] !== 'boolean') {
    throw new SeedError(`${where}.write must be a boolean`);
  }
}

function checkField(field: unknown, where: string): void {
  if (!isRecord(field)) throw new SeedError(`${where} must be an object`);
  requireString(field['label'], `${where}.label`);
  for (const key of ['id', 'type', 'purpose', 'value', 'section']) {
    if (field[key] !== undefined && typeof field[key] !== 'string') throw new SeedError(`${where}.${key} must be a string`);
  }
}

function checkItem(item: unknown, where: string): void {
  if (!isRecord(item)) throw new SeedError(`${where} must be an object`);
  requireString(item['title'], `${where}.title`);
  requireString(item['category'], `${where}.category`);
  requireArray(item['fields'] ?? [], `${where}.fields`).forEach((f, i) => checkField(f, `${where}.fields[${i}]`));
  requireArray(item['sections'] ?? [], `${where}.sections`).forEach((s, i) => {
    if (!isRecord(s)) throw new SeedError(`${where}.sections[${i}] must be an object`);
    requireString(s['label'], `${where}.sections[${i}].label`);
  });
  requireArray(item['files'] ?? [], `${where}.files`).forEach((f, i) => {
    if (!isRecord(f)) throw new SeedError(`${where}.files[${i}] must be an object`);
    requireString(f['name'], `${where}.files[${i}].name`);
    if (typeof f['content'] !== 'string') throw new SeedError(`${where}.files[${i}].content must be a string`);
  });
  requireArray(item['tags'] ?? [], `${where}.tags`).forEach((t, i) => requireString(t, `${where}.tags[${i}]`));
}

/** Structural check with messages that name the position, never a value. */
export function validateSeed(seed: unknown): ConnectSeed {
  if (!isRecord(seed)) throw new SeedError('seed must be a JSON object');
  requireArray(seed['tokens'], 'tokens').forEach((t, i) => checkToken(t, `tokens[${i}]`));
  requireArray(seed['vaults'], 'vaults').forEach((vault, v) => {
    if (!isRecord(vault)) throw new SeedError(`vaults[${v}] must be an object`);
    requireString(vault['name'], `vaults[${v}].name`);
    requireArray(vault['items'] ?? [], `vaults[${v}].items`).forEach((item, i) => checkItem(item, `vaults[${v}].items[${i}]`));
  });
  return seed as unknown as ConnectSeed;
}

export function readSeedFile(file: string): ConnectSeed {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SeedError(`cannot read seed file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's message quotes the file's text, which may hold secret values.
    throw new SeedError(`seed file ${file} is not valid JSON`);
  }
  return validateSeed(parsed);
}

/** The demo vault (DEMO_SEED_FILE's content) as a fresh seed, for code that ships without the file. */
export function demoSeed(): ConnectSeed {
  return validateSeed(structuredClone(demoVault));
}
