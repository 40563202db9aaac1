// Pure helpers around Linux wait statuses (the `int` filled by waitpid()).
//
// Encoding (Linux, all architectures we ship):
//   exited normally   status = code << 8                 (low 7 bits zero)
//   killed by signal  status = signo | 0x80 if core dumped
//   stopped           status = signo << 8 | 0x7f
//   continued         status = 0xffff
import { constants } from 'node:os';

export type WaitStatus =
  | { kind: 'exited'; code: number }
  | { kind: 'signaled'; signal: number; coreDumped: boolean }
  | { kind: 'stopped'; signal: number }
  | { kind: 'continued' }
  | { kind: 'unknown'; raw: number };

export function decodeWaitStatus(raw: number): WaitStatus {
  const status = raw & 0xffff;
  const low = status & 0x7f;
  if (status === 0xffff) return { kind: 'continued' };
  if (low === 0) return { kind: 'exited', code: (status >> 8) & 0xff };
  if (low === 0x7f) return { kind: 'stopped', signal: (status >> 8) & 0xff };
  if ((status & 0xff00) === 0) return { kind: 'signaled', signal: low, coreDumped: (status & 0x80) !== 0 };
  return { kind: 'unknown', raw };
}

/** Shell convention: the exit code, or 128 + signal number for a signal death. */
export function shellExitStatus(signaled: boolean, codeOrSignal: number): number {
  return signaled ? 128 + codeOrSignal : codeOrSignal & 0xff;
}

/**
 * Raw wait status → shell exit status (0..255). Stopped/continued statuses are not
 * terminations; they map to null.
 */
export function exitStatusFromWait(raw: number): number | null {
  const s = decodeWaitStatus(raw);
  switch (s.kind) {
    case 'exited':
      return s.code;
    case 'signaled':
      return 128 + s.signal;
    default:
      return null;
  }
}

/**
 * Same as exitStatusFromWait, for the (code, signal) pair node:child_process reports on
 * 'exit' (signal is a name such as "SIGTERM" or null). Unknown names map to 128.
 */
export function exitStatusFromNode(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return 128 + (signalNumber(signal) ?? 0);
  return (code ?? 0) & 0xff;
}

const signalsByNumber = new Map<number, string>();
for (const [name, num] of Object.entries(constants.signals)) {
  if (!signalsByNumber.has(num)) signalsByNumber.set(num, name);
}

/** "SIGTERM" for 15; "SIG<n>" for numbers without a name (real-time signals). */
export function signalName(signo: number): string {
  return signalsByNumber.get(signo) ?? `SIG${signo}`;
}

export function signalNumber(name: string): number | undefined {
  const key = (name.startsWith('SIG') ? name : `SIG${name}`).toUpperCase() as keyof typeof constants.signals;
  return Object.hasOwn(constants.signals, key) ? constants.signals[key] : undefined;
}

/** Human form for logs: "exit 3", "signal SIGKILL (core dumped)". */
export function describeWaitStatus(raw: number): string {
  const s = decodeWaitStatus(raw);
  switch (s.kind) {
    case 'exited':
      return `exit ${s.code}`;
    case 'signaled':
      return `signal ${signalName(s.signal)}${s.coreDumped ? ' (core dumped)' : ''}`;
    case 'stopped':
      return `stopped by ${signalName(s.signal)}`;
    case 'continued':
      return 'continued';
    default:
      return `status 0x${s.raw.toString(16)}`;
  }
}
