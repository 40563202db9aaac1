import { createServer, isIP, type Server, type Socket } from 'node:net';
import { formatStatusAddr } from './cli/options.js';
import type { Logger } from './log.js';
import { bearerMatches } from './prestop-token.js';
import { StatusClients, type ClientLimits } from './status-clients.js';
import { parseRequestHead, type HeadLimits, type StatusRequest } from './status-request.js';

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
export interface StatusLimits extends ClientLimits, HeadLimits {
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

/** An open status endpoint. */
export interface StatusServer {
  /** connections accepted so far: the init's own, never the app's traffic */
  readonly accepted: number;
  /** stops listening; an answer being written (a /prestop's) gets up to `ms` to reach its client */
  close(ms: number): Promise<void>;
}

/**
 * GET|HEAD /healthz: 200 while the app runs. GET|HEAD /readyz: 200 while the --ready-check passes and
 * no shutdown has started, else 503. GET|HEAD /metrics: Prometheus text.
 * GET /prestop with `Authorization: Bearer <token>`: starts the shutdown sequence and answers once
 * the app has exited; without a token configured it is off (404); without the header 401, with
 * another token 403, and nothing starts. Another method on these paths: 405; another path: 404.
 * One request per connection, answered with `Connection: close`; a request that is not HTTP/1.x
 * gets 400, a head past the limit 431. Over node:net alone (status-request.ts reads the requests).
 */
export async function startStatusServer(
  addr: { host: string; port: number },
  hooks: StatusHooks,
  log: Logger,
  token: Buffer | null,
  limits: StatusLimits = STATUS_LIMITS,
): Promise<StatusServer> {
  const clients = new StatusClients(limits);
  const refusals = refusalLog(log);
  const open = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => {});
    clients.admit(socket);
    // A deadline per connection, whatever it sends or does not send; only an accepted GET /prestop,
    // which waits for the app to exit, is exempt (see answer()).
    const deadline = setTimeout(() => socket.destroy(), limits.requestTimeoutMs);
    deadline.unref();
    socket.once('close', () => clearTimeout(deadline));
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      // a head ends with a line feed: a client that sends its head a byte at a time is not read again for each byte
      if (!chunk.includes(0x0a) && received <= limits.maxHeaderBytes) return;
      const head = parseRequestHead(chunks.length === 1 ? chunk : Buffer.concat(chunks, received), limits);
      if (head.kind === 'incomplete') return;
      // what follows the head (a body) is read and dropped: unread, it would make the kernel reset
      // the connection before the client has read the answer
      socket.off('data', onData);
      chunks.length = 0;
      clients.settle(socket);
      if (head.kind === 'refused') return reply(socket, 'GET', head.status, '');
      answer(socket, head.request, hooks, token, refusals, () => clearTimeout(deadline));
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
    // The backlog: connections the kernel completes while the init is busy evicting a flood wait
    // here for their turn instead of being dropped (a dropped SYN is retried after 1 s, a probe's timeout)
    listenDirectly(server, addr, limits.backlog);
  });
  server.unref();
  log.debug('status endpoint listening', { addr: formatStatusAddr(addr) });
  return {
    get accepted() {
      return accepted;
    },
    close: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const socket of open) socket.destroy();
          resolve();
        }, ms);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

/**
 * No host (`:8081`): every interface, IPv6 and IPv4 where the system has both. An address is
 * bound directly (Server#_listen2, which listen() itself ends in): listen() would first look it up
 * through node:dns (on libuv's thread pool: four threads, and glibc's resolver in the init's
 * memory) and load node:cluster (with child_process, dgram and dns) to learn that this is no
 * cluster worker, about 1 MiB of private memory for the life of the pod. A host name, or a Node
 * without _listen2, goes through listen().
 */
function listenDirectly(server: Server, addr: { host: string; port: number }, backlog: number): void {
  const family = addr.host === '' ? 4 : isIP(addr.host);
  const direct = (server as Server & { _listen2?: (address: string | null, port: number, family: number, backlog: number) => void })._listen2;
  if (family !== 0 && typeof direct === 'function') direct.call(server, addr.host || null, addr.port, family, backlog);
  else server.listen({ port: addr.port, host: addr.host || undefined, backlog });
}

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The whole answer, then the end of the connection; HEAD gets the head alone, with the body's length. */
function reply(socket: Socket, method: string, code: number, body: string, headers: Record<string, string> = {}): void {
  const text = body ? `${body}\n` : '';
  const fields = { 'content-type': 'text/plain', connection: 'close', ...headers, date: new Date().toUTCString(), 'content-length': String(Buffer.byteLength(text)) };
  const head = `HTTP/1.1 ${code} ${REASONS[code] ?? ''}\r\n${Object.entries(fields).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  socket.end(method === 'HEAD' ? head : head + text);
}

function answer(socket: Socket, req: StatusRequest, hooks: StatusHooks, token: Buffer | null, refused: (from: Socket, why: string) => void, exempt: () => void): void {
  const send = (code: number, body: string, headers?: Record<string, string>) => reply(socket, req.method, code, body, headers);
  const methods = ROUTES[req.path];
  if (!methods) return send(404, 'not found: try /healthz, /readyz, /metrics or /prestop');
  if (!methods.includes(req.method)) return send(405, 'method not allowed', { allow: methods.join(', ') });
  if (req.path === '/healthz') return hooks.isAlive() ? send(200, 'ok') : send(503, 'the app has exited');
  if (req.path === '/metrics') return send(200, hooks.metrics().trimEnd(), { 'content-type': 'text/plain; version=0.0.4' });
  if (req.path === '/readyz') return hooks.isReady() ? send(200, 'ready') : send(503, 'shutting down');
  if (!token) return send(404, '/prestop is off: the init was started without --prestop-token-file');
  if (!req.authorization) {
    refused(socket, 'no token');
    return send(401, 'GET /prestop needs the header Authorization: Bearer <the --prestop-token-file token>', { 'www-authenticate': 'Bearer' });
  }
  if (!bearerMatches(req.authorization, token)) {
    refused(socket, 'wrong token');
    return send(403, 'wrong token');
  }
  exempt();
  hooks.preStop().then(
    () => send(200, 'app exited'),
    () => send(500, 'shutdown failed'),
  );
}

/** One warning per refused /prestop, at most one a second (whoever refills them cannot flood the log). */
function refusalLog(log: Logger): (from: Socket, why: string) => void {
  let lastAt = -Infinity;
  let since = 0;
  return (from, why) => {
    since++;
    const now = Date.now();
    if (now - lastAt < 1000) return;
    const more = since > 1 ? ` (${since - 1} more refused in the last ${Math.round((now - lastAt) / 1000)}s)` : '';
    log.warn(`refused GET /prestop from ${from.remoteAddress ?? '?'}: ${why}${more}`);
    [lastAt, since] = [now, 0];
  };
}
