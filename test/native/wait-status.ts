// Test helpers: decode the raw status the addon reports, to check it against its decoded slots.
// Pure helpers around Linux wait statuses (the `int` filled by waitpid()).
//
// Encoding (Linux, all architectures we ship):
//   exited normally   status = code << 8                 (low 7 bits zero)
//   killed by signal  status = signo | 0x80 if core dumped
//   stopped           status = signo << 8 | 0x7f
//   continued         status = 0xffff

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
