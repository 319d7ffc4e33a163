/** The phases of the load scenario and what each one reports; shared by the scenario and its checks. */
import type { PhaseFigures } from './stats';

export type PhaseName = 'steady' | 'outage' | 'recovery';

export interface ConnectCounts {
  item: number;
  index: number;
  other: number;
}

export interface PhaseReport {
  name: PhaseName;
  figures: PhaseFigures;
  /** Connect requests the phase caused, by kind. */
  connect: ConnectCounts;
  /** Cold starts per function during the phase. */
  coldStarts: Record<string, number>;
}

/** What the gateway knows about the invoke behind one response. */
export interface InvokeInfo {
  functionName: string;
  containerId: string;
  coldStart: boolean;
}
