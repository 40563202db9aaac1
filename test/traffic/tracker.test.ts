// The traffic tracker on hand-made readings: no sockets.
import { describe, expect, it } from 'vitest';
import { TCP_STATE } from '../../src/traffic/native-api.js';
import { TrafficTracker } from '../../src/traffic/traffic-tracker.js';
import { tableOf, type FakeConnection } from './table.js';

const keepAlive = (id: number, extra: Partial<FakeConnection> = {}): FakeConnection => ({
  id,
  bytesReceived: 100,
  bytesSent: 500,
  msSinceDataReceived: 5000,
  msSinceDataSent: 4990,
  ...extra,
});

describe('last new inbound traffic', () => {
  it('starts from when the kernel last saw data on the connections present at the first reading', () => {
    const t = new TrafficTracker();
    expect(t.lastInboundAt).toBeNull();
    t.observe(tableOf([keepAlive(1, { msSinceDataReceived: 300 }), keepAlive(2, { msSinceDataReceived: 700 })]), 10_000);
    expect(t.lastInboundAt).toBe(9_700);
  });

  it('leaves out the connections it is told to ignore (the init\'s own probes)', () => {
    const t = new TrafficTracker();
    t.observe(tableOf([keepAlive(1)]), 10_000);
    const before = t.lastInboundAt;
    // connection 2 (index 1) is new and busy, but ignored
    const obs = t.observe(tableOf([keepAlive(1), keepAlive(2, { msSinceDataReceived: 10, recvQueue: 5 })]), 10_100, undefined, undefined, (i) => i === 1);
    expect(t.lastInboundAt).toBe(before);
    expect(obs).toMatchObject({ connections: 1, active: 0, idle: 1, newConnections: 0 });
  });

  it('stays null with no connection at all', () => {
    const t = new TrafficTracker();
    t.observe(tableOf([]), 1000);
    t.observe(tableOf([]), 1100);
    expect(t.lastInboundAt).toBeNull();
  });

  it('does not move while the connections only sit there', () => {
    const t = new TrafficTracker();
    t.observe(tableOf([keepAlive(1)]), 10_000);
    const before = t.lastInboundAt;
    t.observe(tableOf([keepAlive(1, { msSinceDataReceived: 5100 })]), 10_100);
    t.observe(tableOf([keepAlive(1, { msSinceDataReceived: 5200 })]), 10_200);
    expect(t.lastInboundAt).toBe(before);
  });

  it('a new connection is new traffic, dated by the kernel within the poll interval', () => {
    const t = new TrafficTracker();
    t.observe(tableOf([keepAlive(1)]), 10_000);
    const obs = t.observe(
      tableOf([keepAlive(1), { id: 2, msSinceDataReceived: 40, msSinceDataSent: 40 }]),
      10_100,
    );
    expect(obs.newConnections).toBe(1);
    expect(t.lastInboundAt).toBe(10_060);
  });

  it('a kernel time older than the previous reading is clamped to it', () => {
    const t = new TrafficTracker();
    t.observe(tableOf([]), 10_000);
    t.observe(tableOf([{ id: 7, msSinceDataReceived: 5000 }]), 10_100);
    expect(t.lastInboundAt).toBe(10_000);
  });

  it('a handshake in progress (request socket, no tcp_info) is new traffic at the reading', () => {
    const t = new TrafficTracker();
    t.observe(tableOf([]), 10_000);
    t.observe(tableOf([{ id: 3, state: TCP_STATE.synRecv, info: false }]), 10_100);
    expect(t.lastInboundAt).toBe(10_100);
  });

  it('request bytes on an existing connection are new traffic', () => {
    const t = new TrafficTracker();
    t.observe(tableOf([keepAlive(1)]), 10_000);
    t.observe(tableOf([keepAlive(1, { bytesReceived: 180, msSinceDataReceived: 20 })]), 10_100);
    expect(t.lastInboundAt).toBe(10_080);
  });

  it('a connection that closes is not traffic', () => {
    const t = new TrafficTracker();
    t.observe(tableOf([keepAlive(1), keepAlive(2)]), 10_000);
    const before = t.lastInboundAt;
    t.observe(tableOf([keepAlive(2, { state: TCP_STATE.closeWait })]), 10_100);
    t.observe(tableOf([]), 10_200);
    expect(t.lastInboundAt).toBe(before);
  });

  it('a connection that opened and closed between two readings shows in the accepted-connection counter', () => {
    const t = new TrafficTracker();
    t.observe(tableOf([keepAlive(1)]), 10_000, 50);
    t.observe(tableOf([keepAlive(1)]), 10_100, 50);
    const quietUntil = t.lastInboundAt;
    t.observe(tableOf([keepAlive(1)]), 10_200, 51);
    expect(quietUntil).toBeLessThan(10_000);
    expect(t.lastInboundAt).toBe(10_200);
  });

  it('an accepted connection that is visible explains the counter', () => {
    const t = new TrafficTracker();
    t.observe(tableOf([]), 10_000, 50);
    t.observe(tableOf([{ id: 4, msSinceDataReceived: 70 }]), 10_100, 51);
    expect(t.lastInboundAt).toBe(10_030);
  });

  it('a failed reading counts as traffic, and the next good one carries on', () => {
    const t = new TrafficTracker();
    t.observe(tableOf([keepAlive(1)]), 10_000);
    t.unknown(10_100);
    expect(t.lastInboundAt).toBe(10_100);
    expect(t.allIdle).toBe(false);
    t.observe(tableOf([keepAlive(1)]), 10_200);
    expect(t.lastInboundAt).toBe(10_100);
    expect(t.allIdle).toBe(true);
  });
});

