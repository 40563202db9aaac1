import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, freePort, httpGet, killAll, tempDir } from '../e2e/harness.js';
import { serverBinary, stopWithRequestsInFlight } from './harness.js';

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

async function stopApache(init: string[]) {
  const dir = tempDir();
  try {
    const port = await freePort();
    site(dir.path, port);
    const answered = (path: string, bytes: number) => async () => {
      const r = await httpGet(port, path, 10_000);
      return r.status === 200 && r.body.length === bytes;
    };
    return await stopWithRequestsInFlight({
      init, command: ['apache2ctl', '-DFOREGROUND'], env: cleanEnv({ APACHE_CONFDIR: dir.path }), signal: 'SIGTERM',
      ready: answered('/fast.txt', 3), slow: answered('/slow.bin', SLOW_BYTES),
    });
  } finally {
    dir.cleanup();
  }
}

describe.skipIf(!APACHE)('Apache httpd (Debian) through apache2ctl -DFOREGROUND, a shell script that does not exec it, TERM with 12 requests of 3 s in flight', () => {
  it('no option: apache2, the shell\'s child, is recognised and gets WINCH (graceful-stop): no request in flight fails', async () => {
    const o = await stopApache([]);
    console.log(`apache, auto: ${o.failed}/${o.inFlight} in flight failed (load before: ${o.load})`);
    expect(o.failed).toBe(0);
    expect(o.inFlight).toBe(12);
    expect(o.code).toBe(0);
    expect(o.stderr).toMatch(/shutdown on SIGTERM, SIGWINCH \(Apache httpd's graceful stop\) to app at \S+, app exited with 0 at \S+, exit 0\n$/);
  });

  it('the control, --profile none: TERM ends the shell, apache2 is stopped with it (TERM, its fast stop) and cuts them', async () => {
    const o = await stopApache(['--profile', 'none']);
    console.log(`apache, none: ${o.failed}/${o.inFlight} in flight failed`);
    expect(o.failed).toBeGreaterThan(0);
  });
});
