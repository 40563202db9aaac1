// What tini gives an app, byte for byte: descriptors, argv and environment bytes, socket activation,
// limits; and every bad setting refused before the app starts.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BINARY, MODES, SIGNAL_LOGGER, type Mode, cleanEnv, killAll, pid1Available, run, sleep, start, tempDir, underSignalLogger, waitFor, lines } from './harness.js';

afterEach(killAll);

function readlinkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find(existsSync) ?? 'unshare';

/** Runs the init with extra descriptors 3..n open (stdio 'pipe' or a number each), returning stdout. */
function runWithFds(mode: Mode, args: string[], extra: ('pipe' | 'ignore')[], env = cleanEnv()): Promise<{ code: number | null; out: string; err: string }> {
  const [file, argv] = mode === 'pid1' ? [UNSHARE, ['--pid', '--fork', '--mount-proc', '--kill-child', BINARY, ...args]] : [BINARY, args];
  const child = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe', ...extra] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  return new Promise((resolve) => child.on('close', (code) => (clearTimeout(timer), resolve({ code, out, err }))));
}

describe.each(MODES)('drop-in for tini (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('passes the descriptors it was started with, and none of its own', async () => {
    // ls reads the table of the shell, which is the app
    const r = await runWithFds(mode, ['--', 'sh', '-c', 'ls -l /proc/$$/fd'], ['pipe', 'pipe', 'pipe']);
    expect(r.code).toBe(0);
    const fds = new Map([...r.out.matchAll(/ (\d+) -> (.*)$/gm)].map((m) => [Number(m[1]), m[2] as string]));
    for (const fd of [3, 4, 5]) expect(fds.get(fd), `fd ${fd}`).toMatch(/^(pipe|socket):/);
    // nothing of the init's own (epoll, eventfd, io_uring, its pipes): beyond 0-5 only what this
    // test process itself was started with and passed on (a CI runner's descriptor, say)
    const ours = (fd: number) => readlinkOrNull(`/proc/${process.pid}/fd/${fd}`) === fds.get(fd);
    expect([...fds.values()].filter((t) => t.startsWith('anon_inode:'))).toEqual([]);
    expect([...fds.keys()].filter((fd) => fd > 5 && !ours(fd))).toEqual([]);
  });

  it.skipIf(skip)('socket activation: LISTEN_PID names the app, LISTEN_FDS and the descriptor reach it', async () => {
    const env = cleanEnv({ LISTEN_FDS: '1', LISTEN_PID: '1234567', LISTEN_FDNAMES: 'web' });
    const r = await runWithFds(mode, ['--', 'sh', '-c', 'echo "$$ $LISTEN_PID $LISTEN_FDS $LISTEN_FDNAMES"; readlink /proc/self/fd/3'], ['pipe'], env);
    const [pid, listenPid, fds, names] = r.out.split('\n')[0]?.split(' ') ?? [];
    expect(listenPid).toBe(pid);
    expect([fds, names]).toEqual(['1', 'web']);
    expect(r.out.split('\n')[1]).toMatch(/^(pipe|socket):/);
  });

  it.skipIf(skip)('argv and environment bytes that are not UTF-8 reach the app unchanged', async () => {
    const dir = tempDir();
    try {
      const out = join(dir.path, 'seen');
      const weird = Buffer.from([0x61, 0xff, 0xfe, 0x62, 0xc3, 0x28]);
      // printf makes the raw bytes: Node itself would send UTF-8
      const bytes = "$(printf 'a\\377\\376b\\303(')";
      const init = mode === 'pid1' ? `${UNSHARE} --pid --fork --mount-proc --kill-child ${BINARY}` : BINARY;
      const dump = `cat /proc/$$/cmdline > ${out}.argv; cat /proc/$$/environ > ${out}.env`;
      const sh = spawn('sh', ['-c', `WEIRD=${bytes} exec ${init} -- sh -c '${dump}' name ${bytes}`], { env: cleanEnv(), stdio: 'ignore' });
      await new Promise((resolve) => sh.on('close', resolve));
      const { readFileSync } = await import('node:fs');
      expect(readFileSync(`${out}.argv`).includes(Buffer.concat([Buffer.from('name\0'), weird, Buffer.from('\0')]))).toBe(true);
      expect(readFileSync(`${out}.env`).includes(Buffer.concat([Buffer.from('WEIRD='), weird, Buffer.from('\0')]))).toBe(true);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('--app-nofile gives the app the soft open-files limit asked for; without it the app has the init\'s', async () => {
    const limited = await run(mode, ['--app-nofile', '1024', '--', 'sh', '-c', 'ulimit -n']);
    expect(limited.stdout.toString().trim()).toBe('1024');
    const plain = await run(mode, ['--', 'sh', '-c', 'ulimit -n']);
    expect(Number(plain.stdout.toString().trim())).toBeGreaterThan(0);
  });
});

// Swapping tini or dumb-init for graceful-init in an ENTRYPOINT keeps its flags and variables' meaning.
describe.each(MODES)("tini's and dumb-init's flags and variables (%s)", (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  /** USR1 to the init: does it reach a process the app started in its own group? */
  async function usr1ReachesGrandchild(args: string[], env: NodeJS.ProcessEnv = {}): Promise<boolean> {
    const dir = tempDir();
    try {
      const [app, grand] = [join(dir.path, 'app'), join(dir.path, 'grand')];
      const init = start(mode, [...args, '--', 'sh', '-c', `"${SIGNAL_LOGGER}" "${grand}" & exec "${SIGNAL_LOGGER}" "${app}"`], { env: cleanEnv(env) });
      const pid = await init.initPid();
      await waitFor('both to be ready', () => lines(app).includes('ready') && lines(grand).includes('ready'));
      process.kill(pid, 'SIGUSR1');
      await waitFor('USR1 to reach the app', () => lines(app).includes('USR1'));
      await sleep(300);
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      expect(r.code).toBe(0);
      return lines(grand).includes('USR1');
    } finally {
      dir.cleanup();
    }
  }

  it.skipIf(skip)("signals the app's whole group with tini's -g, TINI_KILL_PROCESS_GROUP or dumb-init's DUMB_INIT_SETSID=1", async () => {
    expect(await usr1ReachesGrandchild(['-g'])).toBe(true);
    expect(await usr1ReachesGrandchild([], { TINI_KILL_PROCESS_GROUP: '' })).toBe(true);
    expect(await usr1ReachesGrandchild([], { DUMB_INIT_SETSID: '1' })).toBe(true);
  });

  it.skipIf(skip)("signals the app alone by default, with dumb-init's -c and with DUMB_INIT_SETSID=0", async () => {
    expect(await usr1ReachesGrandchild([])).toBe(false);
    expect(await usr1ReachesGrandchild(['-c'])).toBe(false);
    expect(await usr1ReachesGrandchild([], { DUMB_INIT_SETSID: '0' })).toBe(false);
  });

  it.skipIf(skip)("rewrites with dumb-init's numbers (-r 15:3 --rewrite 10:12): the stop signal and forwarded ones alike", async () => {
    const { logged, result } = await underSignalLogger(
      mode,
      ['-r', '15:3', '--rewrite', '10:12'],
      async (pid, sofar) => {
        process.kill(pid, 'SIGUSR1');
        await waitFor('USR2', () => sofar().includes('USR2'));
        process.kill(pid, 'SIGTERM');
      },
      'QUIT',
    );
    expect(logged).toEqual(['ready', 'USR2', 'QUIT']);
    expect(result.code).toBe(0);
  });

  it.skipIf(skip)("tini's -w: a warning for each process reaped that is not the app; none without it", async () => {
    // the subshell exits at once: its sleep is an orphan the init reaps while the app still runs
    const app = ['sh', '-c', '(sleep 0.1 &); exec sleep 1'];
    const warned = await run(mode, ['-w', '--', ...app]);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toMatch(/^graceful-init: reaped a zombie process$/m);
    const quiet = await run(mode, ['--', ...app]);
    expect(quiet.stderr).toBe('');
  });

  it.skipIf(skip)("tini's -e with a list as in the variable: -e 143,130", async () => {
    expect((await run(mode, ['-e', '143,130', '--', 'sh', '-c', 'exit 130'])).code).toBe(0);
    expect((await run(mode, ['-e143,130', '--', 'sh', '-c', 'exit 143'])).code).toBe(0);
    expect((await run(mode, ['-e', '143,130', '--', 'sh', '-c', 'exit 3'])).code).toBe(3);
  });

  it.skipIf(skip)("TINI_VERBOSITY and DUMB_INIT_DEBUG set how much the init says", async () => {
    const stopped = (env: NodeJS.ProcessEnv) => run(mode, ['--', 'sh', '-c', 'kill -TERM $PPID; sleep 0.5'], { env: cleanEnv(env) });
    expect((await stopped({})).stderr).toMatch(/^graceful-init: shutdown on SIGTERM/);
    expect((await stopped({ TINI_VERBOSITY: '0' })).stderr).toBe('');
    expect((await stopped({ TINI_VERBOSITY: '3' })).stderr).toMatch(/^graceful-init: spawned sh/m);
    expect((await stopped({ DUMB_INIT_DEBUG: '1' })).stderr).toMatch(/^graceful-init: spawned sh/m);
  });
});

describe("tini's -l and dumb-init's -V", () => {
  it('print and exit 0 without an app', async () => {
    const license = await run('child', ['-l']);
    expect(license.code).toBe(0);
    expect(license.stdout.toString()).toMatch(/^graceful-init \S+ is released under the MIT License/);
    const version = await run('child', ['-V']);
    expect(version.code).toBe(0);
    expect(version.stdout.toString()).toMatch(/^graceful-init \S+ \(.*node v\d+/);
  });
});

describe('every setting checked before the app starts', () => {
  it.each([
    [['--stop-signals', 'KILL'], /--stop-signals: "KILL": SIGKILL cannot be caught/],
    [['--stop-signal', 'STOP'], /--stop-signal: "STOP": SIGSTOP would freeze the app/],
    [['--rewrite', 'KILL:TERM'], /--rewrite: "KILL": SIGKILL cannot be caught/],
    [['--pre-stop', "sh -c 'unclosed"], /--pre-stop: .* cannot be run: .*unclosed ' quote/],
    [['--pre-stop', '  '], /--pre-stop: .* cannot be run: the command is empty/],
    [['--grace-period', '597h'], /--grace-period: "597h" is too long; the maximum is 596h/],
    [['--kill-after', '1'.repeat(400)], /--kill-after: .* (is not a duration|is too long)/],
  ])('%j: one line naming the problem, exit 2, the app never runs', async (args, message) => {
    const dir = tempDir();
    try {
      const marker = join(dir.path, 'ran');
      const r = await run('child', [...args, '--', 'sh', '-c', `touch ${marker}`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(existsSync(marker)).toBe(false);
    } finally {
      dir.cleanup();
    }
  });

  it('the same from the environment', async () => {
    const r = await run('child', ['--', 'true'], { env: cleanEnv({ GRACEFUL_INIT_STOP_SIGNALS: 'TERM,KILL' }) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^graceful-init: GRACEFUL_INIT_STOP_SIGNALS: "KILL": SIGKILL cannot be caught/);
  });

  it('a misspelt GRACEFUL_INIT_* variable is named in a warning with the one it most likely misspells; GRACEFUL_INIT_CHECK does not turn the init into a printer', async () => {
    const r = await run('child', ['--', 'sh', '-c', 'echo app ran'], {
      env: cleanEnv({ GRACEFUL_INIT_DRAIN_DELAYS: '5s', GRACEFUL_INIT_CHECK: '1' }),
    });
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('app ran\n');
    expect(r.stderr).toBe(
      'graceful-init: ignoring GRACEFUL_INIT_CHECK: --check is command-line only\n' +
        'graceful-init: ignoring GRACEFUL_INIT_DRAIN_DELAYS: not a graceful-init setting; did you mean GRACEFUL_INIT_DRAIN_DELAY?\n',
    );
  });

  it('contradictory timings are one warning at start in the normal log, naming the setting at fault', async () => {
    const r = await run('child', ['--kill-margin', '40s', '--', 'true']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('graceful-init: --kill-margin 40s is not shorter than --grace-period 30s: the app is killed as soon as a stop signal arrives\n');
    const q = await run('child', ['-q', '--kill-margin', '40s', '--', 'true']);
    expect(q.stderr).toBe('');
  });
});
