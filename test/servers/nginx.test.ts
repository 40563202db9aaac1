import { afterEach, describe, expect, it } from 'vitest';
import { nginxSite } from '../fixtures/nginx-site.mjs';
import { freePort, httpGet, killAll, start, tempDir, waitFor } from '../e2e/harness.js';
import { serverBinary, stopWithRequestsInFlight } from './harness.js';

afterEach(killAll);

const NGINX = serverBinary(['/usr/sbin/nginx', '/usr/bin/nginx'], 'nginx');
// 48 KiB at 16 KiB/s: 3 s a response
const SLOW_BYTES = 48 * 1024;

async function stopNginx(init: string[]) {
  const dir = tempDir();
  try {
    const port = await freePort();
    const site = nginxSite(dir.path, { nginx: NGINX as string, slowBytes: SLOW_BYTES, rate: '16k' }).configure(port);
    const answered = (path: string, bytes: number) => async () => {
      const r = await httpGet(port, path, 10_000);
      return r.status === 200 && r.body.length === bytes;
    };
    // the site's file has `daemon off;`, as `nginx -g 'daemon off;'` gives it
    return await stopWithRequestsInFlight({
      init, command: site.argv, signal: 'SIGTERM',
      ready: answered('/fast.txt', 3), slow: answered('/slow.bin', SLOW_BYTES),
    });
  } finally {
    dir.cleanup();
  }
}

describe.skipIf(!NGINX)('nginx (Debian) as the app of graceful-init as PID 1, TERM with 12 requests of 3 s in flight', () => {
  it('no option: nginx is recognised and gets QUIT, its graceful stop: no request in flight fails', async () => {
    const o = await stopNginx([]);
    console.log(`nginx, auto: ${o.failed}/${o.inFlight} in flight failed (load before: ${o.load})`);
    expect(o.failed).toBe(0);
    expect(o.inFlight).toBe(12);
    expect(o.code).toBe(0);
    expect(o.stderr).toMatch(/shutdown on SIGTERM, SIGQUIT \(nginx's graceful stop\) to app at \S+, app exited with 0 at \S+, exit 0\n$/);
  });

  it('the control, --profile none: TERM reaches nginx, its fast shutdown, and cuts them', async () => {
    const o = await stopNginx(['--profile', 'none']);
    console.log(`nginx, none: ${o.failed}/${o.inFlight} in flight failed`);
    expect(o.failed).toBeGreaterThan(0);
  });
});

describe.skipIf(!NGINX)('nginx: QUIT, the STOPSIGNAL of its image, and the init', () => {
  /** nginx under the init as `mode`, QUIT sent once it serves: what the init printed. */
  async function quitNginx(mode: 'pid1' | 'pid1-noproc', init: string[]) {
    const dir = tempDir();
    try {
      const port = await freePort();
      const site = nginxSite(dir.path, { nginx: NGINX as string, slowBytes: 1024, rate: '16k' }).configure(port);
      const run = start(mode, [...init, '--', ...site.argv], { timeoutMs: 20_000 });
      const pid = await run.initPid();
      await waitFor('nginx', async () => (await httpGet(port, '/fast.txt', 500)).status === 200 || undefined);
      process.kill(pid, 'SIGQUIT');
      return await run.result;
    } finally {
      dir.cleanup();
    }
  }

  it('--stop-signals given without QUIT, a drain configured: QUIT is forwarded as it is, with a warning that names the fix', async () => {
    const r = await quitNginx('pid1', ['--stop-signals', 'TERM,INT', '--drain-delay', '2s']);
    expect(r.code).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('graceful-init: forwarded SIGQUIT'));
    expect(warnings).toEqual([
      "graceful-init: forwarded SIGQUIT to the app as it is (nginx's graceful shutdown): it is not a stop signal here, so no drain, pre-stop or deadline runs for it; if it is the image's STOPSIGNAL, add QUIT to --stop-signals or restate STOPSIGNAL SIGTERM",
    ]);
    expect(r.stderr).not.toMatch(/shutdown on/);
  });

  it('no /proc (the command line says nginx): QUIT starts the sequence and the stop step sends QUIT', async () => {
    const r = await quitNginx('pid1-noproc', ['--drain-delay', '1s']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/shutdown on SIGQUIT, drain 1s, SIGQUIT \(nginx's graceful stop\) to app at \S+, app exited with 0 at \S+, exit 0\n$/);
  });
});
