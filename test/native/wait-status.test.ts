import { describe, expect, it } from 'vitest';
import {
  decodeWaitStatus,
  describeWaitStatus,
  exitStatusFromNode,
  exitStatusFromWait,
  shellExitStatus,
  signalName,
  signalNumber,
} from '../../src/reaper/wait-status.js';

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

describe('shell exit status', () => {
  it('is the code, or 128 + signal', () => {
    expect(shellExitStatus(false, 0)).toBe(0);
    expect(shellExitStatus(false, 255)).toBe(255);
    expect(shellExitStatus(true, 15)).toBe(143);
    expect(shellExitStatus(true, 9)).toBe(137);
  });

  it('maps node:child_process (code, signal) pairs the same way', () => {
    expect(exitStatusFromNode(3, null)).toBe(3);
    expect(exitStatusFromNode(null, 'SIGTERM')).toBe(143);
    expect(exitStatusFromNode(null, 'SIGKILL')).toBe(137);
  });
});

describe('signal names', () => {
  it('round-trips names and numbers', () => {
    expect(signalName(15)).toBe('SIGTERM');
    expect(signalName(9)).toBe('SIGKILL');
    expect(signalName(6)).toBe('SIGABRT');
    expect(signalName(40)).toBe('SIG40');
    expect(signalNumber('SIGTERM')).toBe(15);
    expect(signalNumber('term')).toBe(15);
    expect(signalNumber('SIGNOPE')).toBeUndefined();
  });

  it('describes statuses for logs', () => {
    expect(describeWaitStatus(3 << 8)).toBe('exit 3');
    expect(describeWaitStatus(9)).toBe('signal SIGKILL');
    expect(describeWaitStatus(11 | 0x80)).toBe('signal SIGSEGV (core dumped)');
  });
});
