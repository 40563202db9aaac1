import { afterEach, describe, expect, it } from 'vitest';
import { nginxSite } from '../fixtures/nginx-site.mjs';
import { httpGet, killAll, start, waitFor } from '../e2e/harness.js';
import { describeServerStop, httpAnswered, inSite, serverBinary, stopWithRequestsInFlight } from './harness.js';

afterEach(killAll);

const NGINX = serverBinary(['/usr/sbin/nginx', '/usr/bin/nginx'], 'nginx');
// 48 KiB at 16 KiB/s: 3 s a response
const SLOW_BYTES = 48 * 1024;

describeServerStop({
  title: 'nginx (Debian) as the app of graceful-init as PID 1, TERM with 12 requests of 3 s in flight',
  binary: NGINX,
  inFlight: 12,
  stop: (init) =>
    inSite((dir, port) => {
      // the site's file has `daemon off;`, as `nginx -g 'daemon off;'` gives it
      const site = nginxSite(dir, { nginx: NGINX as string, slowBytes: SLOW_BYTES, rate: '16k' }).configure(port);
      return stopWithRequestsInFlight({
        init, command: site.argv, signal: 'SIGTERM', ready: httpAnswered(port, '/fast.txt', 'ok\n'), slow: httpAnswered(port, '/slow.bin', SLOW_BYTES),
      });
    }),
  summary: /shutdown on SIGTERM, SIGQUIT \(nginx's graceful stop\) to app at \S+, app exited with 0 at \S+, exit 0\n$/,
  fastStop: 'TERM reaches nginx, its fast shutdown',
  more: () => {
    /** nginx under the init as `mode`, QUIT sent once it serves: what the init printed. */
    const quitNginx = (mode: 'pid1' | 'pid1-noproc', init: string[]) =>
      inSite(async (dir, port) => {
        const site = nginxSite(dir, { nginx: NGINX as string, slowBytes: 1024, rate: '16k' }).configure(port);
        const run = start(mode, [...init, '--', ...site.argv], { timeoutMs: 20_000 });
        const pid = await run.initPid();
        await waitFor('nginx', async () => (await httpGet(port, '/fast.txt', 500)).status === 200 || undefined);
        process.kill(pid, 'SIGQUIT');
        return run.result;
      });

    describe('QUIT, the STOPSIGNAL of the nginx image', () => {
      it('--stop-signals given without QUIT, a drain configured: QUIT is forwarded as it is, with a warning that names the fix', async () => {
        const r = await quitNginx('pid1', ['--stop-signals', 'TERM,INT', '--drain-delay', '2s']);
        expect(r.code).toBe(0);
        expect(r.stderr.split('\n').filter((l) => l.startsWith('graceful-init: forwarded SIGQUIT'))).toEqual([
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
  },
});
