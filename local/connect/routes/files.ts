// An item's files: list, details and content (`inline_files=true` adds base64 content).
import { ConnectError, notFound } from '../errors';
import { jsonResponse, type ConnectResponse } from '../http-io';
import { toFileJson } from '../item-json';
import type { FileRecord, ItemRecord } from '../model';
import { authenticate, openItem, openVault, recordActivity, type RequestContext } from './context';

/** Connect's OP_MAX_INLINE_FILE_SIZE_KB default. */
const MAX_INLINE_BYTES = 100 * 1024;

function openItemForFiles(ctx: RequestContext): ItemRecord {
  const grant = authenticate(ctx);
  const vault = openVault(ctx, grant, 'read');
  const item = openItem(ctx, vault);
  recordActivity(ctx, grant, { action: 'READ', result: 'SUCCESS', vaultId: vault.id, itemId: item.id, itemVersion: item.version });
  return item;
}

function openFile(ctx: RequestContext, item: ItemRecord): FileRecord {
  const fileId = ctx.params['fileUuid'] ?? '';
  const file = item.files.find((candidate) => candidate.id === fileId);
  if (!file) throw notFound(`file ${fileId} not found`);
  return file;
}

function wantsInline(ctx: RequestContext, files: FileRecord[]): boolean {
  const inline = ctx.query.get('inline_files') === 'true';
  if (inline && files.some((file) => file.content.length > MAX_INLINE_BYTES)) {
    throw new ConnectError(
      413,
      'File is too large to inline in request. Use the /v1/vaults/{vaultUUID}/items/{itemUUID}/files/{fileUUID}/content endpoint instead.',
    );
  }
  return inline;
}

export function listFiles(ctx: RequestContext): ConnectResponse {
  const item = openItemForFiles(ctx);
  const inline = wantsInline(ctx, item.files);
  return jsonResponse(200, item.files.map((file) => toFileJson(item, file, inline)));
}

export function getFile(ctx: RequestContext): ConnectResponse {
  const item = openItemForFiles(ctx);
  const file = openFile(ctx, item);
  return jsonResponse(200, toFileJson(item, file, wantsInline(ctx, [file])));
}

export function getFileContent(ctx: RequestContext): ConnectResponse {
  const item = openItemForFiles(ctx);
  const file = openFile(ctx, item);
  const filename = file.name.replace(/["\\\r\n]/g, '_');
  return {
    status: 200,
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Disposition': `attachment; filename="${filename}"` },
    body: file.content,
  };
}
