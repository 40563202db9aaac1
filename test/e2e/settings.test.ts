// Settings as Kubernetes and Docker users write them: Go durations, Go's `:PORT`, options that do
// nothing in the combination given, --check's exit status, --help on an 80-column terminal.
import { afterEach, describe, expect, it } from 'vitest';
import { get } from 'node:http';
import { MODES, cleanEnv, freePort, killAll, pid1Available, run, start, waitFor } from './harness.js';

afterEach(killAll);

/** GET http://host:port/path → the status, or the error code (ECONNREFUSED). */
function getFrom(host: string, port: number, path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = get({ host, port, path, timeout: 2000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe.each(MODES)('--status-addr as Go reads it (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  // 127.0.0.2 stands for another host: only a socket bound to every interface answers there
  it.skipIf(skip)(':PORT listens on every interface, a bare PORT on 127.0.0.1 only', async () => {
    const everywhere = await freePort();
    const all = start(mode, ['--status-addr', `:${everywhere}`, '--', 'sleep', '30']);
    await waitFor('the status endpoint', async () => (await getFrom('127.0.0.1', everywhere, '/healthz')) === 200);
    expect(await getFrom('127.0.0.2', everywhere, '/healthz')).toBe(200);
    process.kill(await all.initPid(), 'SIGTERM');
    expect((await all.result).stderr).toMatch(/^graceful-init: shutdown on SIGTERM/);

    const local = await freePort();
    const loopback = start(mode, ['--status-addr', String(local), '--', 'sleep', '30']);
    await waitFor('the status endpoint', async () => (await getFrom('127.0.0.1', local, '/healthz')) === 200);
    expect(await getFrom('127.0.0.2', local, '/healthz')).toBe('ECONNREFUSED');
    process.kill(await loopback.initPid(), 'SIGTERM');
    await loopback.result;
  });
});

describe('durations as Go and Kubernetes write them', () => {
  it('--check reads 1m30s, 2.5s and 500ms', async () => {
    const r = await run('child', ['--check', '--grace-period', '1m30s', '--drain-delay', '2.5s', '--kill-margin', '500ms']);
    expect(r.stdout.toString()).toMatch(/^t=0s +drain for 2\.5s/m);
    expect(r.stdout.toString()).toMatch(/^t=89\.5s +deadline: SIGKILL/m);
    expect(r.stdout.toString()).toMatch(/^t=90s +the kubelet's SIGKILL/m);
    expect(r.code).toBe(0);
  });

  it('a compound --kill-after (1s500ms) is the deadline the app meets', async () => {
    const r = await run('child', ['--kill-after', '1s500ms', '--', 'sh', '-c', 'trap "" TERM; kill -TERM $PPID; sleep 5 & wait'], { timeoutMs: 10_000 });
    expect(r.stderr).toMatch(/SIGKILL \(deadline\) at 1\.5s/);
  });
});

describe('options that do nothing in the combination given', () => {
  const idle = ['--ready-check', 'listening', '--drain-min', '1s', '--kill-after', '10s', '--kill-margin', '1s', '--pre-stop-wait', '2s'];
  const expected = [
    '--pre-stop-wait does nothing without --pre-stop CMD',
    '--kill-margin does nothing with --kill-after, which sets the kill deadline itself',
    '--drain-min does nothing without --drain-quiet DUR (a fixed drain lasts --drain-delay)',
    '--ready-check does nothing without --status-addr HOST:PORT, which serves /readyz',
  ];

  it('are named at start, one warning each, and the app runs; -q hides them', async () => {
    const r = await run('child', [...idle, '--', 'sh', '-c', 'echo app ran']);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('app ran\n');
    expect(r.stderr).toBe(expected.map((w) => `graceful-init: ${w}\n`).join(''));
    const ports = await run('child', ['--', 'true'], { env: cleanEnv({ GRACEFUL_INIT_PORTS: '8080' }) });
    expect(ports.stderr).toBe('graceful-init: --ports does nothing without --drain-quiet, --wait-idle, --ready-check listening or --status-addr\n');
    expect((await run('child', ['-q', ...idle, '--', 'true'])).stderr).toBe('');
  });

  it('are named by --check, which then exits 1; with nothing to say it exits 0', async () => {
    const warned = await run('child', ['--check', ...idle]);
    expect(warned.code).toBe(1);
    const text = warned.stdout.toString();
    for (const w of expected) expect(text).toContain(`warning: ${w}\n`);
    const clean = await run('child', ['--check', '--pre-stop', 'nginx -s quit', '--pre-stop-wait', '2s']);
    expect(clean.stdout.toString()).not.toMatch(/warning/);
    expect(clean.code).toBe(0);
    const timing = await run('child', ['--check', '--kill-margin', '40s']);
    expect(timing.stdout.toString()).toMatch(/^warning: --kill-margin 40s is not shorter than --grace-period 30s/m);
    expect(timing.code).toBe(1);
  });
});

describe('--help', () => {
  it('fits 80 columns, says --check exits 1 on a warning and lists /metrics', async () => {
    const r = await run('child', ['--help']);
    expect(r.code).toBe(0);
    const help = r.stdout.toString();
    expect(help.split('\n').filter((l) => l.length > 80)).toEqual([]);
    const flat = help.replace(/\s+/g, ' ');
    expect(flat).toMatch(/--check exits 1 when it prints a warning/);
    expect(flat).toMatch(/serve \/healthz, \/readyz, \/metrics /);
    expect(flat).toMatch(/TINI_VERBOSITY/);
    expect(flat).toMatch(/DUMB_INIT_SETSID/);
  });
});
