import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, httpGet, killAll, tempDir } from '../e2e/harness.js';
import { serverBinary, stopWithRequestsInFlight } from './harness.js';

afterEach(killAll);

const HAPROXY = serverBinary(['/usr/sbin/haproxy'], 'haproxy');

/** The backend HAProxy proxies to: /slow answers after 3 s, anything else at once. */
async function backend(): Promise<{ port: number; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('ok\n'), 3000);
    else res.end('ok\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, server };
}

async function stopHaproxy(init: string[]) {
  const dir = tempDir();
  const { port: backendPort, server } = await backend();
  try {
    const port = await freePort();
    const config = join(dir.path, 'haproxy.cfg');
    writeFileSync(
      config,
      `global
  maxconn 256
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend web
  bind 127.0.0.1:${port}
  default_backend app
backend app
  server app 127.0.0.1:${backendPort}
`,
    );
    const answered = (path: string) => async () => {
      const r = await httpGet(port, path, 10_000);
      return r.status === 200 && r.body === 'ok\n';
    };
    // master-worker in the foreground, as the official image's entrypoint runs it
    return await stopWithRequestsInFlight({
      init, command: ['haproxy', '-W', '-db', '-f', config], signal: 'SIGTERM',
      ready: answered('/fast'), slow: answered('/slow'),
    });
  } finally {
    server.closeAllConnections();
    server.close();
    dir.cleanup();
  }
}

describe.skipIf(!HAPROXY)('HAProxy (Debian, master-worker) as the app of graceful-init as PID 1, TERM with 12 requests of 3 s in flight', () => {
  it('no option: haproxy is recognised and gets USR1 (soft stop): no request in flight fails', async () => {
    const o = await stopHaproxy([]);
    console.log(`haproxy, auto: ${o.failed}/${o.inFlight} in flight failed (load before: ${o.load})`);
    expect(o.failed).toBe(0);
    expect(o.inFlight).toBe(12);
    expect(o.stderr).toMatch(/shutdown on SIGTERM, SIGUSR1 \(HAProxy's graceful stop\) to app at \S+, app exited with 0 at \S+, exit 0\n$/);
  });

  it('the control, --profile none: TERM reaches haproxy, its hard stop, and cuts them', async () => {
    const o = await stopHaproxy(['--profile', 'none']);
    console.log(`haproxy, none: ${o.failed}/${o.inFlight} in flight failed`);
    expect(o.failed).toBeGreaterThan(0);
  });
});
