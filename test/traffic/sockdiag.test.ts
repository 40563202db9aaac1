// The sock_diag part of the addon and the tracker on real loopback connections (127.0.0.1 and ::1).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { discoverAppPorts, watchAppPorts } from '../../src/traffic/app-ports.js';
import { connectionField, connectionKey, formatAddress, type ConnectionTable } from '../../src/traffic/connection-table.js';
import { CONNECTION, TCP_STATE, type NativeSockDiag } from '../../src/traffic/native-api.js';
import type { SockDiag } from '../../src/traffic/sock-diag.js';
import { TrafficTracker } from '../../src/traffic/traffic-tracker.js';
import { PINNED_NODE, killQuietly, sleep } from '../native/helpers.js';
import { dial, hasIpv6Loopback, listen, until, type TestServer } from './net-helpers.js';
import { loadSockDiag } from './shared-diag.js';

let native: NativeSockDiag;
let diag: SockDiag;
let ipv6 = false;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  ({ native, diag } = loadSockDiag());
  ipv6 = await hasIpv6Loopback();
}, 180_000);

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(host: string, onConnection?: (s: Socket) => void): Promise<TestServer> {
  const s = await listen(host, onConnection);
  cleanups.push(() => s.close());
  return s;
}

async function client(host: string, port: number): Promise<Socket> {
  const c = await dial(host, port);
  cleanups.push(() => c.destroy());
  return c;
}

/** index of the server-side end of `c` in the table, -1 when absent */
function rowOf(table: ConnectionTable, c: Socket): number {
  for (let i = 0; i < table.count; i++) {
    if (connectionField(table, i, CONNECTION.remotePort) === c.localPort) return i;
  }
  return -1;
}

function connections(ports: number[]): ConnectionTable {
  const r = diag.connections(ports);
  if (!r.ok) throw new Error(`${r.error.what}: ${r.error.code}`);
  // the wrapper reuses its buffer: copy what the test keeps
  return { count: r.value.count, data: r.value.data.slice(0, r.value.count * CONNECTION.fields) };
}

function observe(t: TrafficTracker, port: number) {
  return t.observe(connections([port]), performance.now());
}

