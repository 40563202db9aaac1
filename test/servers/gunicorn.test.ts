import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, httpGet, killAll, tempDir } from '../e2e/harness.js';
import { serverBinary, stopWithRequestsInFlight } from './harness.js';

afterEach(killAll);

const GUNICORN = serverBinary(['/usr/bin/gunicorn'], 'gunicorn');

// /slow: 3 s of work that a signal does not shorten
const APP = `import time
def app(environ, start_response):
    if environ['PATH_INFO'] == '/slow':
        end = time.monotonic() + 3
        while time.monotonic() < end:
            time.sleep(0.01)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'ok\\n']
`;

/**
 * Gunicorn's graceful stop is TERM already; INT (Ctrl-C, or an image's STOPSIGNAL SIGINT) is its
 * quick shutdown. Sync workers, one request each: a threaded worker's exit waits for its threads,
 * so that even the quick shutdown lets their requests finish.
 */
async function stopGunicorn(init: string[]) {
  const dir = tempDir();
  try {
    const port = await freePort();
    writeFileSync(join(dir.path, 'web.py'), APP);
    const answered = (path: string) => async () => {
      const r = await httpGet(port, path, 10_000);
      return r.status === 200 && r.body === 'ok\n';
    };
    return await stopWithRequestsInFlight({
      init, command: ['gunicorn', '--chdir', dir.path, '-b', `127.0.0.1:${port}`, '-w', '4', 'web:app'], signal: 'SIGINT', inFlight: 4,
      ready: answered('/fast'), slow: answered('/slow'),
    });
  } finally {
    dir.cleanup();
  }
}

describe.skipIf(!GUNICORN)('Gunicorn (Debian) as the app of graceful-init as PID 1, INT with 4 requests of 3 s in flight', () => {
  it('no option: gunicorn (python3 running /usr/bin/gunicorn) is recognised and gets TERM, its graceful stop: no request in flight fails', async () => {
    const o = await stopGunicorn([]);
    console.log(`gunicorn, auto: ${o.failed}/${o.inFlight} in flight failed (load before: ${o.load})`);
    expect(o.failed).toBe(0);
    expect(o.inFlight).toBe(4);
    expect(o.stderr).toMatch(/shutdown on SIGINT, SIGTERM \(Gunicorn's graceful stop\) to app at \S+, app exited with 0 at \S+, exit 0\n$/);
  });

  it('the control, --profile none: INT reaches gunicorn, its quick shutdown, and cuts them', async () => {
    const o = await stopGunicorn(['--profile', 'none']);
    console.log(`gunicorn, none: ${o.failed}/${o.inFlight} in flight failed`);
    expect(o.failed).toBeGreaterThan(0);
  });
});
