/** Hand-written: one `@1password/connect` lookup per secret, one after the other. */
import { seen } from './catalog';
import { connectFromEnv, fetchSecret, prefetch, referencesFromEnv } from './connect-direct';

const references = referencesFromEnv(process.env);
const op = connectFromEnv(process.env);

const loading = prefetch(async () => {
  const values: string[] = [];
  for (const reference of references) values.push(await fetchSecret(op, reference));
  return values;
});

export async function handler(): Promise<ReturnType<typeof seen>> {
  return seen(await loading);
}
