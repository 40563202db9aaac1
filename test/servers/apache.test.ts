import { afterEach } from 'vitest';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, killAll } from '../e2e/harness.js';
import { describeServerStop, httpAnswered, inSite, serverBinary, stopWithRequestsInFlight } from './harness.js';

afterEach(killAll);

const APACHE = serverBinary(['/usr/sbin/apache2'], 'apache2');
const MODULES = '/usr/lib/apache2/modules';
// 48 KiB at 16 KiB/s (mod_ratelimit): 3 s a response
const SLOW_BYTES = 48 * 1024;

/** A site of our own in `dir`, run the Debian way: apache2ctl reads $APACHE_CONFDIR/envvars and apache2.conf. */
function site(dir: string, port: number): void {
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'www'));
  mkdirSync(join(dir, 'run'));
  writeFileSync(join(dir, 'www', 'fast.txt'), 'ok\n');
  writeFileSync(join(dir, 'www', 'slow.bin'), Buffer.alloc(SLOW_BYTES, 'x'));
  writeFileSync(join(dir, 'envvars'), `export APACHE_RUN_DIR=${dir}/run APACHE_LOCK_DIR=${dir}/run APACHE_LOG_DIR=${dir}\n`);
  writeFileSync(
    join(dir, 'apache2.conf'),
    `${['mpm_event', 'authz_core', 'ratelimit', 'env'].map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`).join('\n')}
ServerName localhost
Listen 127.0.0.1:${port}
PidFile ${dir}/run/apache2.pid
DefaultRuntimeDir ${dir}/run
ErrorLog ${dir}/error.log
User www-data
Group www-data
StartServers 1
DocumentRoot ${dir}/www
<Directory ${dir}/www>
  Require all granted
</Directory>
<Location /slow.bin>
  SetOutputFilter RATE_LIMIT
  SetEnv rate-limit 16
</Location>
`,
  );
}

describeServerStop({
  title: 'Apache httpd (Debian) through apache2ctl -DFOREGROUND, a shell script that does not exec it, TERM with 12 requests of 3 s in flight',
  binary: APACHE,
  inFlight: 12,
  stop: (init) =>
    inSite((dir, port) => {
      site(dir, port);
      return stopWithRequestsInFlight({
        init, command: ['apache2ctl', '-DFOREGROUND'], env: cleanEnv({ APACHE_CONFDIR: dir }), signal: 'SIGTERM',
        ready: httpAnswered(port, '/fast.txt', 'ok\n'), slow: httpAnswered(port, '/slow.bin', SLOW_BYTES),
      });
    }),
  // WINCH goes to apache2, the shell's child
  summary: /shutdown on SIGTERM, SIGWINCH \(Apache httpd's graceful stop\) to app at \S+, app exited with 0 at \S+, exit 0\n$/,
  fastStop: 'TERM ends the shell, and apache2, left behind, is stopped with TERM, its fast stop',
});
