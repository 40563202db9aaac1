import { signalNumber } from '../signals.js';

/** How the app ended, as the shell reports it: its exit code, or 128+N after a death by signal N. */
export interface AppExit {
  status: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export function fromNode(code: number | null, signal: NodeJS.Signals | null): AppExit {
  if (signal) return { status: 128 + signalNumber(signal), code: null, signal };
  return { status: code ?? 0, code: code ?? 0, signal: null };
}

/** -e/--remap-exit: the listed statuses count as success. */
export function remapStatus(status: number, remap: readonly number[]): number {
  return remap.includes(status) ? 0 : status;
}

export function describeExit(exit: AppExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exited with ${exit.code}`;
}
