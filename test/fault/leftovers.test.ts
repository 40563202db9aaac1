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