for (const host of ['127.0.0.1', '::1']) {
  const family = host === '::1' ? 6 : 4;
  describe(`on ${host}`, () => {
    const skip = () => family === 6 && !ipv6;

    it('lists the listening socket, whose inode the process holds', async (ctx) => {
      if (skip()) return ctx.skip();
      const s = await server(host);
      const listeners = diag.listeners();
      expect(listeners.ok).toBe(true);
      if (!listeners.ok) return;
      const mine = listeners.value.filter((l) => l.port === s.port);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ family, address: host, acceptQueue: 0 });
      const inodes = diag.socketInodes(process.pid);
      expect(inodes.ok && inodes.value.includes(mine[0]?.inode ?? -1)).toBe(true);
    });

    it('reports an inbound connection with its counters, not the client end', async (ctx) => {
      if (skip()) return ctx.skip();
      const s = await server(host, (sock) => sock.once('data', () => sock.write('abc')));
      const c = await client(host, s.port);
      c.write('hello');
      await new Promise((r) => c.once('data', r));
      const table = await until('counters', () => {
        const t = connections([s.port]);
        const i = rowOf(t, c);
        return i >= 0 && connectionField(t, i, CONNECTION.bytesAcked) === 3 ? t : undefined;
      });
      expect(table.count).toBe(1); // the client's end has the ephemeral port as its local port
      const field = (f: number) => connectionField(table, 0, f);
      expect(field(CONNECTION.family)).toBe(family);
      expect(field(CONNECTION.state)).toBe(TCP_STATE.established);
      expect(field(CONNECTION.localPort)).toBe(s.port);
      expect(field(CONNECTION.bytesReceived)).toBe(5);
      expect(field(CONNECTION.bytesSent)).toBe(3);
      expect(field(CONNECTION.recvQueue)).toBe(0);
      expect(field(CONNECTION.sendQueue)).toBe(0);
      expect(field(CONNECTION.infoLength)).toBeGreaterThan(0);
      expect(field(CONNECTION.msSinceDataReceived)).toBeLessThan(5000);
      expect(formatAddress(family, table.data, CONNECTION.remoteAddress)).toBe(host);
      expect(connectionKey(table, 0)).toBeGreaterThan(0);
      const inodes = diag.socketInodes(process.pid);
      expect(inodes.ok && inodes.value.includes(field(CONNECTION.inode))).toBe(true);
    });

    it('a request in flight is busy; once answered, the keep-alive connection is idle', async (ctx) => {
      if (skip()) return ctx.skip();
      let answer: (() => void) | undefined;
      const s = await server(host, (sock) =>
        sock.on('data', () => {
          answer = () => sock.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        }),
      );
      const c = await client(host, s.port);
      const t = new TrafficTracker();
      await until('connected, idle', () => (observe(t, s.port).idle === 1 ? true : undefined));

      c.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
      await until('request seen as in flight', () => (observe(t, s.port).active === 1 ? true : undefined));
      // the app is working on it: stays busy
      await sleep(150);
      expect(observe(t, s.port)).toMatchObject({ active: 1, idle: 0 });
      expect(t.allIdle).toBe(false);

      answer?.();
      await new Promise((r) => c.once('data', r));
      await until('answered, idle', () => (observe(t, s.port).idle === 1 ? true : undefined));
      expect(t.latest).toMatchObject({ connections: 1, active: 0 });
      expect(t.allIdle).toBe(true);
    });

    it('a response the client does not read keeps the connection busy', async (ctx) => {
      if (skip()) return ctx.skip();
      const s = await server(host, (sock) => sock.once('data', () => sock.write(Buffer.alloc(8 << 20))));
      const c = await client(host, s.port);
      c.pause();
      c.write('x');
      const t = new TrafficTracker();
      const table = await until('send queue filled', () => {
        const tab = connections([s.port]);
        return tab.count === 1 && connectionField(tab, 0, CONNECTION.sendQueue) > 0 ? tab : undefined;
      });
      expect(t.observe(table, performance.now()).active).toBe(1);
    });

    it('a new connection and new request bytes are new inbound traffic; silence is not', async (ctx) => {
      if (skip()) return ctx.skip();
      const s = await server(host);
      const c1 = await client(host, s.port);
      const t = new TrafficTracker();
      observe(t, s.port);
      const start = t.lastInboundAt;
      expect(start).not.toBeNull();
      await sleep(250);
      observe(t, s.port);
      expect(t.lastInboundAt).toBe(start);

      const before2 = performance.now();
      await client(host, s.port);
      const obs = observe(t, s.port);
      expect(obs.newConnections).toBe(1);
      expect(t.lastInboundAt ?? 0).toBeGreaterThanOrEqual(before2 - 20); // kernel ms vs our clock
      const afterConnect = t.lastInboundAt ?? 0;

      await sleep(250);
      c1.write('more');
      await until('bytes seen', () => (s.accepted[0]?.bytesRead === 4 ? true : undefined));
      observe(t, s.port);
      expect(t.lastInboundAt ?? 0).toBeGreaterThan(afterConnect + 200);
    });
  });
}

