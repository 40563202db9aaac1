import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { formatStatusAddr } from './cli/options.js';
import type { Logger } from './log.js';
import { bearerMatches } from './prestop-token.js';
import { StatusClients, type ClientLimits } from './status-clients.js';

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
 * exhaust PID 1's heap (64 MB) or its time, nor keep the kubelet out: everything a connection holds
 * is bounded, a connection lives only as long as a well-behaved probe needs, and a source that
 * holds too many unfinished requests loses its own oldest (status-clients.ts).
 */
export interface StatusLimits extends ClientLimits {
  /** bytes of request line and headers */
  maxHeaderBytes: number;
  maxHeaders: number;
  /** from connect to a complete request; then the answer is immediate, except GET /prestop's */
  requestTimeoutMs: number;
  /** connections the kernel holds until they are accepted (capped by net.core.somaxconn) */
  backlog: number;
}

export const STATUS_LIMITS: StatusLimits = {
  perSource: 16,
  total: 256,
  maxHeaderBytes: 4096,
  maxHeaders: 32,
  requestTimeoutMs: 2000,
  backlog: 1024,
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
 * GET /prestop with `Authorization: Bearer <token>`: starts the shutdown sequence and answers once
 * the app has exited; without a token configured it is off (404); without the header 401, with
 * another token 403, and nothing starts. Another method on these paths: 405; another path: 404.
 * One request per connection.
 */
export async function startStatusServer(
  addr: { host: string; port: number },
  hooks: StatusHooks,
  log: Logger,
  token: Buffer | null,
  limits: StatusLimits = STATUS_LIMITS,
): Promise<Server> {
  const clients = new StatusClients(limits);
  const refusals = refusalLog(log);
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
    (req, res) => {
      clients.settle(req.socket);
      answer(req, res, hooks, token, refusals);
    },
  );
  server.maxHeadersCount = limits.maxHeaders;
  server.maxRequestsPerSocket = 1;
  server.keepAliveTimeout = 1;
  // A deadline per connection, whatever it sends or does not send; only an accepted GET /prestop,
  // which waits for the app to exit, is exempt (see answer()).
  server.on('connection', (socket: Socket) => {
    clients.admit(socket);
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
    // no host (`:8081`): every interface, IPv6 and IPv4 where the system has both. The backlog:
    // connections the kernel completes while the init is busy evicting a flood wait here for
    // their turn instead of being dropped (a dropped SYN is retried after 1 s, a probe's timeout)
    server.listen({ port: addr.port, host: addr.host || undefined, backlog: limits.backlog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  log.debug('status endpoint listening', { addr: formatStatusAddr(addr) });
  return server;
}

const deadlines = new WeakMap<Socket, NodeJS.Timeout>();

function answer(req: IncomingMessage, res: ServerResponse, hooks: StatusHooks, token: Buffer | null, refused: (req: IncomingMessage, why: string) => void): void {
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
  if (!token) return send(404, '/prestop is off: the init was started without --prestop-token-file');
  if (!req.headers.authorization) {
    refused(req, 'no token');
    return send(401, 'GET /prestop needs the header Authorization: Bearer <the --prestop-token-file token>', { 'www-authenticate': 'Bearer' });
  }
  if (!bearerMatches(req.headers.authorization, token)) {
    refused(req, 'wrong token');
    return send(403, 'wrong token');
  }
  const deadline = deadlines.get(req.socket);
  if (deadline) clearTimeout(deadline);
  hooks.preStop().then(
    () => send(200, 'app exited'),
    () => send(500, 'shutdown failed'),
  );
}

/** One warning per refused /prestop, at most one a second (whoever refills them cannot flood the log). */
function refusalLog(log: Logger): (req: IncomingMessage, why: string) => void {
  let lastAt = -Infinity;
  let since = 0;
  return (req, why) => {
    since++;
    const now = Date.now();
    if (now - lastAt < 1000) return;
    const more = since > 1 ? ` (${since - 1} more refused in the last ${Math.round((now - lastAt) / 1000)}s)` : '';
    log.warn(`refused GET /prestop from ${req.socket.remoteAddress ?? '?'}: ${why}${more}`);
    [lastAt, since] = [now, 0];
  };
}
