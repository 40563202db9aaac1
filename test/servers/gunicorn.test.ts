import { afterEach } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAll } from '../e2e/harness.js';
import { describeServerStop, httpAnswered, inSite, serverBinary, stopWithRequestsInFlight } from './harness.js';

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
function stopGunicorn(init: string[]) {
  return inSite((dir, port) => {
    writeFileSync(join(dir, 'web.py'), APP);
    return stopWithRequestsInFlight({
      init, command: ['gunicorn', '--chdir', dir, '-b', `127.0.0.1:${port}`, '-w', '4', 'web:app'], signal: 'SIGINT', inFlight: 4,
      ready: httpAnswered(port, '/fast', 'ok\n'), slow: httpAnswered(port, '/slow', 'ok\n'),
    });
  });
}

describeServerStop({
  title: 'Gunicorn (Debian; python3 running /usr/bin/gunicorn) as the app of graceful-init as PID 1, INT with 4 requests of 3 s in flight',
  binary: GUNICORN,
  inFlight: 4,
  stop: stopGunicorn,
  summary: /shutdown on SIGINT, SIGTERM \(Gunicorn's graceful stop\) to app at \S+, app exited with 0 at \S+, exit 0\n$/,
  fastStop: 'INT reaches gunicorn, its quick shutdown',
});
