import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { MODES, TEST_HOOKS_BINARY, cleanEnv, descendantsOf, freePort, httpGet, killAll, pid1Available, readText, sleep, start, tempDir, waitFor, lines, SIGNAL_LOGGER } from './harness.js';

afterEach(killAll);

// every signal the logger traps apart from TERM, which ends it; INT and QUIT are stop signals and have
// their own tests
const NON_STOP = ['HUP', 'USR1', 'USR2', 'ALRM', 'CONT', 'TSTP', 'WINCH', 'URG', 'XCPU', 'XFSZ', 'VTALRM', 'PROF', 'IO', 'PWR', 'STKFLT'];

describe.each(MODES)('signal forwarding (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('forwards each catchable signal exactly once, in the order sent', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'signals');
      const init = start(mode, ['--', SIGNAL_LOGGER, log]);
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
      const init = start(mode, ['--', SIGNAL_LOGGER, log, 'PWR']);
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
      const init = start(mode, ['--grace-period', '3s', '--', SIGNAL_LOGGER, log, 'USR2']);
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
        const init = start(mode, ['--', SIGNAL_LOGGER, log, sig]);
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
      const init = start(mode, ['-v', '--', SIGNAL_LOGGER, log]);
      const pid = await init.initPid();
      await waitFor('ready', () => lines(log).includes('ready'));
      process.kill(pid, 'SIGUSR2');
      await waitFor('USR2', () => lines(log).includes('USR2'));
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      expect(r.stderr).toMatch(/graceful-init: spawned .*signal-logger\.sh/);
      expect(r.stderr).toMatch(/graceful-init: forwarded SIGUSR2 to \d+/);
      expect(r.stderr).toMatch(/graceful-init: app exited with 0/);

      const quiet = start(mode, ['-q', '--', SIGNAL_LOGGER, log]);
      const qpid = await quiet.initPid();
      await waitFor('ready', () => lines(log).filter((l) => l === 'ready').length === 2);
      process.kill(qpid, 'SIGTERM');
      expect((await quiet.result).stderr).toBe('');
    } finally {
      dir.cleanup();
    }
  });
});

// GI_TEST_BUSY_LOOP_MS blocks the init's event loop right after the routing is installed: only the
// native handler can forward then. Each signal must reach the app within half the blocked time.
const BUSY_MS = 5000;
const busy = (extra: NodeJS.ProcessEnv = {}) => ({ env: cleanEnv({ GI_TEST_BUSY_LOOP_MS: String(BUSY_MS), ...extra }), binary: TEST_HOOKS_BINARY, timeoutMs: 20_000 });
const count = (text: string, re: RegExp) => text.match(new RegExp(re.source, 'g'))?.length ?? 0;

describe.each(MODES)('forwarding from the native handler (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('ordinary signals reach the app while the init\'s event loop is blocked, each once, and -v logs each once afterwards', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'signals');
      const startedAt = Date.now();
      const init = start(mode, ['-v', '--', SIGNAL_LOGGER, log], busy());
      const pid = await init.initPid();
      await waitFor('the app to be ready', () => lines(log).includes('ready'));
      const sent = ['USR1', 'USR2', 'HUP', 'WINCH'];
      for (const [i, sig] of sent.entries()) {
        process.kill(pid, `SIG${sig}` as NodeJS.Signals);
        await waitFor(`${sig} to reach the app`, () => lines(log).length >= i + 2, startedAt + BUSY_MS / 2 - Date.now());
      }
      process.kill(pid, 'SIGTERM'); // a stop signal: heard once the loop runs again
      const r = await init.result;
      expect(r.code).toBe(0);
      expect(lines(log)).toEqual(['ready', ...sent, 'TERM']);
      for (const sig of sent) expect(count(r.stderr, new RegExp(`forwarded SIG${sig} to \\d+`))).toBe(1);
      expect(r.stderr).toMatch(/shutdown started by SIGTERM/);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('--rewrite and -g apply on the native path: USR1 reaches the whole group as USR2, a dropped WINCH nowhere', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'signals');
      const startedAt = Date.now();
      // two loggers in the app's process group: the shell's background one and the one it becomes
      const app = ['sh', '-c', '"$0" "$1.group" & exec "$0" "$1"', SIGNAL_LOGGER, log];
      const init = start(mode, ['-v', '-g', '--rewrite', 'USR1:USR2', '--rewrite', 'WINCH:0', '--', ...app], busy());
      const pid = await init.initPid();
      const both = () => [lines(log), lines(`${log}.group`)];
      await waitFor('both loggers', () => both().every((l) => l.includes('ready')));
      const soon = () => startedAt + BUSY_MS / 2 - Date.now();
      process.kill(pid, 'SIGUSR1');
      await waitFor('USR2 at both', () => both().every((l) => l.includes('USR2')), soon());
      process.kill(pid, 'SIGWINCH');
      process.kill(pid, 'SIGHUP');
      await waitFor('HUP at both', () => both().every((l) => l.includes('HUP')), soon());
      await sleep(100);
      expect(both()).toEqual([['ready', 'USR2', 'HUP'], ['ready', 'USR2', 'HUP']]);
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      expect(r.code).toBe(0);
      expect(count(r.stderr, /forwarded SIGUSR1 as SIGUSR2 to -\d+/)).toBe(1);
      expect(count(r.stderr, /dropped SIGWINCH \(--rewrite\)/)).toBe(1);
      expect(both().map((l) => l.filter((s) => s !== 'TERM'))).toEqual([['ready', 'USR2', 'HUP'], ['ready', 'USR2', 'HUP']]);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('/metrics counts each forwarded signal once, whichever path sent it', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'signals');
      const port = await freePort();
      const init = start(mode, ['--status-addr', `127.0.0.1:${port}`, '--', SIGNAL_LOGGER, log], {
        env: cleanEnv({ GI_TEST_SPAWN_DELAY_MS: '800' }),
        binary: TEST_HOOKS_BINARY,
      });
      const pid = await init.initPid();
      const forwarded = async () => {
        const body = (await httpGet(port, '/metrics')).body;
        const samples = [...body.matchAll(/^graceful_init_signals_forwarded_total\{signal="(\w+)"\} (\d+)$/gm)];
        return Object.fromEntries(samples.map(([, signal, n]) => [signal, Number(n)]));
      };
      await waitFor('/metrics', async () => (await httpGet(port, '/metrics')).status === 200);
      // held until the app exists, then forwarded from JavaScript (WINCH: harmless before the app's trap)
      process.kill(pid, 'SIGWINCH');
      await waitFor('the app to be ready', () => lines(log).includes('ready'));
      for (const [sig, nth] of [['HUP', 1], ['HUP', 2], ['USR2', 1]] as const) {
        process.kill(pid, `SIG${sig}`);
        await waitFor(`${sig} to reach the app`, () => lines(log).filter((l) => l === sig).length === nth);
      }
      process.kill(pid, 'SIGWINCH'); // from the handler
      const expected = { SIGWINCH: 2, SIGHUP: 2, SIGUSR2: 1 };
      await waitFor('the counts', async () => isDeepStrictEqual(await forwarded(), expected));
      await sleep(200); // a count made twice would show by now
      expect(await forwarded()).toEqual(expected);
      process.kill(pid, 'SIGTERM');
      expect((await init.result).code).toBe(0);
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
