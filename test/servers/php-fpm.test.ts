import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, killAll, tempDir } from '../e2e/harness.js';
import { fastcgiGet } from './fastcgi.js';
import { serverBinary, stopWithRequestsInFlight } from './harness.js';

afterEach(killAll);

const PHP_FPM = serverBinary(['/usr/sbin/php-fpm8.2', '/usr/sbin/php-fpm'], 'php-fpm');

async function stopPhpFpm(init: string[]) {
  const dir = tempDir();
  try {
    const port = await freePort();
    chmodSync(dir.path, 0o755);
    const www = join(dir.path, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'fast.php'), '<?php echo "ok\\n";\n');
    // 3 s of work that a signal does not shorten (sleep() returns early when one arrives)
    writeFileSync(join(www, 'slow.php'), '<?php $end = microtime(true) + 3; while (microtime(true) < $end) usleep(10000); echo "ok\\n";\n');
    const config = join(dir.path, 'php-fpm.conf');
    writeFileSync(
      config,
      `[global]
pid = ${dir.path}/php-fpm.pid
error_log = ${dir.path}/php-fpm.log
daemonize = no
; 0 (the default) makes the master follow QUIT with TERM at once: no stop is graceful then
process_control_timeout = 20s
[web]
user = nobody
group = nogroup
listen = 127.0.0.1:${port}
pm = static
pm.max_children = 16

`,
    );
    const answered = (script: string) => async () => (await fastcgiGet(port, join(www, script)))?.endsWith('\r\n\r\nok\n') ?? false;
    return await stopWithRequestsInFlight({
      init, command: [PHP_FPM as string, '--nodaemonize', '--fpm-config', config], signal: 'SIGTERM',
      ready: answered('fast.php'), slow: answered('slow.php'),
    });
  } finally {
    dir.cleanup();
  }
}

describe.skipIf(!PHP_FPM)('PHP-FPM (Debian) as the app of graceful-init as PID 1, TERM with 12 FastCGI requests of 3 s in flight', () => {
  it('no option: php-fpm is recognised and gets QUIT, its graceful stop: no request in flight fails', async () => {
    const o = await stopPhpFpm([]);
    console.log(`php-fpm, auto: ${o.failed}/${o.inFlight} in flight failed (load before: ${o.load})`);
    expect(o.failed).toBe(0);
    expect(o.inFlight).toBe(12);
    expect(o.stderr).toMatch(/shutdown on SIGTERM, SIGQUIT \(PHP-FPM's graceful stop\) to app at \S+, app exited with 0 at \S+, exit 0\n$/);
  });

  it('the control, --profile none: TERM reaches php-fpm, its immediate termination, and cuts them', async () => {
    const o = await stopPhpFpm(['--profile', 'none']);
    console.log(`php-fpm, none: ${o.failed}/${o.inFlight} in flight failed`);
    expect(o.failed).toBeGreaterThan(0);
  });
});
