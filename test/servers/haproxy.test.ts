import { afterEach } from 'vitest';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAll } from '../e2e/harness.js';
import { describeServerStop, httpAnswered, inSite, serverBinary, stopWithRequestsInFlight } from './harness.js';

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

/** HAProxy in front of the backend, under the init with these options. */
async function stopHaproxy(init: string[]) {
  const { port: backendPort, server } = await backend();
  try {
    return await inSite((dir, port) => {
      const config = join(dir, 'haproxy.cfg');
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
      // master-worker in the foreground, as the official image's entrypoint runs it
      return stopWithRequestsInFlight({
        init, command: ['haproxy', '-W', '-db', '-f', config], signal: 'SIGTERM',
        ready: httpAnswered(port, '/fast', 'ok\n'), slow: httpAnswered(port, '/slow', 'ok\n'),
      });
    });
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

describeServerStop({
  title: 'HAProxy (Debian, master-worker) as the app of graceful-init as PID 1, TERM with 12 requests of 3 s in flight',
  binary: HAPROXY,
  inFlight: 12,
  stop: stopHaproxy,
  summary: /shutdown on SIGTERM, SIGUSR1 \(HAProxy's graceful stop\) to app at \S+, app exited with 0 at \S+, exit 0\n$/,
  fastStop: 'TERM reaches haproxy, its hard stop',
});
