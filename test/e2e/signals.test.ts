import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { FIXTURES, MODES, TEST_HOOKS_BINARY, cleanEnv, descendantsOf, killAll, pid1Available, readText, sleep, start, tempDir, waitFor } from './harness.js';

afterEach(killAll);

const LOGGER = join(FIXTURES, 'signal-logger.sh');
const lines = (file: string) => readText(file).split('\n').filter(Boolean);

// every signal the logger traps apart from TERM, which ends it; INT and QUIT are stop signals and have
// their own tests
const NON_STOP = ['HUP', 'USR1', 'USR2', 'ALRM', 'CONT', 'TSTP', 'WINCH', 'URG', 'XCPU', 'XFSZ', 'VTALRM', 'PROF', 'IO', 'PWR', 'STKFLT'];

describe.each(MODES)('signal forwarding (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('forwards each catchable signal exactly once, in the order sent', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'signals');
      const init = start(mode, ['--', LOGGER, log]);
      const pid = await init.initPid();
      await waitFor('the app to be ready', () => lines(log).includes('ready'));
      for (const [i, sig] of [...NON_STOP, 'TERM'].entries()) {
        process.kill(pid, `SIG${sig}` as NodeJS.Signals);
        // wait for the app to log it before the next one, so the app's kernel cannot merge two
        await waitFor(`${sig} to reach the app`, () => lines(log).length >= i + 2);
      }
      const r = await init.result;
      expect(lines(log)).toEqual(['ready', ...NON_STOP, 'TERM']);
      expect(r.code).toBe(0);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('delivers a burst of different signals, each once', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'signals');
      const init = start(mode, ['--', LOGGER, log, 'PWR']);
      const pid = await init.initPid();
      await waitFor('the app to be ready', () => lines(log).includes('ready'));
      const burst = ['HUP', 'USR1', 'USR2', 'WINCH', 'ALRM', 'URG'];
      for (const sig of burst) process.kill(pid, `SIG${sig}` as NodeJS.Signals);
      await waitFor('the burst to arrive', () => lines(log).length >= burst.length + 1);
      process.kill(pid, 'SIGPWR');
      await init.result;
      const got = lines(log).slice(1, -1);
      // the kernel delivers pending signals to the app lowest number first, so only the set is fixed
      expect([...got].sort()).toEqual([...burst].sort());
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('holds a signal that arrives before the app exists and delivers it once the app does', async () => {
    // The app cannot have handlers yet when a held signal is delivered, so it meets the default
    // action: USR1 ends `sleep` (138). Were the signal lost, sleep would run on and the test time out.
    const init = start(mode, ['--', 'sleep', '30'], { env: cleanEnv({ GI_TEST_SPAWN_DELAY_MS: '1000' }), timeoutMs: 8000, binary: TEST_HOOKS_BINARY });
    const pid = await init.initPid();
    await new Promise((r) => setTimeout(r, 500));
    expect(descendantsOf(pid), 'the app must not exist yet').toEqual([]);
    process.kill(pid, 'SIGUSR1');
    const r = await init.result;
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(138);
  });

  it.skipIf(skip)('a stop signal before the app exists starts the shutdown once the app does', async () => {
    const init = start(mode, ['--', 'sleep', '30'], { env: cleanEnv({ GI_TEST_SPAWN_DELAY_MS: '1000' }), timeoutMs: 8000, binary: TEST_HOOKS_BINARY });
    const pid = await init.initPid();
    await new Promise((r) => setTimeout(r, 500));
    process.kill(pid, 'SIGTERM');
    const r = await init.result;
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/shutdown on SIGTERM, SIGTERM to app/);
  });

  it.skipIf(skip)('QUIT is not a stop signal by default: forwarded like any other, no shutdown, no summary', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'signals');
      const init = start(mode, ['--grace-period', '3s', '--', LOGGER, log, 'USR2']);
      const pid = await init.initPid();
      await waitFor('ready', () => lines(log).includes('ready'));
      process.kill(pid, 'SIGQUIT');
      await waitFor('QUIT', () => lines(log).includes('QUIT'));
      await sleep(1500); // the old default (QUIT a stop signal) would have killed the app at 1 s
      process.kill(pid, 'SIGUSR2');
      const r = await init.result;
      expect(lines(log)).toEqual(['ready', 'QUIT', 'USR2']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('a stop signal reaches the app once, and the init exits with its status', async () => {
    for (const sig of ['TERM', 'INT'] as const) {
      const dir = tempDir();
      try {
        const log = join(dir.path, 'signals');
        const init = start(mode, ['--', LOGGER, log, sig]);
        const pid = await init.initPid();
        await waitFor('ready', () => lines(log).includes('ready'));
        process.kill(pid, `SIG${sig}`);
        const r = await init.result;
        expect(lines(log)).toEqual(['ready', sig]);
        expect(r.code).toBe(0);
        // a shutdown sequence ran: exactly one summary line
        expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(new RegExp(`^graceful-init: shutdown on SIG${sig}, SIG${sig} to app at .*exit 0\\n$`));
      } finally {
        dir.cleanup();
      }
    }
  });

  it.skipIf(skip)('-v logs the spawn, each forwarded signal and the exit; -q prints nothing', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'signals');
      const init = start(mode, ['-v', '--', LOGGER, log]);
      const pid = await init.initPid();
      await waitFor('ready', () => lines(log).includes('ready'));
      process.kill(pid, 'SIGUSR2');
      await waitFor('USR2', () => lines(log).includes('USR2'));
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      expect(r.stderr).toMatch(/graceful-init: spawned .*signal-logger\.sh/);
      expect(r.stderr).toMatch(/graceful-init: forwarded SIGUSR2 to \d+/);
      expect(r.stderr).toMatch(/graceful-init: app exited with 0/);

      const quiet = start(mode, ['-q', '--', LOGGER, log]);
      const qpid = await quiet.initPid();
      await waitFor('ready', () => lines(log).filter((l) => l === 'ready').length === 2);
      process.kill(qpid, 'SIGTERM');
      expect((await quiet.result).stderr).toBe('');
    } finally {
      dir.cleanup();
    }
  });
});

describe('when the init itself fails', () => {
  it('an internal crash takes the app tree down instead of orphaning it (not PID 1)', async () => {
    const dir = tempDir();
    try {
      const pidFile = join(dir.path, 'pids');
      const init = start('child', ['--', 'sh', '-c', `sleep 60 & echo $! > ${pidFile}; echo $$ >> ${pidFile}; wait`], {
        env: cleanEnv({ GI_TEST_CRASH_MS: '500' }),
        binary: TEST_HOOKS_BINARY,
      });
      const pids = (await waitFor('pids', () => lines(pidFile).length === 2 && lines(pidFile))).map(Number);
      const r = await init.result;
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^graceful-init: internal error: crash requested by GI_TEST_CRASH_MS; stopping the app\n$/);
      await waitFor('the app and its child to be gone', () =>
        pids.every((p) => {
          try {
            process.kill(p, 0);
            return readText(`/proc/${p}/stat`).includes(') Z');
          } catch {
            return true;
          }
        }),
      );
    } finally {
      dir.cleanup();
    }
  });
});
