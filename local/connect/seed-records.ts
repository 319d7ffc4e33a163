// Turns a seed document into vault records, deriving stable ids for everything the seed leaves unnamed.
import { deriveId, isConnectId } from './ids';
import {
  ITEM_CATEGORIES,
  normalizeFieldType,
  type FieldRecord,
  type FileRecord,
  type ItemRecord,
  type SectionRecord,
  type VaultRecord,
} from './model';
import { SeedError, type ConnectSeedItem, type ConnectSeedVault, type ConnectSeed } from './seed';

/** The user id that appears as `lastEditedBy` on seeded items. */
export const SEED_EDITOR_ID = deriveId('user', 'seed');

/** Appends `#n` to repeated keys so that duplicates still get distinct derived ids. */
function occurrenceCounter(): (key: string) => string {
  const seen = new Map<string, number>();
  return (key) => {
    const count = seen.get(key) ?? 0;
    seen.set(key, count + 1);
    return count === 0 ? key : `${key}#${count}`;
  };
}

function checkExplicitId(id: string | undefined, where: string): void {
  if (id !== undefined && !isConnectId(id)) throw new SeedError(`${where}.id must be 26 lowercase letters or digits`);
}

function buildSections(seed: ConnectSeedItem, itemId: string, where: string): SectionRecord[] {
  const unique = occurrenceCounter();
  return (seed.sections ?? []).map((section, index) => {
    checkExplicitId(section.id, `${where}.sections[${index}]`);
    return { id: section.id ?? deriveId('section', itemId, unique(section.label.toLowerCase())), label: section.label };
  });
}

function sectionResolver(sections: SectionRecord[], where: string): (ref: string | undefined, at: string) => string | undefined {
  return (ref, at) => {
    if (ref === undefined) return undefined;
    const found =
      sections.find((s) => s.id === ref) ?? sections.find((s) => s.label.toLowerCase() === ref.toLowerCase());
    if (!found) throw new SeedError(`${where}.${at}.section names no section of the item`);
    return found.id;
  };
}

function buildFields(seed: ConnectSeedItem, itemId: string, sections: SectionRecord[], where: string): FieldRecord[] {
  const unique = occurrenceCounter();
  const sectionOf = sectionResolver(sections, where);
  return seed.fields.map((field, index) => {
    checkExplicitId(field.id, `${where}.fields[${index}]`);
    const sectionId = sectionOf(field.section, `fields[${index}]`);
    const key = unique(`${sectionId ?? ''}/${field.label.toLowerCase()}`);
    return {
      id: field.id ?? deriveId('field', itemId, key),
      type: normalizeFieldType(field.type),
      purpose: field.purpose ?? '',
      label: field.label,
      value: field.value ?? '',
      ...(sectionId ? { sectionId } : {}),
    };
  });
}

function buildFiles(seed: ConnectSeedItem, itemId: string, sections: SectionRecord[], where: string): FileRecord[] {
  const unique = occurrenceCounter();
  const sectionOf = sectionResolver(sections, where);
  return (seed.files ?? []).map((file, index) => {
    checkExplicitId(file.id, `${where}.files[${index}]`);
    const sectionId = sectionOf(file.section, `files[${index}]`);
    return {
      id: file.id ?? deriveId('file', itemId, unique(file.name)),
      name: file.name,
      content: Buffer.from(file.content, 'utf8'),
      ...(sectionId ? { sectionId } : {}),
    };
  });
}

function buildItem(seed: ConnectSeedItem, vaultId: string, id: string, now: Date, where: string): ItemRecord {
  if (!ITEM_CATEGORIES.includes(seed.category)) throw new SeedError(`${where}.category is not a 1Password item category`);
  const sections = buildSections(seed, id, where);
  return {
    id,
    vaultId,
    title: seed.title,
    category: seed.category,
    tags: [...(seed.tags ?? [])],
    favorite: seed.favorite ?? false,
    urls: structuredClone(seed.urls ?? []),
    sections,
    fields: buildFields(seed, id, sections, where),
    files: buildFiles(seed, id, sections, where),
    version: 1,
    createdAt: now,
    updatedAt: now,
    lastEditedBy: SEED_EDITOR_ID,
  };
}

function buildVault(seed: ConnectSeedVault, now: Date, where: string): VaultRecord {
  checkExplicitId(seed.id, where);
  const id = seed.id ?? deriveId('vault', seed.name);
  const unique = occurrenceCounter();
  const items = (seed.items ?? []).map((item, index) => {
    const at = `${where}.items[${index}]`;
    checkExplicitId(item.id, at);
    return buildItem(item, id, item.id ?? deriveId('item', id, unique(item.title)), now, at);
  });
  const ids = new Set(items.map((item) => item.id));
  if (ids.size !== items.length) throw new SeedError(`${where} has two items with the same id`);
  return {
    id,
    name: seed.name,
    description: seed.description ?? '',
    attributeVersion: 1,
    contentVersion: items.length,
    createdAt: now,
    updatedAt: now,
    items,
  };
}

function checkTokenScopes(seed: ConnectSeed, vaults: VaultRecord[]): void {
  seed.tokens.forEach((token, index) => {
    for (const ref of token.vaults) {
      const known = ref === '*' || vaults.some((v) => v.id === ref || v.name.toLowerCase() === ref.toLowerCase());
      if (!known) throw new SeedError(`tokens[${index}] (${token.name}) is scoped to a vault the seed does not define`);
    }
  });
  const names = new Set(seed.tokens.map((t) => t.name));
  if (names.size !== seed.tokens.length) throw new SeedError('two tokens share a name');
  if (new Set(seed.tokens.map((t) => t.token)).size !== seed.tokens.length) throw new SeedError('two tokens share a value');
}

export function vaultsFromSeed(seed: ConnectSeed, now: Date = new Date()): VaultRecord[] {
  const vaults = seed.vaults.map((vault, index) => buildVault(vault, now, `vaults[${index}]`));
  if (new Set(vaults.map((v) => v.name.toLowerCase())).size !== vaults.length) throw new SeedError('two vaults share a name');
  if (new Set(vaults.map((v) => v.id)).size !== vaults.length) throw new SeedError('two vaults share an id');
  checkTokenScopes(seed, vaults);
  return vaults;
}
