import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { MODES, isAlive, pid1Available, sleep, tempDir } from '../e2e/harness.js';
import { sendEach, startLogger } from './logger.js';
import { killEverything, lines, linesAtLeast, procStat, startInit } from './target.js';

afterEach(killEverything);

// HUP USR1 USR2 ALRM STKFLT CONT TSTP URG XCPU XFSZ VTALRM PROF WINCH IO PWR: tini forwards each of
// them (it blocks every signal but the fault ones and TTIN/TTOU, and passes on what sigtimedwait gets)
const ORDINARY = [1, 10, 12, 14, 16, 18, 20, 23, 24, 25, 26, 27, 28, 29, 30];
// SIGRTMIN (34 under glibc) .. SIGRTMAX (64)
const REAL_TIME = [34, 35, 40, 50, 63, 64];
const TTIN = 21;
const TTOU = 22;
const USR1 = 10;

describe.each(MODES)('signal forwarding, like tini (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('forwards every ordinary catchable signal exactly once, in the order sent', async () => {
    const dir = tempDir();
    try {
      const l = await startLogger(mode, dir.path, ORDINARY);
      await sendEach(l, ORDINARY);
      expect(lines(l.log)).toEqual(['ready', ...ORDINARY.map(String)]);
      expect(isAlive(l.pid), 'the init runs on').toBe(true);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('forwards SIGPIPE sent to the init', async () => {
    const dir = tempDir();
    try {
      const l = await startLogger(mode, dir.path, [13, USR1]);
      await sendEach(l, [13, USR1]);
      expect(lines(l.log)).toEqual(['ready', '13', String(USR1)]);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('forwards real-time signals SIGRTMIN..SIGRTMAX exactly once', async () => {
    const dir = tempDir();
    try {
      const l = await startLogger(mode, dir.path, [...REAL_TIME, USR1]);
      await sendEach(l, [...REAL_TIME, USR1]);
      expect(lines(l.log)).toEqual(['ready', ...REAL_TIME.map(String), String(USR1)]);
      expect(isAlive(l.pid), 'the init must not die of a real-time signal').toBe(true);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('SIGTSTP is forwarded and does not stop the init', async () => {
    const dir = tempDir();
    try {
      const l = await startLogger(mode, dir.path, [20, USR1]);
      await sendEach(l, [20, USR1]);
      expect(lines(l.log)).toEqual(['ready', '20', String(USR1)]);
      expect(procStat(l.pid)?.state).not.toBe('T');
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('SIGTTIN and SIGTTOU are neither forwarded nor stop the init', async () => {
    const dir = tempDir();
    try {
      const l = await startLogger(mode, dir.path, [TTIN, TTOU, USR1]);
      process.kill(l.pid, TTIN);
      process.kill(l.pid, TTOU);
      await sleep(300);
      expect(procStat(l.pid)?.state, 'the init was stopped').not.toBe('T');
      // USR1 after them: once it is logged, the two would have been too
      await sendEach(l, [USR1]);
      expect(lines(l.log)).toEqual(['ready', String(USR1)]);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('a signal the app sends to the init comes back to the app', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'log');
      const parent = mode === 'pid1' ? '1' : '$PPID';
      const r = await startInit(mode, [], ['sh', '-c', `trap "echo got-USR1 >> ${log}; exit 0" USR1; kill -USR1 ${parent}; while :; do sleep 0.05; done`], { timeoutMs: 10_000 }).result;
      expect(lines(log)).toEqual(['got-USR1']);
      expect(r.code).toBe(0);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('a burst of different signals: each arrives once', async () => {
    const dir = tempDir();
    try {
      const burst = [1, 10, 12, 28, 14, 23];
      const l = await startLogger(mode, dir.path, burst);
      for (const sig of burst) process.kill(l.pid, sig);
      await linesAtLeast(l.log, burst.length + 1, 'the burst');
      await sleep(300);
      // the kernel delivers pending signals lowest number first: only the set is fixed
      expect(lines(l.log).slice(1).sort()).toEqual(burst.map(String).sort());
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('the app leads its own process group (tini always calls setpgid for it)', async () => {
    const dir = tempDir();
    try {
      const l = await startLogger(mode, dir.path, [USR1]);
      expect(procStat(l.appPid)?.pgrp).toBe(l.appPid);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('a signal sent to the init\'s whole process group reaches the app once, not twice', async () => {
    const dir = tempDir();
    try {
      // setsid: the init leads a group of its own, which the test can signal without hitting itself
      const l = await startLogger(mode, dir.path, [USR1, 12], [], ['/usr/bin/setsid']);
      const group = procStat(l.pid)?.pgrp as number;
      expect(group).toBe(l.pid);
      process.kill(-group, 'SIGUSR1');
      await linesAtLeast(l.log, 2, 'USR1');
      await sendEach(l, [12]);
      expect(lines(l.log)).toEqual(['ready', String(USR1), '12']);
    } finally {
      dir.cleanup();
    }
  });
});
