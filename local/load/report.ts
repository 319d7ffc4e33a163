/** The load report as plain text: one block per phase, then the invariants. */
import type { PhaseReport } from './phases';
import type { LoadReport } from './scenario';

const ms = (value: number): string => `${value.toFixed(1)} ms`;

function phaseLines(phase: PhaseReport): string[] {
  const { figures, connect, coldStarts } = phase;
  const statuses = Object.entries(figures.statuses).map(([status, count]) => `${status === '0' ? 'no response' : status} ×${count}`).join(', ');
  const cold = Object.entries(coldStarts).map(([name, count]) => `${name} ${count}`).join(', ') || 'none';
  const errors = Object.entries(figures.statuses).filter(([status]) => Number(status) >= 500 || status === '0').reduce((total, [, count]) => total + count, 0);
  return [
    `${phase.name}: ${figures.requests} requests in ${(figures.wallMs / 1000).toFixed(1)} s = ${figures.throughput.toFixed(0)} req/s`,
    `  latency p50 ${ms(figures.latencyMs.p50)}, p90 ${ms(figures.latencyMs.p90)}, p99 ${ms(figures.latencyMs.p99)}, max ${ms(figures.latencyMs.max)}`,
    `  statuses: ${statuses}; errors (5xx or none): ${errors}`,
    `  cold starts: ${cold}`,
    `  Connect requests: ${connect.item + connect.index + connect.other} (item GETs ${connect.item}, index GETs ${connect.index}, other ${connect.other})`,
  ];
}

export function formatReport(report: LoadReport): string {
  const costs = Object.entries(report.costs)
    .filter(([, cost]) => cost.items > 0)
    .map(([name, cost]) => `${name} ${cost.items} item + ${cost.indexes} index`)
    .join('; ');
  return [
    `${report.clients} concurrent clients, at most ${report.containersPerFunction} containers per function`,
    `Connect requests per cold start: ${costs}`,
    '',
    ...report.phases.flatMap((phase) => [...phaseLines(phase), '']),
    'Invariants:',
    ...report.invariants.map((invariant) => `  ${invariant.ok ? 'ok  ' : 'FAIL'} ${invariant.name}: ${invariant.detail}`),
  ].join('\n');
}
