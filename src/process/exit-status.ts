import { signalName, signalNumber } from '../signals.js';

/** How the app ended, as the shell reports it: its exit code, or 128+N after a death by signal N. */
export interface AppExit {
  status: number;
  code: number | null;
  /** SIGTERM, SIGRTMIN+3, ... */
  signal: string | null;
}

/** The raw status waitpid() fills in, decoded: the one place it is. */
export function fromWaitStatus(raw: number): AppExit {
  const low = raw & 0x7f;
  if (low === 0) return { status: (raw >> 8) & 0xff, code: (raw >> 8) & 0xff, signal: null };
  return { status: 128 + low, code: null, signal: signalName(low) };
}

/** What node:child_process reports (the fallback path without the addon). */
export function fromNode(code: number | null, signal: NodeJS.Signals | null): AppExit {
  if (signal) return { status: 128 + signalNumber(signal), code: null, signal };
  return { status: code ?? 0, code: code ?? 0, signal: null };
}

/** -e/--remap-exit: the listed statuses count as success. */
export function remapStatus(status: number, remap: readonly number[]): number {
  return remap.includes(status) ? 0 : status;
}

/** remapStatus for every status there is, indexed by it (for the quick exit in C). */
export function exitCodeTable(remap: readonly number[]): Int32Array {
  return Int32Array.from({ length: 256 }, (_, status) => remapStatus(status, remap));
}

export function describeExit(exit: AppExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exited with ${exit.code}`;
}
