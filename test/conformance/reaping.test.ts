import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { descendantsOf, isAlive, killMarked, markedEnv, pid1Available, readText, start, tempDir, waitFor, type Mode } from '../e2e/harness.js';
import { DOCUMENTED, TARGET, initArgs, killEverything, procStat, startInit } from './target.js';

afterEach(killEverything);

const zombiesUnder = (pid: number) => descendantsOf(pid).filter((p) => procStat(p)?.state === 'Z');

/** Like tini's reaping test: the app starts many short processes and lets them go, then waits. */
const orphanMaker = (n: number, marker: string) => [
  'sh', '-c', `i=0; while [ $i -lt ${n} ]; do (sleep 0.1 &); i=$((i+1)); done; sleep 1; touch ${marker}; exec sleep 30`,
];

async function orphansAreReaped(mode: Mode, flags: string[]) {
  const dir = tempDir();
  try {
    const marker = join(dir.path, 'done');
    const init = startInit(mode, flags, orphanMaker(50, marker), { timeoutMs: 80_000 });
    const pid = await init.initPid();
    await waitFor('the orphans to be made', () => existsSync(marker), 60_000);
    const reaped = await waitFor('no zombies', () => zombiesUnder(pid).length === 0, 10_000).catch(() => false);
    expect(reaped, `${zombiesUnder(pid).length} zombies left under the init`).toBe(true);
  } finally {
    dir.cleanup();
  }
}

describe('zombie reaping, like tini', () => {
  it.skipIf(!pid1Available())('as PID 1: reaps every orphan', { timeout: 90_000 }, async () => {
    await orphansAreReaped('pid1', []);
  });

  it('as a plain child with -s: orphans come back to the init and are reaped', { timeout: 90_000 }, async () => {
    await orphansAreReaped('child', ['-s']);
  });

  it.skipIf(!pid1Available())('as PID 1: no zombie is ever left (dumb-init\'s test, seen from inside)', async () => {
    const r = await startInit('pid1', [], ['sh', '-c', '(sh -c "echo i am a zombie" &); sleep 1; ps -A -o stat= | grep -c Z; true']).result;
    expect(r.stdout.toString()).toBe('i am a zombie\n0\n');
  });

  it('as a plain child with -s: an orphan is re-parented to the init', async () => {
    const dir = tempDir();
    try {
      const pidFile = join(dir.path, 'pid');
      const init = startInit('child', ['-s'], ['sh', '-c', `(sleep 30 & echo $! > ${pidFile}); exec sleep 30`]);
      const pid = await init.initPid();
      const orphan = Number(await waitFor('the orphan', () => readText(pidFile).trim() || undefined));
      await waitFor('the orphan to be re-parented to the init', () => procStat(orphan)?.ppid === pid);
    } finally {
      dir.cleanup();
    }
  });

  it('as a plain child without -s: graceful-init registers as subreaper anyway, tini warns that it cannot reap', async () => {
    const dir = tempDir();
    try {
      const pidFile = join(dir.path, 'pid');
      const init = startInit('child', [], ['sh', '-c', `(sleep 30 >/dev/null 2>&1 & echo $! > ${pidFile}); sleep 1; exit 0`]);
      const pid = await init.initPid();
      const orphan = Number(await waitFor('the orphan', () => readText(pidFile).trim() || undefined));
      if (DOCUMENTED.subreaperByDefault) await waitFor('the orphan to be re-parented to the init', () => procStat(orphan)?.ppid === pid);
      const r = await init.result;
      if (!DOCUMENTED.subreaperByDefault) expect(r.stderr).toMatch(/zombie reaping won't work/);
      try {
        process.kill(orphan, 'SIGKILL');
      } catch {
        // gone
      }
    } finally {
      dir.cleanup();
    }
  });
});

describe('when the app exits', () => {
  it('the init exits with the app\'s status at once; what the app left is tini\'s to leave alone, graceful-init TERMs it', async () => {
    const dir = tempDir();
    const mark = `leftover-${process.pid}`;
    try {
      const pidFile = join(dir.path, 'pid');
      const log = join(dir.path, 'log');
      // the leftover logs a TERM; its output goes elsewhere, or it would hold the init's pipes open
      const leftover = `sh -c 'trap "echo TERM >> ${log}; exit 0" TERM; while :; do sleep 0.05; done' >/dev/null 2>&1 & echo $! > ${pidFile}; sleep 0.5; exit 3`;
      const r = await start('child', initArgs(['-s'], ['sh', '-c', leftover]), { binary: TARGET, env: markedEnv(mark) }).result;
      expect(r.code).toBe(3);
      const orphan = Number(readText(pidFile).trim());
      if (DOCUMENTED.termsLeftovers) {
        await waitFor('the leftover to get TERM', () => readText(log).includes('TERM'));
      } else {
        expect(isAlive(orphan), 'tini leaves the leftover running').toBe(true);
        expect(readText(log)).toBe('');
      }
    } finally {
      killMarked(mark);
      dir.cleanup();
    }
  });
});
