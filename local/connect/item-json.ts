// The JSON shapes Connect answers with. Empty optional attributes are omitted, as the real server does.
import type { FieldRecord, FileRecord, ItemRecord, VaultRecord } from './model';
import { currentTotp } from './totp';

export interface ConnectVaultJson {
  id: string;
  name: string;
  description?: string;
  attributeVersion: number;
  contentVersion: number;
  items: number;
  type: 'USER_CREATED';
  createdAt: string;
  updatedAt: string;
}

export interface ConnectFieldJson {
  id: string;
  type: string;
  purpose?: string;
  label?: string;
  value?: string;
  section?: { id: string };
  /** Undocumented: the current code of an OTP field. */
  totp?: string;
}

export interface ConnectFileJson {
  id: string;
  name: string;
  size: number;
  content_path: string;
  section?: { id: string };
  /** Base64, only with `inline_files=true`. */
  content?: string;
}

export interface ConnectItemSummaryJson {
  id: string;
  title: string;
  version: number;
  vault: { id: string };
  category: string;
  tags?: string[];
  favorite?: boolean;
  urls?: { href: string; label?: string; primary?: boolean }[];
  lastEditedBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface ConnectItemJson extends ConnectItemSummaryJson {
  sections?: { id: string; label?: string }[];
  fields: ConnectFieldJson[];
  files?: ConnectFileJson[];
}

export function toVaultJson(vault: VaultRecord): ConnectVaultJson {
  return {
    id: vault.id,
    name: vault.name,
    ...(vault.description ? { description: vault.description } : {}),
    attributeVersion: vault.attributeVersion,
    contentVersion: vault.contentVersion,
    items: vault.items.length,
    type: 'USER_CREATED',
    createdAt: vault.createdAt.toISOString(),
    updatedAt: vault.updatedAt.toISOString(),
  };
}

export function toItemSummaryJson(item: ItemRecord): ConnectItemSummaryJson {
  return {
    id: item.id,
    title: item.title,
    version: item.version,
    vault: { id: item.vaultId },
    category: item.category,
    ...(item.tags.length > 0 ? { tags: [...item.tags] } : {}),
    ...(item.favorite ? { favorite: true } : {}),
    ...(item.urls.length > 0 ? { urls: structuredClone(item.urls) } : {}),
    lastEditedBy: item.lastEditedBy,
    createdAt: item.createdAt.toISOString(),
    updatedAt: item.updatedAt.toISOString(),
  };
}

export function toFieldJson(field: FieldRecord, nowMs: number): ConnectFieldJson {
  const totp = field.type === 'OTP' ? currentTotp(field.value, nowMs) : undefined;
  return {
    id: field.id,
    type: field.type,
    ...(field.purpose ? { purpose: field.purpose } : {}),
    ...(field.label ? { label: field.label } : {}),
    ...(field.value ? { value: field.value } : {}),
    ...(field.sectionId ? { section: { id: field.sectionId } } : {}),
    ...(totp ? { totp } : {}),
  };
}

export function fileContentPath(item: ItemRecord, file: FileRecord): string {
  return `v1/vaults/${item.vaultId}/items/${item.id}/files/${file.id}/content`;
}

export function toFileJson(item: ItemRecord, file: FileRecord, inline: boolean): ConnectFileJson {
  return {
    id: file.id,
    name: file.name,
    size: file.content.length,
    content_path: fileContentPath(item, file),
    ...(file.sectionId ? { section: { id: file.sectionId } } : {}),
    ...(inline ? { content: file.content.toString('base64') } : {}),
  };
}

/** The full item; OTP fields carry the code for `nowMs`. */
export function toItemJson(item: ItemRecord, nowMs: number = Date.now()): ConnectItemJson {
  return {
    ...toItemSummaryJson(item),
    ...(item.sections.length > 0 ? { sections: item.sections.map((s) => ({ id: s.id, label: s.label })) } : {}),
    fields: item.fields.map((field) => toFieldJson(field, nowMs)),
    ...(item.files.length > 0 ? { files: item.files.map((file) => toFileJson(item, file, false)) } : {}),
  };
}
