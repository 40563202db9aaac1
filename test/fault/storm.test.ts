// Load and bad timing: signal storms, orphans by the hundred thousand, an app that forks while it is
// being stopped, an app that exits in the middle of each shutdown step.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MODES, isAlive, killAll, killMarked, markedEnv, pid1Available, readText, sleep, start, tempDir, waitFor, lines } from '../e2e/harness.js';

afterEach(killAll);

/** Waits for the init's first child: from then on its signal handlers are in place. */
const appOf = (init: number) => waitFor('the app', () => Number(readText(`/proc/${init}/task/${init}/children`).trim().split(/\s+/)[0]) || undefined);
const rssKb = (pid: number) => Number(/^VmRSS:\s+(\d+)/m.exec(readText(`/proc/${pid}/status`))?.[1] ?? NaN);
/** zombies among the children of `pid` */
const zombiesOf = (pid: number) =>
  readText(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/).filter(Boolean).filter((c) => readText(`/proc/${c}/stat`).includes(') Z ')).length;

describe.each(MODES)('under load (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('a storm of 10,000 mixed signals: the init lives, memory stays flat, a TERM inside the storm still stops the app', async () => {
    const dir = tempDir();
    try {
      const ready = join(dir.path, 'ready');
      // the app ignores the storm and exits 7 on TERM
      const app = `trap "" USR1 USR2 HUP WINCH 40; trap "exit 7" TERM; touch ${ready}; while :; do sleep 0.05; done`;
      const init = start(mode, ['--', 'bash', '-c', app], { timeoutMs: 60_000 });
      const pid = await init.initPid();
      await waitFor('the app', () => existsSync(ready));
      const before = rssKb(pid);
      const storm = ['SIGUSR1', 'SIGUSR2', 'SIGHUP', 'SIGWINCH', 40] as const;
      for (let i = 0; i < 10_000; i++) {
        process.kill(pid, storm[i % storm.length] as NodeJS.Signals | number);
        if (i % 500 === 499) await sleep(5);
      }
      await sleep(500);
      expect(isAlive(pid)).toBe(true);
      expect(rssKb(pid) - before, 'RSS growth in KiB').toBeLessThan(20_000);
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 1000; i++) process.kill(pid, storm[i % storm.length] as NodeJS.Signals | number);
      const r = await init.result;
      expect(r.code).toBe(7);
    } finally {
      dir.cleanup();
    }
  }, 60_000);

  it.skipIf(skip)('5,000 orphans over time: all reaped, memory flat', async () => {
    // perl double-forks: every grandchild is orphaned to the init and exits at once
    const perl = 'for my $i (1..5000) { my $p = fork; die "fork: $!" unless defined $p; if (!$p) { fork; POSIX::_exit(0) } waitpid($p, 0) } print "done\\n"; sleep 1';
    const init = start(mode, ['--', 'perl', '-MPOSIX', '-e', perl], { timeoutMs: 120_000 });
    const pid = await init.initPid();
    await appOf(pid);
    await sleep(500);
    const early = rssKb(pid);
    let peakZombies = 0;
    while (init.child.exitCode === null && isAlive(pid)) {
      peakZombies = Math.max(peakZombies, zombiesOf(pid));
      if (rssKb(pid) > early + 20_000) throw new Error(`the init grew from ${early} to ${rssKb(pid)} KiB`);
      await sleep(100);
    }
    const r = await init.result;
    expect(r.stdout.toString()).toBe('done\n');
    expect(r.code).toBe(0);
    expect(peakZombies, 'zombies seen at once').toBeLessThan(2000);
  }, 130_000);
});

describe.each(MODES)('the app exits in the middle of a step (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();
  it.skipIf(skip)('during the drain: the init exits at once with its status', async () => {
    const init = start(mode, ['--drain-delay', '20s', '--', 'sh', '-c', 'trap "" TERM; sleep 1.5; exit 5']);
    const pid = await init.initPid();
    await appOf(pid);
    process.kill(pid, 'SIGTERM');
    const t0 = Date.now();
    const r = await init.result;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^graceful-init: shutdown on SIGTERM, app exited with 5 at .*, exit 5\n$/);
  });

  it.skipIf(skip)('during a pre-stop command: the init does not wait for the command', async () => {
    const dir = tempDir();
    try {
      const out = join(dir.path, 'pre');
      const init = start(mode, ['--pre-stop', `sh -c "echo started > ${out}; sleep 20"`, '--', 'sh', '-c', 'trap "exit 5" USR1; while :; do sleep 0.05; done']);
      const pid = await init.initPid();
      await appOf(pid);
      process.kill(pid, 'SIGTERM');
      await waitFor('the pre-stop command', () => lines(out).includes('started'));
      process.kill(pid, 'SIGUSR1');
      const t0 = Date.now();
      const r = await init.result;
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/app exited with 5 at .*exit 5\n$/);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('an app that forks continuously while it is stopped: the deadline leaves nothing behind', async () => {
    const mark = `forking-${mode}-${process.pid}`;
    try {
      const forking = 'trap "" TERM; while :; do sleep 30 & sleep 0.01; done';
      const init = start(mode, ['--kill-after', '1s', '--', 'sh', '-c', forking], { env: markedEnv(mark), timeoutMs: 20_000 });
      const pid = await init.initPid();
      await appOf(pid);
      await sleep(300);
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      expect(r.code).toBe(137);
      await sleep(200);
      const { readdirSync, readFileSync } = await import('node:fs');
      const left = readdirSync('/proc').filter((e) => {
        try {
          return /^\d+$/.test(e) && readFileSync(`/proc/${e}/environ`, 'latin1').includes(`GI_TEST_MARK=${mark}\0`) && !readFileSync(`/proc/${e}/stat`, 'latin1').includes(') Z ');
        } catch {
          return false;
        }
      });
      expect(left).toEqual([]);
    } finally {
      killMarked(mark);
    }
  });
});

describe.each(MODES)('limits of what the init is given (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('huge argv and environment reach the app whole', async () => {
    const { run, cleanEnv } = await import('../e2e/harness.js');
    const args = Array.from({ length: 5000 }, (_, i) => `argument-${i}-${'x'.repeat(100)}`);
    const env = cleanEnv(Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`BIG_${i}`, 'y'.repeat(200)])));
    const r = await run(mode, ['--', 'sh', '-c', 'echo "$# ${#BIG_1999}"', 'sh', ...args], { env, timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('5000 200\n');
  });

  it.skipIf(skip)('an app that exits at the very deadline: its status or 137, and nothing left behind', async () => {
    const init = start(mode, ['--kill-after', '1s', '--', 'sh', '-c', 'trap "sleep 1; exit 9" TERM; while :; do sleep 0.05; done']);
    const pid = await init.initPid();
    await appOf(pid);
    await sleep(200);
    process.kill(pid, 'SIGTERM');
    const r = await init.result;
    expect([9, 137]).toContain(r.code);
    expect(r.timedOut).toBe(false);
  });
});
