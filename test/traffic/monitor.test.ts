// The monitor (counters gate, CPU budget, failures) and the two shutdown waits on real connections.
import type { Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionTable } from '../../src/traffic/connection-table.js';
import type { SockDiag } from '../../src/traffic/sock-diag.js';
import { readTcpCounters, type TcpCounters } from '../../src/traffic/tcp-counters.js';
import { startTrafficMonitor, type TrafficMonitorOptions } from '../../src/traffic/traffic-monitor.js';
import { monotonicMs } from '../../src/clock.js';
import { drainUntilQuiet, waitUntilIdle } from '../../src/traffic/traffic-waits.js';
import { available, sleep } from '../native/helpers.js';
import { dial, listen, until, type TestServer } from './net-helpers.js';
import { loadSockDiag } from './shared-diag.js';
import { tableOf } from './table.js';

let diag: SockDiag;
const cleanups: (() => unknown)[] = [];

beforeAll(() => {
  ({ diag } = loadSockDiag());
}, 180_000);

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function monitor(opts: TrafficMonitorOptions) {
  const m = startTrafficMonitor(opts);
  cleanups.push(() => m.stop());
  return m;
}

async function server(onConnection?: (s: Socket) => void): Promise<TestServer> {
  const s = await listen('127.0.0.1', onConnection);
  cleanups.push(() => s.close());
  return s;
}

async function client(port: number): Promise<Socket> {
  const c = await dial('127.0.0.1', port);
  cleanups.push(() => c.destroy());
  return c;
}

/**
 * The waits on real sockets do without the namespace's TCP counters: the machine's other work
 * (parallel tests) opens connections in this same namespace, and PassiveOpens would count them.
 */
const noCounters = (): null => null;

/** A SockDiag double that serves `tables` in turn (the last one forever) and counts its dumps. */
function fakeDiag(tables: ConnectionTable[]): SockDiag & { dumps: number } {
  const fake = {
    dumps: 0,
    connections() {
      const t = tables[Math.min(fake.dumps, tables.length - 1)] ?? tableOf([]);
      fake.dumps++;
      return { ok: true, value: t };
    },
  };
  return fake as unknown as SockDiag & { dumps: number };
}

