/**
 * Audit events and metrics of the operations functions, on the conventions of the runtime's audit
 * trail (shared/audit): JSON lines through Powertools Logger with the event name in `event`, and
 * Embedded Metric Format through Powertools Metrics, namespace `OpLambda`, dimension `service`.
 * Events carry names, ids, versions and outcomes: callers never pass a value or a token, and
 * nothing here would know where to find one.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../audit/metrics';
import type { OpsMetricName } from './contract';

export type OpsEventName = 'secret.rotate' | 'secret.canary' | 'activity.forward';

export type EventFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface OpsTelemetry {
  /** One audit event: a JSON line with `event` set to its name. */
  event(name: OpsEventName, fields: EventFields, level?: 'info' | 'warn' | 'error'): void;
  /** Adds to a count metric; published, one datapoint per metric, on flush. */
  count(metric: OpsMetricName, value?: number): void;
  /** Publishes the metrics counted so far. */
  flush(): void;
}

/** Telemetry through Powertools, for a function whose `service` dimension is `serviceName`. */
export function powertoolsTelemetry(serviceName: string): OpsTelemetry {
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  // Summed here: Powertools would publish repeated additions as a list of values, not a total.
  const counts = new Map<OpsMetricName, number>();
  return {
    event: (name, fields, level = 'info') => logger[level](name, { event: name, ...fields }),
    count: (metric, value = 1) => {
      counts.set(metric, (counts.get(metric) ?? 0) + value);
    },
    flush: () => {
      if (counts.size === 0) return;
      for (const [metric, total] of counts) metrics.addMetric(metric, MetricUnit.Count, total);
      counts.clear();
      metrics.publishStoredMetrics();
    },
  };
}

/** Telemetry kept in memory, for tests and the command line. */
export interface RecordedTelemetry extends OpsTelemetry {
  readonly events: { name: OpsEventName; level: string; fields: EventFields }[];
  readonly metrics: Map<OpsMetricName, number>;
}

export function recordingTelemetry(): RecordedTelemetry {
  const events: RecordedTelemetry['events'] = [];
  const metrics = new Map<OpsMetricName, number>();
  return {
    events,
    metrics,
    event: (name, fields, level = 'info') => events.push({ name, level, fields }),
    count: (metric, value = 1) => metrics.set(metric, (metrics.get(metric) ?? 0) + value),
    flush: () => undefined,
  };
}
