// In-memory records of vaults, items, fields and files, as the local Connect server keeps them.

export const ITEM_CATEGORIES: readonly string[] = [
  'LOGIN', 'PASSWORD', 'API_CREDENTIAL', 'SERVER', 'DATABASE', 'CREDIT_CARD', 'MEMBERSHIP', 'PASSPORT',
  'SOFTWARE_LICENSE', 'OUTDOOR_LICENSE', 'SECURE_NOTE', 'WIRELESS_ROUTER', 'BANK_ACCOUNT', 'DRIVER_LICENSE',
  'IDENTITY', 'REWARD_PROGRAM', 'DOCUMENT', 'EMAIL_ACCOUNT', 'SOCIAL_SECURITY_NUMBER', 'MEDICAL_RECORD',
  'SSH_KEY', 'CUSTOM',
];

export const FIELD_PURPOSES: readonly string[] = ['', 'USERNAME', 'PASSWORD', 'NOTES'];

export interface SectionRecord {
  id: string;
  label: string;
}

export interface FieldRecord {
  id: string;
  /** Upper case; real servers use types beyond the spec's enum (SSHKEY, PHONE, ...), so any is kept. */
  type: string;
  purpose: string;
  label: string;
  value: string;
  sectionId?: string;
}

export interface FileRecord {
  id: string;
  name: string;
  content: Buffer;
  sectionId?: string;
}

export interface UrlRecord {
  href: string;
  label?: string;
  primary?: boolean;
}

/** The part of an item that PUT, PATCH and POST may change. */
export interface ItemContent {
  title: string;
  category: string;
  tags: string[];
  favorite: boolean;
  urls: UrlRecord[];
  sections: SectionRecord[];
  fields: FieldRecord[];
}

export interface ItemRecord extends ItemContent {
  id: string;
  vaultId: string;
  files: FileRecord[];
  version: number;
  createdAt: Date;
  updatedAt: Date;
  lastEditedBy: string;
}

export interface VaultRecord {
  id: string;
  name: string;
  description: string;
  attributeVersion: number;
  contentVersion: number;
  createdAt: Date;
  updatedAt: Date;
  items: ItemRecord[];
}

/** Connect reports TOTP fields as `OTP` whatever the spec says. */
export function normalizeFieldType(type: string | undefined): string {
  const upper = (type ?? 'STRING').toUpperCase();
  return upper === 'TOTP' ? 'OTP' : upper;
}

export function cloneContent(item: ItemContent): ItemContent {
  return structuredClone({
    title: item.title,
    category: item.category,
    tags: item.tags,
    favorite: item.favorite,
    urls: item.urls,
    sections: item.sections,
    fields: item.fields,
  });
}