describe('busy and idle connections', () => {
  const counts = (readings: FakeConnection[][]) => {
    const t = new TrafficTracker();
    let last = t.observe(tableOf(readings[0] ?? []), 0);
    readings.slice(1).forEach((r, i) => {
      last = t.observe(tableOf(r), (i + 1) * 100);
    });
    return { active: last.active, idle: last.idle, connections: last.connections, allIdle: t.allIdle };
  };

  it('an idle keep-alive connection is idle', () => {
    expect(counts([[keepAlive(1)]])).toEqual({ active: 0, idle: 1, connections: 1, allIdle: true });
  });

  it('a request received and not answered is busy, until the answer goes out', () => {
    const waiting = keepAlive(1, { bytesReceived: 180, msSinceDataReceived: 30, msSinceDataSent: 5030 });
    expect(counts([[keepAlive(1)], [waiting]]).active).toBe(1);
    // nothing moves while the app works on it: still busy
    expect(counts([[keepAlive(1)], [waiting], [{ ...waiting, msSinceDataReceived: 130, msSinceDataSent: 5130 }]]).active).toBe(1);
    const answered = { ...waiting, bytesSent: 900, msSinceDataReceived: 230, msSinceDataSent: 10 };
    expect(counts([[keepAlive(1)], [waiting], [answered]]).active).toBe(0);
  });

  it('request and answer within one poll interval: the kernel times decide', () => {
    expect(counts([[keepAlive(1)], [keepAlive(1, { bytesReceived: 180, bytesSent: 900, msSinceDataReceived: 50, msSinceDataSent: 40 })]]).active).toBe(0);
    // answer, then the next request: busy
    expect(counts([[keepAlive(1)], [keepAlive(1, { bytesReceived: 180, bytesSent: 900, msSinceDataReceived: 20, msSinceDataSent: 40 })]]).active).toBe(1);
  });

  it('a connection first seen with a request and no answer yet is busy', () => {
    expect(counts([[{ id: 1, bytesReceived: 80, msSinceDataReceived: 5, msSinceDataSent: 9 }]]).active).toBe(1);
    expect(counts([[{ id: 1, bytesReceived: 80, msSinceDataReceived: 5, msSinceDataSent: 5 }]]).active).toBe(1);
  });

  it('a connection that has sent nothing yet and received nothing is idle', () => {
    expect(counts([[{ id: 1, msSinceDataReceived: 5, msSinceDataSent: 5 }]]).active).toBe(0);
  });

  it('unread request bytes, unsent or unacknowledged response bytes make a connection busy', () => {
    expect(counts([[keepAlive(1, { recvQueue: 10 })]]).active).toBe(1);
    expect(counts([[keepAlive(1, { sendQueue: 65_536 })]]).active).toBe(1);
    expect(counts([[keepAlive(1, { notSent: 1 })]]).active).toBe(1);
    expect(counts([[keepAlive(1, { unacked: 2 })]]).active).toBe(1);
  });

  it('a handshake in progress is busy', () => {
    expect(counts([[{ id: 1, state: TCP_STATE.synRecv, info: false }]]).active).toBe(1);
  });

  it('once the app has closed its end, an unanswered request no longer makes it busy', () => {
    const pending = { id: 1, bytesReceived: 80, msSinceDataReceived: 5, msSinceDataSent: 9 };
    expect(counts([[{ ...pending, state: TCP_STATE.closeWait }]]).active).toBe(1);
    expect(counts([[{ ...pending, state: TCP_STATE.finWait2 }]]).active).toBe(0);
  });

  it('counts several connections and forgets the closed ones', () => {
    const busy = keepAlive(2, { bytesReceived: 180, msSinceDataReceived: 30 });
    expect(counts([[keepAlive(1), keepAlive(2), keepAlive(3)], [keepAlive(1), busy, keepAlive(3)]])).toEqual({
      active: 1,
      idle: 2,
      connections: 3,
      allIdle: false,
    });
    expect(counts([[keepAlive(1), keepAlive(2)], [keepAlive(1), busy], [keepAlive(1)]])).toEqual({
      active: 0,
      idle: 1,
      connections: 1,
      allIdle: true,
    });
  });

  it('a connection that comes back with the same cookie is the same connection', () => {
    const t = new TrafficTracker();
    t.observe(tableOf([keepAlive(1)]), 0);
    expect(t.observe(tableOf([keepAlive(1)]), 100).newConnections).toBe(0);
    expect(t.observe(tableOf([keepAlive(1), keepAlive(2 ** 40)]), 200).newConnections).toBe(1);
  });
});
