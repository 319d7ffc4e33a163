/**
 * The metrics of the runtime library, as CloudWatch Embedded Metric Format: namespace `OpLambda`,
 * one dimension, `service`. Alarms and dashboards refer to these names.
 */
export const METRICS_NAMESPACE = 'OpLambda';
export const SERVICE_DIMENSION = 'service';

export const SecretMetric = {
  /** One item fetched from Connect (success or failure). Count. */
  Fetch: 'SecretFetch',
  /** Wall time of one item fetch, retries included. Milliseconds. */
  FetchLatency: 'SecretFetchLatency',
  /** Secrets read by a handler and served from the cache, per invocation. Count. */
  CacheHit: 'SecretCacheHit',
  /** A refresh failed transiently and the last good value stays in service. Count. */
  StaleServed: 'SecretStaleServed',
  /** A fetch of a secret failed. Count. */
  Failure: 'SecretFailure',
  /**
   * A held secret was fetched again and its value had changed (a rotation or revocation reached
   * this container), however it was noticed. Count.
   */
  Changed: 'SecretChanged',
} as const;

export type SecretMetricName = (typeof SecretMetric)[keyof typeof SecretMetric];

/**
 * The `_aws` metadata of an EMF line with one Count metric, minus its Timestamp: constant per
 * metric, so hot paths concatenate it instead of serialising it.
 */
export function emfCountDirective(metric: SecretMetricName): string {
  return JSON.stringify([{ Namespace: METRICS_NAMESPACE, Dimensions: [[SERVICE_DIMENSION]], Metrics: [{ Name: metric, Unit: 'Count' }] }]);
}
