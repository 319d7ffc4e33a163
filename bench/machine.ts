import { cpus, freemem, release, totalmem, type as osType } from 'node:os';

/** What the figures were measured on: without it, a number in a benchmark says little. */
export interface MachineDescription {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  freeMemoryBytes: number;
  nodeVersion: string;
  v8Version: string;
  os: string;
  arch: string;
}

export function describeMachine(): MachineDescription {
  const processors = cpus();
  return {
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    memoryBytes: totalmem(),
    freeMemoryBytes: freemem(),
    nodeVersion: process.version,
    v8Version: process.versions.v8,
    os: `${osType()} ${release()}`,
    arch: process.arch,
  };
}

export function machineSummary(machine: MachineDescription): string {
  const gib = (machine.memoryBytes / 2 ** 30).toFixed(1);
  return `${machine.cpuModel}, ${machine.cores} cores, ${gib} GiB, Node ${machine.nodeVersion}, ${machine.os} ${machine.arch}`;
}
