/**
 * Reads the current value of one secret reference, for the local payments upstream (which must
 * accept exactly the key the vault holds now, so rotation is observable end to end).
 *
 * From the local Connect server it reads the item in memory, so it never shows up in Connect's
 * request log or counters; from another Connect server it resolves over HTTP like a function would.
 */
import { ConnectSource } from '../../shared/secrets/connect/connect-source';
import { parseReference, type SecretReference } from '../../shared/secrets/reference';
import type { ConnectItemJson, LocalConnect } from '../connect/server';

export type SecretReader = () => Promise<string>;

const READ_TIMEOUT_MS = 5000;

export function localSecretReader(connect: LocalConnect, reference: string): SecretReader {
  const parsed = parseReference(reference);
  return () => Promise.resolve(fieldValue(connect.getItem(parsed.vault, parsed.item), parsed));
}

export function remoteSecretReader(options: { host: string; token: string; allowHttp?: boolean }, reference: string): SecretReader {
  const parsed = parseReference(reference);
  const resolver = new ConnectSource({ host: options.host, token: options.token, allowHttp: options.allowHttp });
  return async () => {
    const outcome = await resolver.resolve([parsed], { deadline: Date.now() + READ_TIMEOUT_MS });
    const value = outcome.values.get(parsed.key)?.value;
    if (value === undefined) throw outcome.errors.get(parsed.key) ?? new Error(`${reference} could not be read`);
    return value;
  };
}

/** The field a reference names: by id, else by label (case-insensitive), unsectioned fields first. */
function fieldValue(item: ConnectItemJson, reference: SecretReference): string {
  const same = (a: string | undefined, b: string): boolean => a !== undefined && a.toLowerCase() === b.toLowerCase();
  const section = reference.section === undefined
    ? undefined
    : item.sections?.find((candidate) => candidate.id === reference.section || same(candidate.label, reference.section!));
  if (reference.section !== undefined && section === undefined) throw new Error(`${reference.raw}: no such section`);
  const inScope = item.fields.filter((field) => (section ? field.section?.id === section.id : true));
  const byId = inScope.find((field) => field.id === reference.field);
  const byLabel = inScope.filter((field) => same(field.label, reference.field));
  const field = byId ?? byLabel.find((candidate) => candidate.section === undefined) ?? byLabel[0];
  const value = reference.attribute === 'otp' ? field?.totp : field?.value;
  if (value === undefined) throw new Error(`${reference.raw}: no such field`);
  return value;
}
