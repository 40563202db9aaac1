// Real TCP servers and clients on the loopback addresses for the native traffic tests.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { available, sleep } from '../native/helpers.js';

export interface TestServer {
  server: Server;
  port: number;
  /** server-side sockets, in accept order */
  accepted: Socket[];
  close(): Promise<void>;
}

export async function listen(host: string, onConnection: (s: Socket) => void = () => {}): Promise<TestServer> {
  const accepted: Socket[] = [];
  const server = createServer((s) => {
    accepted.push(s);
    s.on('error', () => {});
    onConnection(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    server,
    port: address.port,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of accepted) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export async function dial(host: string, port: number): Promise<Socket> {
  const s = connect({ host, port });
  s.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return s;
}

/** Polls `check` every 20 ms until it returns a value other than undefined; throws after `ms`. */
export async function until<T>(what: string, check: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

/** Whether ::1 can be listened on here (fails the test run under CI=true when not). */
export async function hasIpv6Loopback(): Promise<boolean> {
  let ok = true;
  try {
    const s = await listen('::1');
    await s.close();
  } catch {
    ok = false;
  }
  return available('IPv6 loopback (::1)', ok);
}
