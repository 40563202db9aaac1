import { describe, expect, it } from 'vitest';
import { decodeWaitStatus, exitStatusFromWait } from './wait-status.js';

// Raw statuses as Linux builds them: code << 8 | 0 ; signo | 0x80 (core) ; signo << 8 | 0x7f ; 0xffff
describe('decodeWaitStatus', () => {
  it.each([0, 1, 42, 127, 255])('exit %i', (code) => {
    expect(decodeWaitStatus(code << 8)).toEqual({ kind: 'exited', code });
    expect(exitStatusFromWait(code << 8)).toBe(code);
  });

  it.each([
    [1, false],
    [9, false],
    [15, false],
    [6, true],
    [11, true],
    [64, false],
  ])('signal %i (core dumped: %s)', (signal, core) => {
    const raw = signal | (core ? 0x80 : 0);
    expect(decodeWaitStatus(raw)).toEqual({ kind: 'signaled', signal, coreDumped: core });
    expect(exitStatusFromWait(raw)).toBe(128 + signal);
  });

  it('stopped and continued are not terminations', () => {
    expect(decodeWaitStatus((19 << 8) | 0x7f)).toEqual({ kind: 'stopped', signal: 19 });
    expect(decodeWaitStatus(0xffff)).toEqual({ kind: 'continued' });
    expect(exitStatusFromWait((19 << 8) | 0x7f)).toBeNull();
    expect(exitStatusFromWait(0xffff)).toBeNull();
  });

  it('flags impossible values instead of guessing', () => {
    expect(decodeWaitStatus((3 << 8) | 9).kind).toBe('unknown');
    expect(exitStatusFromWait((3 << 8) | 9)).toBeNull();
  });
});
