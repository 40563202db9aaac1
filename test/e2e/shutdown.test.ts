import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { globSync, writeFileSync } from 'node:fs';
import { ask, tokenFile, withToken } from '../fault/status-client.js';
import {
  MODES, cleanEnv, freePort, httpGet, isAlive, killAll, pid1Available, readText, run, sleep, start, tempDir, waitFor, lines, SIGNAL_LOGGER,
} from './harness.js';

afterEach(killAll);

/** an app that ignores TERM (and so does its sleep, which inherits the ignored disposition) */
const STUBBORN = ['sh', '-c', 'trap "" TERM; echo $$ > "$0"; while :; do sleep 0.1; done'];

/** "0.2s" / "150ms" from a summary line → milliseconds */
const ms = (text: string | undefined): number => {
  const m = /^([\d.]+)(ms|s)$/.exec(text ?? '');
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
};

/** libfaketime, to move the wall clock under the init (Debian's libfaketime; .ci/run installs it) */
const FAKETIME = globSync('/usr/lib/*/faketime/libfaketimeMT.so.1')[0];
if (!FAKETIME && process.env.CI === 'true') throw new Error('CI=true but libfaketime is missing (.ci/run installs it)');

describe.each(MODES)('shutdown sequence (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('kills an app that ignores TERM at --kill-after, and logs it', async () => {
    const dir = tempDir();
    try {
      const pidFile = join(dir.path, 'pid');
      const init = start(mode, ['--kill-after', '1s', '--', ...STUBBORN, pidFile]);
      const pid = await init.initPid();
      await waitFor('app', () => lines(pidFile).length > 0);
      const t0 = Date.now();
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      const took = Date.now() - t0;
      expect(r.code).toBe(137);
      expect(took).toBeGreaterThanOrEqual(950);
      expect(r.stderr).toMatch(/SIGKILL \(deadline\) at 1s, app killed by SIGKILL at .*exit 137\n$/);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('the deadline is grace period minus margin when only --grace-period is given', async () => {
    const dir = tempDir();
    try {
      const pidFile = join(dir.path, 'pid');
      const init = start(mode, ['--grace-period', '3s', '--kill-margin', '1500ms', '--', ...STUBBORN, pidFile]);
      const pid = await init.initPid();
      await waitFor('app', () => lines(pidFile).length > 0);
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      expect(r.stderr).toMatch(/SIGKILL \(deadline\) at 1\.[56]s/);
    } finally {
      dir.cleanup();
    }
  });

  // the summary rounds to the tenth of a second: 150 ms shows as 0.2s, 149.9 ms as 0.1s, so a step
  // that ends even a fraction of a millisecond early shows (libuv's timers count whole ms from the
  // loop's cached time, and fire up to 1 ms early in about half of such runs)
  it.skipIf(skip)('no step ends before its time (four shutdowns)', async () => {
    const dir = tempDir();
    try {
      for (let i = 0; i < 4; i++) {
        const pidFile = join(dir.path, `pid${i}`);
        const args = ['--drain-delay', '150ms', '--pre-stop', 'sleep 5', '--pre-stop-timeout', '150ms', '--stop-timeout', '500ms', '--kill-after', '1050ms'];
        const init = start(mode, [...args, '--', ...STUBBORN, pidFile]);
        const pid = await init.initPid();
        await waitFor('app', () => lines(pidFile).length > 0);
        process.kill(pid, 'SIGTERM');
        const r = await init.result;
        const m = /shutdown on SIGTERM, drain ([\d.]+m?s), pre-stop 1 timed-out \(killed after 150ms\) in ([\d.]+m?s), SIGTERM to app at ([\d.]+m?s), SIGKILL \(deadline\) at ([\d.]+m?s),/.exec(r.stderr);
        expect(m, r.stderr).not.toBeNull();
        const [drain, preStop, stop, kill] = [m?.[1], m?.[2], m?.[3], m?.[4]].map(ms);
        expect({ drain, preStop, stop, kill }).toEqual({
          drain: expect.toSatisfy((v: number) => v >= 150),
          preStop: expect.toSatisfy((v: number) => v >= 150),
          stop: expect.toSatisfy((v: number) => v >= 300),
          kill: expect.toSatisfy((v: number) => v >= 1050),
        });
      }
    } finally {
      dir.cleanup();
    }
  }, 30_000);

  it.skipIf(skip || !FAKETIME)('a wall-clock jump during the drain moves no step: every one is timed on the monotonic clock', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'signals');
      const stamp = join(dir.path, 'faketime');
      writeFileSync(stamp, '+0\n');
      const env = cleanEnv({ LD_PRELOAD: FAKETIME, FAKETIME_TIMESTAMP_FILE: stamp, FAKETIME_NO_CACHE: '1', DONT_FAKE_MONOTONIC: '1' });
      const init = start(mode, ['--drain-delay', '1s', '--pre-stop', 'true', '--pre-stop-wait', '500ms', '--kill-after', '6s', '--stop-timeout', '1s', '--', SIGNAL_LOGGER, log], { env });
      const pid = await init.initPid();
      await waitFor('ready', () => lines(log).includes('ready'));
      process.kill(pid, 'SIGTERM');
      await sleep(400);
      writeFileSync(stamp, '+1h\n'); // an NTP step, a VM resumed: the wall clock leaps an hour
      const r = await init.result;
      expect(lines(log)).toEqual(['ready', 'TERM']);
      expect(r.stderr).toMatch(/^graceful-init: shutdown on SIGTERM, drain 1(\.[0-4])?s, pre-stop 1 ok in [^,]+, SIGTERM to app at (1\.[5-9]|2\.\d)s, app exited with 0 at [^,]+, exit 0\n$/);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('drains first: the app keeps running and gets the stop signal after --drain-delay', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'signals');
      const init = start(mode, ['--drain-delay', '800ms', '--', SIGNAL_LOGGER, log]);
      const pid = await init.initPid();
      await waitFor('ready', () => lines(log).includes('ready'));
      process.kill(pid, 'SIGTERM');
      await sleep(500);
      expect(lines(log), 'no TERM yet, during the drain').toEqual(['ready']);
      const r = await init.result;
      expect(lines(log)).toEqual(['ready', 'TERM']);
      expect(r.stderr).toMatch(/^graceful-init: shutdown on SIGTERM, drain 0\.[89]s, SIGTERM to app at 0\.[89]s, app exited with 0/);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('a second stop signal skips the drain; later ones are forwarded, never escalated to SIGKILL', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'signals');
      const init = start(mode, ['--drain-delay', '20s', '--', SIGNAL_LOGGER, log]);
      const pid = await init.initPid();
      await waitFor('ready', () => lines(log).includes('ready'));
      process.kill(pid, 'SIGTERM');
      await sleep(200);
      process.kill(pid, 'SIGINT');
      const r = await init.result;
      expect(lines(log)).toEqual(['ready', 'TERM']);
      expect(r.code).toBe(0);

      // TERM, INT, QUIT, TERM to an app that traps them all: each reaches it, the app lives on
      const many = join(dir.path, 'many');
      const trapping = start(mode, ['--', SIGNAL_LOGGER, many, 'USR2']);
      const tpid = await trapping.initPid();
      await waitFor('ready', () => lines(many).includes('ready'));
      for (const [i, sig] of (['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGTERM'] as const).entries()) {
        process.kill(tpid, sig);
        await waitFor(`${sig} to arrive`, () => lines(many).length === i + 2);
      }
      expect(lines(many)).toEqual(['ready', 'TERM', 'INT', 'QUIT', 'TERM']);
      await sleep(300);
      process.kill(tpid, 'SIGUSR2');
      const t = await trapping.result;
      expect(t.code).toBe(0);
      expect(t.stderr).not.toMatch(/SIGKILL/);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('pre-stop commands run in order, without a shell, with prefixed output; failures do not stop the sequence', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'signals');
      const init = start(mode, [
        '--pre-stop', `sh -c 'echo "first  ok"; echo oops >&2'`,
        '--pre-stop', 'sh -c "exit 3"',
        '--pre-stop', 'no-such-command-xyz --flag',
        '--pre-stop', 'sleep 30',
        '--pre-stop-timeout', '500ms',
        '--pre-stop-wait', '0',
        '--', SIGNAL_LOGGER, log,
      ]);
      const pid = await init.initPid();
      await waitFor('ready', () => lines(log).includes('ready'));
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      expect(r.code).toBe(0);
      expect(lines(log)).toEqual(['ready', 'TERM']);
      expect(r.stdout.toString()).toBe('graceful-init: pre-stop 1: first  ok\n');
      expect(r.stderr).toContain('graceful-init: pre-stop 1: oops\n');
      expect(r.stderr).toMatch(/pre-stop 2: "sh -c "exit 3"" failed: exit 3; going on/);
      expect(r.stderr).toMatch(/pre-stop 3: "no-such-command-xyz --flag" failed: "no-such-command-xyz" not found; going on/);
      expect(r.stderr).toMatch(/pre-stop 4: "sleep 30" did not finish within 500ms and was killed/);
      expect(r.stderr).toMatch(/shutdown on SIGTERM, pre-stop 1 ok in .*, pre-stop 2 failed \(exit 3\).*pre-stop 4 timed-out/);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('waits --pre-stop-wait for an app that a pre-stop command asked to stop, and sends no signal then', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'signals');
      // the pre-stop asks the app to stop with USR2, the way `nginx -s quit` sends QUIT
      const init = start(mode, ['--pre-stop', `sh -c 'kill -USR2 $(cat ${log}.pid)'`, '--', 'sh', '-c', `echo $$ > ${log}.pid; exec ${SIGNAL_LOGGER} ${log} USR2`]);
      const pid = await init.initPid();
      await waitFor('ready', () => lines(log).includes('ready'));
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      expect(lines(log)).toEqual(['ready', 'USR2']);
      expect(r.stderr).not.toMatch(/to app at/);
      expect(r.code).toBe(0);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('stops what the app left behind: TERM, then KILL after --orphan-grace', async () => {
    const dir = tempDir();
    try {
      const pids = join(dir.path, 'pids');
      const r = await run(mode, ['-v', '--orphan-grace', '700ms', '--', 'sh', '-c', `sleep 60 & echo $! >> ${pids}; sh -c 'trap "" TERM; sleep 60' & echo $! >> ${pids}; sleep 0.2; exit 5`]);
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/sent SIGTERM to the processes the app left\n.*sent SIGKILL to the processes the app left\n/s);
      const left = lines(pids).map(Number);
      expect(left).toHaveLength(2);
      // inside a PID namespace these pids mean nothing out here, and the kernel ends the namespace anyway
      if (mode === 'child') for (const p of left) expect(isAlive(p), `pid ${p} left running`).toBe(false);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('--stop-signal and --rewrite choose what the app gets', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'signals');
      const init = start(mode, ['--stop-signal', 'QUIT', '--rewrite', 'HUP:USR1', '--', SIGNAL_LOGGER, log, 'QUIT']);
      const pid = await init.initPid();
      await waitFor('ready', () => lines(log).includes('ready'));
      process.kill(pid, 'SIGHUP');
      await waitFor('USR1', () => lines(log).includes('USR1'));
      process.kill(pid, 'SIGTERM');
      await init.result;
      expect(lines(log)).toEqual(['ready', 'USR1', 'QUIT']);
    } finally {
      dir.cleanup();
    }
  });
});