describe('monitor', () => {
  it('polls the real connections into the tracker and tells its subscribers', async () => {
    const s = await server();
    const seen: number[] = [];
    const m = monitor({ diag, ports: () => [s.port], intervalMs: 20 });
    m.subscribe((obs) => seen.push(obs.connections));
    await client(s.port);
    await until('connection seen', () => (seen.includes(1) ? true : undefined));
    expect(m.lastError).toBeNull();
    expect(m.tracker.latest?.connections).toBe(1);
    expect(m.stats.dumps).toBeGreaterThan(0);
  });

  it('does not dump while the namespace’s TCP counters stand still', () => {
    let counters: TcpCounters = { passiveOpens: 5, inSegments: 100, outSegments: 90 };
    const fake = fakeDiag([tableOf([{ id: 1 }])]);
    let now = 1000;
    const m = monitor({ diag: fake, ports: () => [80], intervalMs: 60_000, clock: () => now, counters: () => counters });
    expect(fake.dumps).toBe(1); // the first tick
    now = 1100;
    expect(m.pollNow()?.at).toBe(1100);
    expect(m.stats).toMatchObject({ dumps: 1, unchanged: 1 });
    counters = { ...counters, inSegments: 101 };
    now = 1200;
    m.pollNow();
    expect(fake.dumps).toBe(2);
  });

  it('pollNow looks at the ports as they are now: a new one is dumped at once, none known is never idle', () => {
    const counters: TcpCounters = { passiveOpens: 5, inSegments: 100, outSegments: 90 };
    const fake = fakeDiag([tableOf([{ id: 1, recvQueue: 10 }])]);
    let ports: number[] = [];
    let now = 1000;
    const m = monitor({ diag: fake, ports: (fresh) => (fresh ? ports : []), intervalMs: 60_000, clock: () => now, counters: () => counters });
    // no port known: unknown, counted as traffic and busy, whatever the counters say
    expect(m.pollNow()).toBeNull();
    expect(m.tracker.lastInboundAt).toBe(1000);
    expect(m.tracker.allIdle).toBe(false);
    // the app listens now; the counters have not moved, the ports have: dumped
    ports = [80];
    now = 1100;
    expect(m.pollNow()).toMatchObject({ at: 1100, connections: 1, active: 1 });
  });

  it('spaces the timer’s dumps by the CPU budget; pollNow does not wait', async () => {
    let seg = 0;
    const fake = fakeDiag([tableOf([{ id: 1 }])]);
    const m = monitor({
      diag: fake,
      ports: () => [80],
      intervalMs: 5,
      cpuBudget: 1e-9,
      counters: () => ({ passiveOpens: 0, inSegments: seg++, outSegments: 0 }),
    });
    await until('deferred ticks', () => (m.stats.deferred > 3 ? true : undefined));
    expect(fake.dumps).toBe(1);
    m.pollNow();
    expect(fake.dumps).toBe(2);
  });

  it('dumps at least every maxSpacingMs while the counters move, whatever the budget', async () => {
    let seg = 0;
    const fake = fakeDiag([tableOf([{ id: 1 }])]);
    monitor({
      diag: fake,
      ports: () => [80],
      intervalMs: 5,
      cpuBudget: 1e-9,
      maxSpacingMs: 20,
      counters: () => ({ passiveOpens: 0, inSegments: seg++, outSegments: 0 }),
    });
    await until('3 dumps', () => (fake.dumps >= 3 ? true : undefined));
    // and not at every tick
    await sleep(100);
    expect(fake.dumps).toBeLessThan(15);
  });

  it('dumps at every tick without counters (no /proc)', async () => {
    const fake = fakeDiag([tableOf([{ id: 1 }])]);
    monitor({ diag: fake, ports: () => [80], intervalMs: 5, counters: () => null, cpuBudget: 1 });
    await until('dumps at every tick', () => (fake.dumps > 3 ? true : undefined));
  });

  it('an accepted connection that no dump saw is traffic from the tick that saw the counter grow', () => {
    let counters: TcpCounters = { passiveOpens: 5, inSegments: 100, outSegments: 90 };
    let own = 0;
    let now = 1000;
    const fake = fakeDiag([tableOf([{ id: 1 }])]);
    const m = monitor({ diag: fake, ports: () => [80], intervalMs: 60_000, clock: () => now, counters: () => counters, ownAccepts: () => own, cpuBudget: 1 });
    const before = m.tracker.lastInboundAt;
    // the init's own status endpoint accepted one: not the app's traffic
    counters = { passiveOpens: 6, inSegments: 110, outSegments: 100 };
    own = 1;
    now = 1100;
    m.pollNow();
    expect(m.tracker.lastInboundAt).toBe(before);
    // one the app accepted and closed before the dump
    counters = { passiveOpens: 7, inSegments: 120, outSegments: 110 };
    now = 1200;
    m.pollNow();
    expect(m.tracker.lastInboundAt).toBe(1200);
  });

  it('a failing dump is reported once and counts as traffic and as busy', () => {
    const failing = { connections: () => ({ ok: false, error: { code: 'EPERM', what: 'sock_diag' } }) } as unknown as SockDiag;
    const errors: string[] = [];
    let now = 1000;
    const m = monitor({ diag: failing, ports: () => [80], intervalMs: 60_000, clock: () => now, onError: (e) => errors.push(e.code) });
    now = 2000;
    expect(m.pollNow()).toBeNull();
    expect(errors).toEqual(['EPERM']);
    expect(m.lastError).toEqual({ code: 'EPERM', what: 'sock_diag' });
    expect(m.tracker.lastInboundAt).toBe(2000);
    expect(m.tracker.allIdle).toBe(false);
  });

  it('the namespace’s PassiveOpens counter counts an accepted connection', async (ctx) => {
    const before = readTcpCounters();
    // no /proc: the monitor then dumps at every tick
    if (!available('/proc/net/snmp', before !== null)) return ctx.skip();
    const s = await server();
    await client(s.port);
    await until('accepted', () => (s.accepted.length === 1 ? true : undefined));
    expect(readTcpCounters()?.passiveOpens ?? 0).toBeGreaterThan(before?.passiveOpens ?? 0);
  });
});

