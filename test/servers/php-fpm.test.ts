import { afterEach, expect, it } from 'vitest';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAll } from '../e2e/harness.js';
import { fastcgiGet } from './fastcgi.js';
import { describeServerStop, inSite, serverBinary, stopWithRequestsInFlight } from './harness.js';

afterEach(killAll);

const PHP_FPM = serverBinary(['/usr/sbin/php-fpm8.2', '/usr/sbin/php-fpm'], 'php-fpm');

/**
 * With `process_control_timeout` 0, PHP-FPM's default (and the official image's), the master follows
 * QUIT with TERM at once: the init waits for the requests in flight before QUIT.
 */
function stopPhpFpm(init: string[], pctl = '') {
  return inSite((dir, port) => {
    chmodSync(dir, 0o755);
    const www = join(dir, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'fast.php'), '<?php echo "ok\\n";\n');
    // 3 s of work that a signal does not shorten (sleep() returns early when one arrives)
    writeFileSync(join(www, 'slow.php'), '<?php $end = microtime(true) + 3; while (microtime(true) < $end) usleep(10000); echo "ok\\n";\n');
    const config = join(dir, 'php-fpm.conf');
    writeFileSync(
      config,
      `[global]
pid = ${dir}/php-fpm.pid
error_log = ${dir}/php-fpm.log
daemonize = no
${pctl}
[web]
user = nobody
group = nogroup
listen = 127.0.0.1:${port}
pm = static
pm.max_children = 16
`,
    );
    const answered = (script: string) => async () => (await fastcgiGet(port, join(www, script)))?.endsWith('\r\n\r\nok\n') ?? false;
    return stopWithRequestsInFlight({
      init, command: [PHP_FPM as string, '--nodaemonize', '--fpm-config', config], signal: 'SIGTERM',
      ready: answered('fast.php'), slow: answered('slow.php'),
    });
  });
}

describeServerStop({
  title: 'PHP-FPM (Debian, its default configuration) as the app of graceful-init as PID 1, TERM with 12 FastCGI requests of 3 s in flight',
  binary: PHP_FPM,
  inFlight: 12,
  stop: (init) => stopPhpFpm(init),
  // QUIT after the requests in flight are answered: see the last test
  summary: /shutdown on SIGTERM, connections idle after \S+, SIGQUIT \(PHP-FPM's graceful stop\) to app at [1-4](\.\d)?s, app exited with 0 at \S+, exit 0\n$/,
  fastStop: 'TERM reaches php-fpm, its immediate termination',
  more: () => {
    it('process_control_timeout set: QUIT lets them finish by itself', async () => {
      const o = await stopPhpFpm([], 'process_control_timeout = 20s');
      console.log(`php-fpm, auto, process_control_timeout 20s: ${o.failed}/${o.inFlight} in flight failed`);
      expect(o.failed).toBe(0);
    });

    it('why the init waits: in the default configuration QUIT alone (--stop-signal QUIT) cuts them too', async () => {
      const o = await stopPhpFpm(['--stop-signal', 'QUIT']);
      console.log(`php-fpm, --stop-signal QUIT: ${o.failed}/${o.inFlight} in flight failed`);
      expect(o.failed).toBeGreaterThan(0);
    });
  },
});
