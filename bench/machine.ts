import { cpus, freemem, loadavg, release, totalmem, type as osType } from 'node:os';
import { figure, type Figure } from './figures';

/** What the figures were measured on: without it, a number in a benchmark says little. */
export interface MachineDescription {
  cpuModel: string;
  cores: number;
  memory: Figure;
  freeMemory: Figure;
  nodeVersion: string;
  v8Version: string;
  os: string;
  arch: string;
  /** One-minute load average when the run started: above the core count, other work competed for the CPU. */
  loadAverageAtStart: Figure;
}

export function describeMachine(): MachineDescription {
  const processors = cpus();
  return {
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    memory: figure(totalmem(), 'bytes'),
    freeMemory: figure(freemem(), 'bytes'),
    nodeVersion: process.version,
    v8Version: process.versions.v8,
    os: `${osType()} ${release()}`,
    arch: process.arch,
    loadAverageAtStart: { value: Math.round((loadavg()[0] ?? 0) * 100) / 100, unit: 'processes' },
  };
}

export function machineSummary(machine: MachineDescription): string {
  const gib = (machine.memory.value / 2 ** 30).toFixed(1);
  return `${machine.cpuModel}, ${machine.cores} cores, ${gib} GiB, Node ${machine.nodeVersion}, ${machine.os} ${machine.arch}`;
}
