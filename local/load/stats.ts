/** Figures of a set of exchanges: throughput, latency percentiles, status counts. */
import type { Exchange } from './client';

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface PhaseFigures {
  requests: number;
  wallMs: number;
  /** Requests per second over the phase's wall time. */
  throughput: number;
  latencyMs: LatencySummary;
  /** Status code (0 for no response) -> count. */
  statuses: Record<string, number>;
}

/** Nearest-rank percentile of ascending `sorted` values; 0 for none. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summariseLatency(durations: readonly number[]): LatencySummary {
  const sorted = [...durations].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? 0,
  };
}

export function phaseFigures(exchanges: readonly Exchange[], wallMs: number): PhaseFigures {
  const statuses: Record<string, number> = {};
  for (const { status } of exchanges) statuses[status] = (statuses[status] ?? 0) + 1;
  return {
    requests: exchanges.length,
    wallMs,
    throughput: wallMs > 0 ? (exchanges.length * 1000) / wallMs : 0,
    latencyMs: summariseLatency(exchanges.map((exchange) => exchange.durationMs)),
    statuses,
  };
}
