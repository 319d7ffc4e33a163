/** The secrets the comparison handlers read in warm and bundle benchmarks: ten, as a real API might. */
export const COMPARED_SECRET_COUNT = 10;

/** Secrets Manager ids (names) of the compared secrets. */
export function comparedSecretIds(): string[] {
  return Array.from({ length: COMPARED_SECRET_COUNT }, (_, index) => `bench/secret-${index}`);
}

/** Handler-side names of the compared secrets: `SECRET_0` … `SECRET_9`. */
export function comparedSecretNames(): string[] {
  return Array.from({ length: COMPARED_SECRET_COUNT }, (_, index) => `SECRET_${index}`);
}

/** What every comparison handler answers: proof that it saw every value, and no value. */
export interface SecretsSeen {
  statusCode: number;
  count: number;
  totalLength: number;
}

export function seen(values: readonly unknown[]): SecretsSeen {
  let totalLength = 0;
  for (const value of values) totalLength += typeof value === 'string' ? value.length : 0;
  return { statusCode: 200, count: values.length, totalLength };
}