describe('kubelet-like harness', () => {
  it.skipIf(!pid1Available())('exec preStop, TERM, KILL at the grace period: the init has exited, with its summary, before the KILL', async () => {
    const dir = tempDir();
    try {
      const pidFile = join(dir.path, 'pid');
      const graceMs = 4000;
      // the manifest's grace period is given to the init, as the docs recommend
      const init = start('pid1', ['--grace-period', `${graceMs}ms`, '--drain-delay', '500ms', '--', ...STUBBORN, pidFile]);
      const pid = await init.initPid();
      await waitFor('app', () => lines(pidFile).length > 0);
      const podStop = Date.now();
      let killedByKubelet = false;
      const kubeletKill = setTimeout(() => {
        killedByKubelet = true;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, graceMs);
      // the exec preStop hook: it takes 1s of the grace period
      await sleep(1000);
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      clearTimeout(kubeletKill);
      expect(killedByKubelet).toBe(false);
      expect(Date.now() - podStop).toBeLessThan(graceMs);
      expect(r.code).toBe(137);
      expect(r.stderr).toMatch(/^graceful-init: shutdown on SIGTERM, drain 0\.5s, SIGTERM to app at 0\.5s, SIGKILL \(deadline\) at 2s, .*exit 137\n$/);
    } finally {
      dir.cleanup();
    }
  });
});

describe('status endpoint', () => {
  // KEP-1669/1672: a terminating pod's endpoint stays with serving = its readiness, and gets the
  // traffic while no ready endpoint is left (one replica): 503 during the drain would black-hole it
  it.each(MODES)('/readyz 200 through the drain, 503 from the first pre-stop action; with --unready-at-signal from the first stop signal (%s)', async (mode) => {
    if (mode === 'pid1' && !pid1Available()) return;
    const dir = tempDir();
    try {
      for (const unreadyAtSignal of [false, true]) {
        const port = await freePort();
        const log = join(dir.path, `signals-${unreadyAtSignal}`);
        const args = ['--status-addr', String(port), '--drain-delay', '1s', '--pre-stop', 'sleep 1', '--pre-stop-wait', '0'];
        const init = start(mode, [...args, ...(unreadyAtSignal ? ['--unready-at-signal'] : []), '--', SIGNAL_LOGGER, log]);
        const pid = await init.initPid();
        await waitFor('ready', () => lines(log).includes('ready'));
        await waitFor('endpoint', async () => (await httpGet(port, '/readyz')).status === 200 || undefined);
        process.kill(pid, 'SIGTERM');
        await sleep(300);
        expect((await httpGet(port, '/readyz')).status, 'during the drain').toBe(unreadyAtSignal ? 503 : 200);
        expect((await httpGet(port, '/metrics')).body).toMatch(unreadyAtSignal ? /^graceful_init_ready 0$/m : /^graceful_init_ready 1$/m);
        await sleep(1000);
        expect((await httpGet(port, '/readyz')).status, 'during the pre-stop action').toBe(503);
        expect((await httpGet(port, '/healthz')).status).toBe(200);
        expect(lines(log)).toEqual(['ready']);
        expect((await init.result).code).toBe(0);
        expect(lines(log)).toEqual(['ready', 'TERM']);
      }
    } finally {
      dir.cleanup();
    }
  });

  it('GET /prestop runs the sequence and answers once the app has exited', async () => {
    const dir = tempDir();
    try {
      const port = await freePort();
      const log = join(dir.path, 'signals');
      const init = start('child', ['--status-addr', `127.0.0.1:${port}`, '--prestop-token-file', tokenFile(dir.path), '--drain-delay', '300ms', '--', SIGNAL_LOGGER, log]);
      await waitFor('ready', () => lines(log).includes('ready'));
      await waitFor('endpoint', async () => (await httpGet(port, '/healthz')).status === 200 || undefined);
      const answer = await ask(port, '/prestop', { headers: withToken(), timeoutMs: 20_000 });
      expect(answer.status).toBe(200);
      expect(lines(log)).toEqual(['ready', 'TERM']);
      const r = await init.result;
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/shutdown on GET \/prestop, drain 0\.3s, SIGTERM to app/);
    } finally {
      dir.cleanup();
    }
  });

  it('a port that is taken is refused before the app starts: one line, exit 2', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const dir = tempDir();
    try {
      const marker = join(dir.path, 'ran');
      const r = await run('child', ['--status-addr', String(port), '--', 'sh', '-c', `touch ${marker}; exit 4`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^graceful-init: --status-addr 127\\.0\\.0\\.1:${port}: cannot listen \\(EADDRINUSE\\); .*\\n$`));
      expect(readText(marker), 'the app never started').toBe('');
      const host = await run('child', ['--status-addr', 'no-such-host.invalid:8081', '--', 'sh', '-c', `touch ${marker}`]);
      expect(host.code).toBe(2);
      expect(host.stderr).toMatch(/cannot listen \(ENOTFOUND|EAI_AGAIN/);
      expect(readText(marker)).toBe('');
    } finally {
      blocker.close();
      dir.cleanup();
    }
  });
});

describe('--check', () => {
  it('prints the timeline and warns when the steps cannot fit', async () => {
    const ok = await run('child', ['--check', '--drain-delay', '2s', '--pre-stop', 'nginx -s quit', '--pre-stop-timeout', '5s']);
    expect(ok.code).toBe(0);
    const text = ok.stdout.toString();
    expect(text).toMatch(/t=0s +a stop signal arrives \(TERM, INT\)\n/);
    expect(text).toMatch(/t=2s +the drain ends: \/readyz turns 503\n/);
    // the recipes' images drain adaptively; off in the environment makes it a fixed drain again
    const adaptive = { GRACEFUL_INIT_DRAIN_QUIET: '1s', GRACEFUL_INIT_DRAIN_MIN: '2s', GRACEFUL_INIT_DRAIN_DELAY: '15s' };
    expect((await run('child', ['--check'], { env: cleanEnv(adaptive) })).stdout.toString()).toMatch(/drain until no new request for 1s \(at least 2s, at most 15s\)/);
    const fixed = await run('child', ['--check', '--drain-quiet', 'off'], { env: cleanEnv({ ...adaptive, GRACEFUL_INIT_DRAIN_MIN: '0' }) });
    expect(fixed.stdout.toString()).toMatch(/t=0s +drain for 15s: the app keeps serving/);
    expect(text).toMatch(/t=2s +pre-stop 1: nginx -s quit \(at most 5s\)/);
    expect(text).toMatch(/t=28s +deadline: SIGKILL/);
    expect(text).not.toMatch(/warning/);
    const bad = await run('child', ['--check', '--drain-delay', '25s', '--pre-stop', 'x', '--pre-stop-timeout', '5s'], {
      env: cleanEnv({ GRACEFUL_INIT_GRACE_PERIOD: '30' }),
    });
    expect(bad.stdout.toString()).toMatch(/warning: --stop-timeout 5s leaves the pre-stop commands no time between the drain \(25s\) and the kill deadline \(28s\)/);
  });
});

describe('--log-format json', () => {
  it('writes one JSON object a line, the summary included', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'signals');
      const init = start('child', ['--log-format', 'json', '-v', '--', SIGNAL_LOGGER, log]);
      const pid = await init.initPid();
      await waitFor('ready', () => lines(log).includes('ready'));
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      const entries = r.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; time: string });
      expect(entries.length).toBeGreaterThan(3);
      for (const e of entries) expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(entries.at(-1)).toMatchObject({ level: 'info', msg: expect.stringMatching(/^shutdown on SIGTERM, SIGTERM to app/) });
      expect(entries.some((e) => e.level === 'debug' && /^spawned /.test(e.msg))).toBe(true);
    } finally {
      dir.cleanup();
    }
  });
});
