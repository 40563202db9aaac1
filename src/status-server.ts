import { createServer, type Server } from 'node:http';
import type { Logger } from './log.js';

export interface StatusHooks {
  isReady(): boolean;
  /** starts the shutdown sequence (as a preStop httpGet hook would) and settles when the app has exited */
  preStop(): Promise<void>;
}

/**
 * GET /healthz: 200 while the init runs. GET /readyz: 200 until shutdown starts, then 503.
 * GET /prestop: starts the shutdown sequence and answers once the app has exited.
 */
export async function startStatusServer(
  addr: { host: string; port: number },
  hooks: StatusHooks,
  log: Logger,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = (code: number, body: string) => {
      res.writeHead(code, { 'content-type': 'text/plain', connection: 'close' });
      res.end(`${body}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, 'method not allowed');
    if (path === '/healthz') return answer(200, 'ok');
    if (path === '/readyz') return hooks.isReady() ? answer(200, 'ready') : answer(503, 'shutting down');
    if (path === '/prestop') {
      hooks.preStop().then(
        () => answer(200, 'app exited'),
        () => answer(500, 'shutdown failed'),
      );
      return;
    }
    answer(404, 'not found: try /healthz, /readyz or /prestop');
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  log.debug('status endpoint listening', { addr: `${addr.host}:${addr.port}` });
  return server;
}
