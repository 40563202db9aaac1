import type { Socket } from 'node:net';
import type { ReadyCheck } from './cli/options.js';
import { noteOwnConnection } from './traffic/own-connections.js';

export interface ReadyProbe {
  /** the last result; false until the first check has passed */
  passing(): boolean;
  stop(): void;
}

const EVERY_MS = 1000;
const TIMEOUT_MS = 800;

/** One TCP connection: `onConnect` decides from the socket; anything slow or failing is a failure. */
function probeTcp(port: number, host: string, onConnect: (socket: Socket, done: (ok: boolean) => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    // node:net only once a check runs: it costs start-up time and memory
    const socket = process.getBuiltinModule('node:net').connect({ port, host });
    noteOwnConnection(socket);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), TIMEOUT_MS);
    socket.once('error', () => done(false));
    socket.once('connect', () => onConnect(socket, done));
  });
}

/** A plain HTTP/1.0 GET, by hand: no agent, no proxy variables, nothing kept between checks. */
function probeHttp(host: string, port: number, path: string): Promise<boolean> {
  return probeTcp(port, host, (socket, done) => {
    let head = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      head += chunk;
      const line = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (line) done(line[1]?.startsWith('2') === true);
      else if (head.length > 1024 || head.includes('\n')) done(false);
    });
    socket.once('end', () => done(false));
    socket.write(`GET ${path} HTTP/1.0\r\nHost: ${host.includes(':') ? `[${host}]` : host}:${port}\r\nUser-Agent: graceful-init\r\n\r\n`);
  });
}

/**
 * --ready-check: checked every second with a short timeout, never blocking anything else.
 * `listening` asks, when /readyz is asked, whether the app holds a listening socket now.
 */
export function startReadyProbe(check: ReadyCheck, listening: (() => readonly number[]) | null): ReadyProbe {
  if (check.kind === 'listening') return { passing: () => (listening?.().length ?? 0) > 0, stop: () => {} };
  let passing = false;
  let stopped = false;
  const run = async (): Promise<boolean> => {
    if (check.kind === 'tcp') return probeTcp(check.port, '127.0.0.1', (_s, done) => done(true));
    return probeHttp(check.host, check.port, check.path);
  };
  const tick = () => {
    void run().then(
      (ok) => {
        passing = ok;
      },
      () => {
        passing = false;
      },
    );
  };
  const timer = setInterval(() => {
    if (!stopped) tick();
  }, EVERY_MS);
  timer.unref();
  tick();
  return {
    passing: () => passing,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
