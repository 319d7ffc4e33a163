/** Hand-written: one `@1password/connect` lookup per secret, all at once with Promise.all. */
import { seen } from './catalog';
import { connectFromEnv, fetchSecret, prefetch, referencesFromEnv } from './connect-direct';

const references = referencesFromEnv(process.env);
const op = connectFromEnv(process.env);

const loading = prefetch(() => Promise.all(references.map((reference) => fetchSecret(op, reference))));

export async function handler(): Promise<ReturnType<typeof seen>> {
  return seen(await loading);
}