describe('drainUntilQuiet', () => {
  it('ends once the requests have stopped for the quiet time', async () => {
    const s = await server((sock) => sock.on('data', () => sock.write('ok')));
    const c = await client(s.port);
    const m = monitor({ diag, ports: () => [s.port], counters: noCounters });
    const startedAt = monotonicMs();
    const traffic = setInterval(() => c.write('GET /\r\n'), 50);
    setTimeout(() => clearInterval(traffic), 600);
    cleanups.push(() => clearInterval(traffic));
    const verdict = await drainUntilQuiet(m, { quietMs: 500, minMs: 0, maxMs: 10_000 }, startedAt);
    expect(verdict).toMatchObject({ done: true, reason: 'quiet' });
    // not before the last request + the quiet time
    expect(verdict.elapsedMs).toBeGreaterThanOrEqual(600 + 500 - 60);
  });

  it('a new connection starts the quiet time again', async () => {
    const s = await server();
    const m = monitor({ diag, ports: () => [s.port], counters: noCounters });
    const startedAt = monotonicMs();
    setTimeout(() => void client(s.port), 200);
    const verdict = await drainUntilQuiet(m, { quietMs: 500, minMs: 0, maxMs: 10_000 }, startedAt);
    expect(verdict).toMatchObject({ reason: 'quiet' });
    expect(verdict.elapsedMs).toBeGreaterThanOrEqual(200 + 500 - 60);
  });

  it('stops at the maximum while traffic goes on, and when aborted', async () => {
    const s = await server((sock) => sock.on('data', () => sock.write('ok')));
    const c = await client(s.port);
    const m = monitor({ diag, ports: () => [s.port], counters: noCounters });
    const traffic = setInterval(() => c.write('GET /\r\n'), 50);
    cleanups.push(() => clearInterval(traffic));
    const max = await drainUntilQuiet(m, { quietMs: 300, minMs: 0, maxMs: 800 }, monotonicMs());
    expect(max).toMatchObject({ reason: 'maximum' });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    const aborted = await drainUntilQuiet(m, { quietMs: 300, minMs: 0, maxMs: 10_000 }, monotonicMs(), { signal: abort.signal });
    expect(aborted).toMatchObject({ reason: 'aborted' });
  });
});

describe('waitUntilIdle', () => {
  it('waits for the request in flight to be answered; idle keep-alive connections do not hold it', async () => {
    const s = await server((sock) => sock.on('data', () => setTimeout(() => sock.write('ok'), 500)));
    const busy = await client(s.port);
    await client(s.port); // an idle keep-alive connection
    await until('accepted', () => (s.accepted.length === 2 ? true : undefined));
    const m = monitor({ diag, ports: () => [s.port], counters: noCounters });
    busy.write('GET /slow\r\n');
    await until('request arrived', () => (s.accepted.some((a) => a.bytesRead > 0) ? true : undefined));
    const startedAt = monotonicMs();
    const verdict = await waitUntilIdle(m, 10_000, startedAt);
    expect(verdict).toMatchObject({ done: true, reason: 'idle' });
    expect(verdict.elapsedMs).toBeGreaterThanOrEqual(300);
  });

  it('gives up after the maximum while a request is not answered', async () => {
    const s = await server();
    const c = await client(s.port);
    const m = monitor({ diag, ports: () => [s.port], counters: noCounters });
    c.write('GET /never\r\n');
    await until('request arrived', () => (s.accepted[0]?.bytesRead ? true : undefined));
    const verdict = await waitUntilIdle(m, 500, monotonicMs());
    expect(verdict).toMatchObject({ done: true, reason: 'timeout', active: 1 });
  });

  it('does not take an unknown reading for idle', async () => {
    const failing = { connections: () => ({ ok: false, error: { code: 'EPERM', what: 'sock_diag' } }) } as unknown as SockDiag;
    const m = monitor({ diag: failing, ports: () => [80], intervalMs: 60_000 });
    const verdict = await waitUntilIdle(m, 300, monotonicMs());
    expect(verdict).toMatchObject({ done: true, reason: 'timeout', active: null });
  });
});
