/**
 * Every number the benchmarks publish travels with its unit, so `latest.json` can be read
 * without the code that wrote it.
 */

export type Unit = 'ns' | 'ms' | 'bytes' | 'MiB' | 'requests' | 'percent' | 'count' | 'seconds' | 'processes';

export interface Figure {
  value: number;
  unit: Unit;
}

export function figure(value: number, unit: Unit): Figure {
  return { value: roundFor(value, unit), unit };
}

/** Raw measurements, in the order they were taken. */
export interface Samples {
  values: number[];
  unit: Unit;
}

export function samples(values: readonly number[], unit: Unit): Samples {
  return { values: values.map((value) => roundFor(value, unit)), unit };
}

/** Enough digits to be honest about the noise, no more. */
function roundFor(value: number, unit: Unit): number {
  if (!Number.isFinite(value)) return value;
  if (unit === 'ns' || unit === 'bytes' || unit === 'MiB' || unit === 'requests' || unit === 'count') return Math.round(value);
  if (unit === 'ms' || unit === 'seconds') return Math.round(value * 100) / 100;
  return Math.round(value * 10) / 10;
}

export function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(2)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export function formatPercent(percent: number): string {
  return `${percent >= 0 ? '+' : ''}${percent.toFixed(1)}%`;
}
