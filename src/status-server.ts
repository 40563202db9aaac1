import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { formatStatusAddr } from './cli/options.js';
import type { Logger } from './log.js';

export interface StatusHooks {
  /** /healthz: the app process is running */
  isAlive(): boolean;
  /** /readyz: no shutdown has started and the --ready-check passes */
  isReady(): boolean;
  /** /metrics: the Prometheus text */
  metrics(): string;
  /** starts the shutdown sequence (as a preStop httpGet hook would) and settles when the app has exited */
  preStop(): Promise<void>;
}

/**
 * What one client, or two thousand, may cost the init. Whoever can reach the port must not be able to
 * exhaust PID 1's heap (64 MB) or its time: everything a connection holds is bounded, and a connection
 * lives only as long as a well-behaved probe needs.
 */
export interface StatusLimits {
  /** connections open at once; more are closed as they arrive */
  maxConnections: number;
  /** bytes of request line and headers */
  maxHeaderBytes: number;
  maxHeaders: number;
  /** from connect to a complete request; then the answer is immediate, except GET /prestop's */
  requestTimeoutMs: number;
}

export const STATUS_LIMITS: StatusLimits = {
  maxConnections: 64,
  maxHeaderBytes: 4096,
  maxHeaders: 32,
  requestTimeoutMs: 2000,
};

const ROUTES: Record<string, readonly string[]> = {
  '/healthz': ['GET', 'HEAD'],
  '/readyz': ['GET', 'HEAD'],
  '/metrics': ['GET', 'HEAD'],
  // it starts the shutdown: never by a HEAD (or any other method) a scanner or monitor may send
  '/prestop': ['GET'],
};

/**
 * GET|HEAD /healthz: 200 while the app runs. GET|HEAD /readyz: 200 while the --ready-check passes and
 * no shutdown has started, else 503. GET|HEAD /metrics: Prometheus text.
 * GET /prestop: starts the shutdown sequence and answers once the app has exited.
 * Another method on these paths: 405; another path: 404. One request per connection.
 */
export async function startStatusServer(
  addr: { host: string; port: number },
  hooks: StatusHooks,
  log: Logger,
  limits: StatusLimits = STATUS_LIMITS,
): Promise<Server> {
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.requestTimeoutMs,
      requestTimeout: limits.requestTimeoutMs + 1000,
      // Node checks the two timeouts above every 30 s by default: far too late under a flood
      connectionsCheckingInterval: Math.max(100, Math.floor(limits.requestTimeoutMs / 4)),
      keepAlive: false,
      requireHostHeader: false,
    },
    (req, res) => answer(req, res, hooks),
  );
  server.maxConnections = limits.maxConnections;
  server.maxHeadersCount = limits.maxHeaders;
  server.maxRequestsPerSocket = 1;
  server.keepAliveTimeout = 1;
  // A deadline per connection, whatever it sends or does not send; only an accepted GET /prestop,
  // which waits for the app to exit, is exempt (see answer()).
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => socket.destroy(), limits.requestTimeoutMs);
    timer.unref();
    deadlines.set(socket, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      deadlines.delete(socket);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // no host (`:8081`): every interface, IPv6 and IPv4 where the system has both
    server.listen(addr.port, addr.host || undefined, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  log.debug('status endpoint listening', { addr: formatStatusAddr(addr) });
  return server;
}

const deadlines = new WeakMap<Socket, NodeJS.Timeout>();

function answer(req: IncomingMessage, res: ServerResponse, hooks: StatusHooks): void {
  const send = (code: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(code, { 'content-type': 'text/plain', connection: 'close', ...headers });
    res.end(`${body}\n`);
  };
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const methods = ROUTES[path];
  if (!methods) return send(404, 'not found: try /healthz, /readyz, /metrics or /prestop');
  if (!methods.includes(req.method ?? '')) return send(405, 'method not allowed', { allow: methods.join(', ') });
  if (path === '/healthz') return hooks.isAlive() ? send(200, 'ok') : send(503, 'the app has exited');
  if (path === '/metrics') return send(200, hooks.metrics().trimEnd(), { 'content-type': 'text/plain; version=0.0.4' });
  if (path === '/readyz') return hooks.isReady() ? send(200, 'ready') : send(503, 'shutting down');
  const deadline = deadlines.get(req.socket);
  if (deadline) clearTimeout(deadline);
  hooks.preStop().then(
    () => send(200, 'app exited'),
    () => send(500, 'shutdown failed'),
  );
}