describe('port filter', () => {
  it('finds the connections with the port among many (kernel filter) and among very many (filtered here)', async () => {
    const s = await server('127.0.0.1');
    const other = await server('127.0.0.1');
    const c = await client('127.0.0.1', s.port);
    await client('127.0.0.1', other.port);
    const few = [1, 2, s.port, 65535];
    const many = Array.from({ length: 600 }, (_, i) => i + 1).concat(s.port);
    for (const ports of [[s.port], few, many]) {
      const t = connections(ports);
      expect(t.count).toBe(1);
      expect(rowOf(t, c)).toBe(0);
    }
    expect(connections([other.port]).count).toBe(1);
    expect(connections([s.port, other.port]).count).toBe(2);
    expect(connections([1]).count).toBe(0);
    expect(connections([]).count).toBe(0);
  });

  it('counts the records that did not fit and writes only whole ones', async () => {
    const s = await server('127.0.0.1');
    for (let i = 0; i < 3; i++) await client('127.0.0.1', s.port);
    await until('3 accepted', () => (s.accepted.length === 3 ? true : undefined));
    const out = new Float64Array(CONNECTION.fields + 5).fill(-1);
    expect(native.tcpConnections(Uint16Array.of(s.port), out)).toBe(3);
    expect(out[CONNECTION.localPort]).toBe(s.port);
    expect(Array.from(out.subarray(CONNECTION.fields))).toEqual([-1, -1, -1, -1, -1]);
  });
});

describe('errors', () => {
  it('names the errno of a failed call', () => {
    const r = diag.socketInodes(2 ** 30);
    expect(r).toEqual({ ok: false, error: { code: 'ENOENT', what: `/proc/${2 ** 30}/fd` } });
  });

  it('refuses arguments of the wrong type', () => {
    expect(() => native.tcpConnections([80] as unknown as Uint16Array, new Float64Array(1))).toThrow(TypeError);
    expect(() => native.tcpListeners(new Int32Array(9) as unknown as Float64Array)).toThrow(TypeError);
  });
});

describe('the app’s ports', () => {
  let app: ChildProcess | undefined;
  afterEach(() => {
    if (app?.pid) killQuietly(app.pid);
    app = undefined;
  });

  it('are the ports the app’s processes listen on, not ours; every listener when /proc cannot tell', async () => {
    const ours = await server('127.0.0.1');
    app = spawn(
      PINNED_NODE,
      ['-e', `const s = require('net').createServer().listen(0, '127.0.0.1', () => console.log(s.address().port))`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const appPort = await new Promise<number>((resolve, reject) => {
      app?.stdout?.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
      app?.once('exit', () => reject(new Error('app exited')));
    });
    const pid = app.pid ?? 0;
    const found = discoverAppPorts(diag, { pids: [pid] });
    expect(found).toEqual({ ok: true, value: { ports: [appPort], source: 'process-tree' } });
    expect(discoverAppPorts(diag, { pids: [pid], excludePorts: [appPort] })).toEqual({
      ok: true,
      value: { ports: [], source: 'process-tree' },
    });
    // the background looks again at most every everyMs, a decision (fresh) at once; every port
    // seen stays watched (the connections of a closed listener are still the app's)
    let now = 0;
    let pids = [2 ** 30]; // no such process yet
    const changes: string[] = [];
    const watch = watchAppPorts(diag, () => pids, {
      everyMs: 1000,
      clock: () => now,
      onChange: (f) => changes.push(`${f.source}:${f.ports.join()}`),
    });
    expect(watch.watched(false)).toEqual([]);
    pids = [pid];
    now = 500;
    expect(watch.watched(false)).toEqual([]);
    expect(watch.watched(true)).toEqual([appPort]);
    expect(watch.listening()).toEqual([appPort]);
    pids = [2 ** 30];
    now = 2000;
    expect(watch.watched(false)).toEqual([appPort]);
    expect(watch.listening()).toEqual([]);
    expect(changes).toEqual([`process-tree:${appPort}`]);
    const fixed = watchAppPorts(diag, () => [], { fixed: [appPort, 1], clock: () => now });
    expect(fixed.watched(true)).toEqual([appPort, 1]);
    expect(fixed.listening()).toEqual([appPort]);

    const fallback = discoverAppPorts(diag, { pids: [], excludePorts: [ours.port] });
    expect(fallback.ok && fallback.value.source).toBe('namespace');
    expect(fallback.ok && fallback.value.ports.includes(appPort)).toBe(true);
    expect(fallback.ok && fallback.value.ports.includes(ours.port)).toBe(false);
  });
});
