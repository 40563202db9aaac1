// What the app leaves behind is stopped, even a process that keeps forking while it is being killed.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MODES, killAll, killMarked, markedEnv, pid1Available, readText, run, start, tempDir, waitFor } from '../e2e/harness.js';

afterEach(killAll);

/** Live processes (not zombies) whose environment carries the mark. */
function marked(mark: string): number[] {
  const needle = `GI_TEST_MARK=${mark}\0`;
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/environ`, 'latin1').includes(needle) && !readFileSync(`/proc/${e}/stat`, 'latin1').includes(') Z ');
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe.each(MODES)('leftovers (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('a leftover that keeps forking while it is killed does not escape', async () => {
    const mark = `forker-${mode}-${process.pid}`;
    try {
      // the forker ignores TERM and starts up to 3,000 sleeps as fast as it can, after the app is gone
      const forker = 'trap "" TERM; i=0; while [ $i -lt 3000 ]; do sleep 60 & i=$((i+1)); done; wait';
      const r = await run(mode, ['--orphan-grace', '300ms', '--', 'sh', '-c', `sh -c '${forker}' & sleep 0.3; exit 3`], {
        env: markedEnv(mark),
        timeoutMs: 20_000,
      });
      expect(r.code).toBe(3);
      expect(marked(mark), 'processes the app left that are still running').toEqual([]);
    } finally {
      killMarked(mark);
    }
  }, 30_000);

  // CMD ./app.sh or `sh -c 'app; echo done'`: on TERM the shell dies and the real app is left; it
  // must keep the rest of the stop time (not --orphan-grace, 1 s) to finish, and the init exits as
  // soon as it has
  it.skipIf(skip)('shell-form CMD: the app the shell left behind gets until the deadline to finish after its TERM; the init exits as soon as it has', async () => {
    const dir = tempDir();
    try {
      const finished = join(dir.path, 'finished');
      const ready = join(dir.path, 'ready');
      // 2.5 s of graceful stop after TERM, well past the 1 s orphan grace
      const app = `trap "sleep 2.5; echo done > ${finished}; exit 0" TERM; echo > ${ready}; while :; do sleep 0.05; done`;
      const init = start(mode, ['--', 'sh', '-c', `sh -c '${app}'; echo after`], { timeoutMs: 20_000 });
      const pid = await init.initPid();
      await waitFor('app ready', () => readText(ready) !== '');
      const t0 = Date.now();
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      const took = Date.now() - t0;
      expect(readText(finished), r.stderr).toBe('done\n');
      expect(r.stderr).toMatch(/graceful-init: shutdown on SIGTERM, SIGTERM to app at [^,]+, app killed by SIGTERM at [^,]+, leftovers stopped by SIGTERM in (2\.[5-9]|3\.\d)s, exit 143\n$/);
      expect(took, 'the init exits once the leftover has').toBeLessThan(5000);

      // one that ignores TERM is killed at the deadline, not after the orphan grace
      const stubborn = `trap "" TERM; echo > ${ready}2; while :; do sleep 0.05; done`;
      const init2 = start(mode, ['--kill-after', '2500ms', '--', 'sh', '-c', `sh -c '${stubborn}'; echo after`], { timeoutMs: 20_000 });
      const pid2 = await init2.initPid();
      await waitFor('app ready', () => readText(`${ready}2`) !== '');
      const t1 = Date.now();
      process.kill(pid2, 'SIGTERM');
      const r2 = await init2.result;
      expect(Date.now() - t1).toBeGreaterThanOrEqual(2400);
      expect(r2.stderr).toMatch(/app killed by SIGTERM at [^,]+, leftovers killed at the deadline, 2\.[45]s after SIGTERM, exit 143\n$/);
    } finally {
      dir.cleanup();
    }
  }, 30_000);

  // the deadline's SIGKILL reaches every process at once; one with much memory takes a while to
  // be gone (the kernel frees it), and is not "left over" for that
  it.skipIf(skip)('at the deadline, a process still dying from the SIGKILL is not reported as left over', async () => {
    const dir = tempDir();
    try {
      const marker = join(dir.path, 'ready');
      const big = `python3 -c 'b = b"x" * (600 << 20); open("${marker}", "w").write("ready"); import time; time.sleep(1000)'`;
      const init = start(mode, ['--kill-after', '1s', '--', 'sh', '-c', `trap "" TERM; ${big} & while :; do sleep 1; done`], { timeoutMs: 20_000 });
      const pid = await init.initPid();
      await waitFor('600 MB touched', () => readText(marker) === 'ready', 10_000);
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      expect(r.code).toBe(137);
      expect(r.stderr).toMatch(/SIGKILL \(deadline\) at 1s, app killed by SIGKILL at [^,]+, exit 137\n$/);
    } finally {
      dir.cleanup();
    }
  });

  // the app's own exit may end the init straight from its SIGCHLD handler (quick-exit.c): only when
  // nothing is left, so a leftover still gets its TERM, and the status (remapped) is still the app's
  it.skipIf(skip)('the app exits on its own: what it left gets TERM first; alone, its status is the init\'s at once', async () => {
    const mark = `termed-${mode}-${process.pid}`;
    const dir = tempDir();
    try {
      const leftover = `trap "echo TERM > ${dir.path}/got; exit 0" TERM; while :; do sleep 0.05; done`;
      const left = await run(mode, ['--', 'sh', '-c', `sh -c '${leftover}' & sleep 0.3; exit 3`], { env: markedEnv(mark), timeoutMs: 15_000 });
      expect(left.code).toBe(3);
      expect(readText(`${dir.path}/got`)).toBe('TERM\n');
      expect((await run(mode, ['-e', '3', '--', 'sh', '-c', 'exit 3'])).code).toBe(0);
      expect((await run(mode, ['--', 'sh', '-c', 'exit 7'])).code).toBe(7);
      expect((await run(mode, ['--', 'sh', '-c', 'kill -KILL $$'])).code).toBe(137);
    } finally {
      killMarked(mark);
      dir.cleanup();
    }
  }, 30_000);
});

describe('not PID 1 and no /proc', () => {
  it.skipIf(!pid1Available())('says once that leftovers cannot be found, and still exits with the app status', async () => {
    const { spawnSync } = await import('node:child_process');
    const { BINARY } = await import('../e2e/harness.js');
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `umount -l /proc && "${BINARY}" -- sh -c 'exit 4'; echo "rc=$?"`], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(r.stdout).toBe('rc=4\n');
    expect(r.stderr.match(/cannot find the processes the app left: not PID 1 and no \/proc/g)).toHaveLength(1);
  });
});
