// Fault cases for pre-stop commands (issue 10, items 2, 8 and 13): output of any shape, commands that
// leave a process holding their output, a command that outlives its timeout, names with newlines.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { FIXTURES, MODES, freePort, httpGet, killAll, killMarked, markedEnv, pid1Available, readText, run, start, tempDir, waitFor, type Started, lines } from '../e2e/harness.js';
import { FAULT_FIXTURES, STOPPABLE, markedAlive, newMark } from './helpers.js';

const marks: string[] = [];
afterEach(() => {
  killAll();
  for (const m of marks.splice(0)) killMarked(m);
});

/** The stop signal to the init once the app has written "ready" to its marker. */
async function termWhenReady(init: Started, marker: string): Promise<void> {
  const pid = await init.initPid();
  await waitFor('app ready', () => lines(marker).includes('ready'));
  process.kill(pid, 'SIGTERM');
}

describe.each(MODES)('pre-stop faults (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('90 MB of output without a newline: streamed in bounded memory, cut to one 4 KiB line, the sequence completes', async () => {
    const dir = tempDir();
    try {
      const marker = join(dir.path, 'app');
      const bytes = 90_000_000;
      const init = start(
        mode,
        ['--pre-stop', `${join(FAULT_FIXTURES, 'print-no-newline.sh')} ${bytes}`, '--pre-stop-wait', '0', '--', STOPPABLE, '7', marker],
        { timeoutMs: 60_000 },
      );
      await termWhenReady(init, marker);
      const r = await init.result;
      expect(r.timedOut).toBe(false);
      expect(lines(marker)).toEqual(['ready', 'TERM']);
      expect(r.code).toBe(7);
      expect(r.stderr).toMatch(/pre-stop 1 ok in [^,]+, SIGTERM to app at .*exit 7\n$/);
      const out = r.stdout.toString('latin1');
      const prefix = 'graceful-init: pre-stop 1: ';
      expect(out.startsWith(prefix)).toBe(true);
      expect(out.split('\n').filter(Boolean)).toHaveLength(1);
      expect(out.length).toBeLessThanOrEqual(4096);
      const m = /^graceful-init: pre-stop 1: (x*)\.\.\.\[(\d+) bytes cut\]\n$/.exec(out);
      expect(m, out.slice(-100)).not.toBeNull();
      // nothing unaccounted for: what was kept plus what the marker says was cut is all of it
      expect((m?.[1]?.length ?? 0) + Number(m?.[2])).toBe(bytes);
    } finally {
      dir.cleanup();
    }
  }, 70_000);

  it.skipIf(skip)('a pre-stop that exits leaving a process holding its output ends at its exit; the app is stopped normally, nothing stray is left', async () => {
    const dir = tempDir();
    const mark = newMark('prestop-bg');
    marks.push(mark);
    try {
      const marker = join(dir.path, 'app');
      const init = start(
        mode,
        ['--pre-stop', 'sh -c "sleep 60 & exit 0"', '--pre-stop-timeout', '2s', '--pre-stop-wait', '0', '--grace-period', '30s', '--', STOPPABLE, '7', marker],
        { env: markedEnv(mark), timeoutMs: 20_000 },
      );
      await termWhenReady(init, marker);
      const r = await init.result;
      expect(r.timedOut).toBe(false);
      expect(lines(marker)).toEqual(['ready', 'TERM']);
      expect(r.code).toBe(7);
      expect(r.stderr).toMatch(/pre-stop 1 ok in [^,]+, SIGTERM to app at /);
      expect(r.stderr).not.toMatch(/SIGKILL \(deadline\)/);
      // the init stopped what the pre-stop left (as PID 1 the kernel would anyway)
      await waitFor('no stray process', () => markedAlive(mark).length === 0, 3000);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('a pre-stop that outlives --pre-stop-timeout with a child holding its output: its whole process group is killed at the timeout', async () => {
    const dir = tempDir();
    const mark = newMark('prestop-hang');
    marks.push(mark);
    try {
      const marker = join(dir.path, 'app');
      const init = start(
        mode,
        ['--pre-stop', 'sh -c "sleep 60 & sleep 60"', '--pre-stop-timeout', '2s', '--pre-stop-wait', '0', '--grace-period', '30s', '--', STOPPABLE, '7', marker],
        { env: markedEnv(mark), timeoutMs: 20_000 },
      );
      await termWhenReady(init, marker);
      // while the app still runs: once the step is over, neither sleep may be left
      await waitFor('the app gets its TERM', () => lines(marker).includes('TERM'), 10_000);
      const r = await init.result;
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(7);
      expect(r.stderr).toMatch(/pre-stop 1 timed-out \(killed after 2000ms\) in [^,]+, SIGTERM to app at /);
      expect(r.stderr).not.toMatch(/SIGKILL \(deadline\)/);
      await waitFor('no stray process', () => markedAlive(mark).length === 0, 3000);
    } finally {
      dir.cleanup();
    }
  });

  // `nginx -s quit` without a pid file fails in 40 ms: the app will not finish by itself, so waiting
  // for it until the stop window (here 9 s) would stall a rollout for nothing
  it.skipIf(skip)('a pre-stop action that fails, cannot start or times out: the stop signal follows at once; one that succeeds: --pre-stop-wait at most', async () => {
    const dir = tempDir();
    try {
      const AT = 'SIGTERM to app at ([\\d.]+m?s)';
      // [options, the summary, when the stop signal may go: [from, to) ms after TERM]
      const cases: [string[], RegExp, [number, number]][] = [
        [['--pre-stop', 'sh -c "exit 1"'], new RegExp(`pre-stop 1 failed \\(exit 1\\) in [^,]+, ${AT}`), [0, 1500]],
        [['--pre-stop', 'no-such-command-xyz'], new RegExp(`pre-stop 1 failed \\("no-such-command-xyz" not found\\) in [^,]+, ${AT}`), [0, 1500]],
        [['--pre-stop', 'sleep 30', '--pre-stop-timeout', '300ms'], new RegExp(`pre-stop 1 timed-out \\(killed after 300ms\\) in [^,]+, ${AT}`), [300, 1800]],
        // the rest still run in order (a deregistration after a failed flush); the stop signal then follows
        [['--pre-stop', 'sh -c "exit 2"', '--pre-stop', 'true'], new RegExp(`pre-stop 1 failed \\(exit 2\\) in [^,]+, pre-stop 2 ok in [^,]+, ${AT}`), [0, 1500]],
        [['--pre-stop', 'true', '--pre-stop-wait', '1500ms'], new RegExp(`pre-stop 1 ok in [^,]+, ${AT}`), [1500, 3000]],
      ];
      for (const [i, [args, summary, [from, to]]] of cases.entries()) {
        const marker = join(dir.path, `app${i}`);
        const init = start(mode, [...args, '--kill-after', '14s', '--', STOPPABLE, '7', marker]);
        await termWhenReady(init, marker);
        const r = await init.result;
        expect(r.timedOut).toBe(false);
        expect(lines(marker)).toEqual(['ready', 'TERM']);
        const at = summary.exec(r.stderr)?.[1];
        expect(at, r.stderr).toBeDefined();
        const atMs = Number.parseFloat(at ?? '') * (at?.endsWith('ms') ? 1 : 1000);
        expect(atMs, `${args.join(' ')}: ${r.stderr}`).toSatisfy((v: number) => v >= from && v < to);
      }
    } finally {
      dir.cleanup();
    }
  }, 60_000);

  // the app ends because of the command (`nginx -s quit`) while the command itself is still on its way out
  const appWritingPid = (pidFile: string, marker: string) => ['sh', '-c', `echo $$ > ${pidFile}; exec ${STOPPABLE} 7 ${marker}`];

  it.skipIf(skip)('a pre-stop that stops the app and ends a moment after it: its result is in the summary', async () => {
    const dir = tempDir();
    try {
      const marker = join(dir.path, 'app');
      const pidFile = join(dir.path, 'pid');
      const init = start(mode, ['--pre-stop', `sh -c 'kill -TERM $(cat ${pidFile}); sleep 0.3'`, '--', ...appWritingPid(pidFile, marker)]);
      await termWhenReady(init, marker);
      const r = await init.result;
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(7);
      expect(r.stderr).toMatch(/shutdown on SIGTERM, pre-stop 1 ok in [^,]+, no stop signal needed, app exited with 7 at [^,]+, exit 7\n$/);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('a pre-stop still running long after the app exited: stopped with the leftovers after the orphan grace, what stopped it in the summary', async () => {
    const dir = tempDir();
    const mark = newMark('prestop-outlives');
    marks.push(mark);
    try {
      const marker = join(dir.path, 'app');
      const pidFile = join(dir.path, 'pid');
      const init = start(
        mode,
        ['--pre-stop', `sh -c 'kill -TERM $(cat ${pidFile}); exec sleep 60'`, '--orphan-grace', '500ms', '--', ...appWritingPid(pidFile, marker)],
        { env: markedEnv(mark), timeoutMs: 20_000 },
      );
      await termWhenReady(init, marker);
      const r = await init.result;
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(7);
      // the orphan grace (0.5s) first, not TERM the moment the app was gone
      expect(r.stderr).toMatch(/shutdown on SIGTERM, pre-stop 1 failed \(killed by SIGTERM\) in (0\.[5-9]|1\.\d)s, no stop signal needed, app exited with 7 at [^,]+, leftovers stopped by SIGTERM in [^,]+, exit 7\n$/);
      await waitFor('no stray process', () => markedAlive(mark).length === 0, 3000);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('a newline in a pre-stop command stays inside one log line', async () => {
    const dir = tempDir();
    try {
      const marker = join(dir.path, 'app');
      const init = start(mode, ['--pre-stop', 'no-such-command-xyz\nsecond', '--pre-stop-wait', '0', '--', STOPPABLE, '7', marker]);
      await termWhenReady(init, marker);
      const r = await init.result;
      expect(r.code).toBe(7);
      const logLines = r.stderr.split('\n').filter(Boolean);
      expect(logLines.every((l) => l.startsWith('graceful-init: ')), r.stderr).toBe(true);
      expect(r.stderr).toContain('"no-such-command-xyz\\nsecond" failed: "no-such-command-xyz" not found');
    } finally {
      dir.cleanup();
    }
  });
});

// Images without curl (distroless, scratch) call their app's admin endpoint with an HTTP action;
// the app here is a small python HTTP server with a shutdown endpoint, like Spring Boot's actuator
describe.each(MODES)('HTTP pre-stop actions (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();
  const APP = join(FIXTURES, 'http-app.py');

  async function stopAfter(action: (port: number) => string[]) {
    const port = await freePort();
    const init = start(mode, [...action(port), '--kill-after', '14s', '--', 'python3', APP, String(port)]);
    const pid = await init.initPid();
    await waitFor('the app to answer', async () => (await httpGet(port, '/fast', 1000)).status === 200, 10_000);
    process.kill(pid, 'SIGTERM');
    return init.result;
  }

  it.skipIf(skip)('POST to the app\'s shutdown endpoint: its answer passed on, the app finishes by itself, no stop signal needed', async () => {
    const r = await stopAfter((port) => ['--pre-stop', `POST http://127.0.0.1:${port}/shutdown`]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('graceful-init: pre-stop 1: shutting down\n');
    expect(r.stderr).toMatch(/^graceful-init: shutdown on SIGTERM, pre-stop 1 ok in [^,]+, no stop signal needed, app exited with 0 at [^,]+, exit 0\n$/);
  });

  it.skipIf(skip)('a non-2xx answer, no answer, or none in time is a failure: the stop signal follows at once', async () => {
    const closed = await freePort();
    const cases: [(port: number) => string[], RegExp][] = [
      [(port) => ['--pre-stop', `POST http://127.0.0.1:${port}/fail`], /pre-stop 1 failed \(HTTP 500\) in [^,]+, SIGTERM to app at ([\d.]+m?s)/],
      [() => ['--pre-stop', `GET http://127.0.0.1:${closed}/shutdown`], /pre-stop 1 failed \(no answer: ECONNREFUSED\) in [^,]+, SIGTERM to app at ([\d.]+m?s)/],
      [(port) => ['--pre-stop', `POST http://127.0.0.1:${port}/slow/5000`, '--pre-stop-timeout', '300ms'], /pre-stop 1 timed-out \(no answer after 300ms\) in [^,]+, SIGTERM to app at ([\d.]+m?s)/],
    ];
    for (const [action, summary] of cases) {
      const r = await stopAfter(action);
      expect(r.code).toBe(143);
      const at = summary.exec(r.stderr)?.[1];
      expect(at, r.stderr).toBeDefined();
      expect(Number.parseFloat(at ?? '') * (at?.endsWith('ms') ? 1 : 1000), r.stderr).toBeLessThan(1500);
    }
  }, 40_000);

  it.skipIf(skip)('credentials in the URL reach the app, never the log: -v text, JSON, a failure, --check', async () => {
    const secret = 'n0t-in-the-log';
    const url = (port: number, path: string) => `POST http://admin:${secret}@127.0.0.1:${port}${path}`;
    const runs = [
      await stopAfter((port) => ['-v', '--pre-stop', url(port, '/shutdown')]),
      await stopAfter((port) => ['--log-format', 'json', '-v', '--pre-stop', url(port, '/fail')]),
    ];
    expect(runs.map((r) => r.code)).toEqual([0, 143]);
    expect(runs[0]?.stdout.toString()).toBe('graceful-init: pre-stop 1: shutting down for admin\n');
    const check = await run(mode, ['--check', '--pre-stop', url(8080, '/drain'), '--', 'true']);
    for (const text of [...runs.map((r) => r.stderr), check.stdout.toString()]) {
      expect(text).toContain('admin:***@127.0.0.1');
      expect(text).not.toContain(secret);
    }
  }, 40_000);

  it.skipIf(skip)('a target that is not this pod is refused at start: one line, exit 2, the app never started', async () => {
    const dir = tempDir();
    try {
      const marker = join(dir.path, 'ran');
      for (const [action, why] of [
        ['GET http://192.0.2.1:8080/drain', /--pre-stop "GET http:\/\/192\.0\.2\.1:8080\/drain": 192\.0\.2\.1 is not an address of this pod; .*use 127\.0\.0\.1/],
        ['POST http://example.com/drain', /example\.com is a name; .*write 127\.0\.0\.1/],
        ['POST https://127.0.0.1:8443/drain', /only http:\/\/ is spoken/],
      ] as const) {
        const r = await run(mode, ['--pre-stop', action, '--', 'sh', '-c', `touch ${marker}`]);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(why);
        expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
        expect(readText(marker), 'the app never started').toBe('');
      }
    } finally {
      dir.cleanup();
    }
  });
});
