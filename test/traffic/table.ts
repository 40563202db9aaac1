// Builds ConnectionTables from readable objects for the pure tests.
import type { ConnectionTable } from '../../src/traffic/connection-table.js';
import { CONNECTION, TCP_STATE } from '../../src/traffic/native-api.js';

export interface FakeConnection {
  /** the socket cookie: the connection's identity */
  id: number;
  state?: number;
  bytesReceived?: number;
  bytesSent?: number;
  bytesAcked?: number;
  msSinceDataReceived?: number;
  msSinceDataSent?: number;
  recvQueue?: number;
  sendQueue?: number;
  unacked?: number;
  notSent?: number;
  /** false: a request socket without tcp_info */
  info?: boolean;
}

export function tableOf(conns: readonly FakeConnection[]): ConnectionTable {
  const data = new Float64Array(conns.length * CONNECTION.fields);
  conns.forEach((c, i) => {
    const r = i * CONNECTION.fields;
    data[r + CONNECTION.family] = 4;
    data[r + CONNECTION.state] = c.state ?? TCP_STATE.established;
    data[r + CONNECTION.localPort] = 8080;
    data[r + CONNECTION.remotePort] = 40000 + c.id;
    data[r + CONNECTION.cookieHi] = Math.floor(c.id / 0x1_0000_0000);
    data[r + CONNECTION.cookieLo] = c.id % 0x1_0000_0000;
    data[r + CONNECTION.recvQueue] = c.recvQueue ?? 0;
    data[r + CONNECTION.sendQueue] = c.sendQueue ?? 0;
    data[r + CONNECTION.infoLength] = c.info === false ? 0 : 232;
    data[r + CONNECTION.bytesReceived] = c.bytesReceived ?? 0;
    data[r + CONNECTION.bytesSent] = c.bytesSent ?? c.bytesAcked ?? 0;
    data[r + CONNECTION.bytesAcked] = c.bytesAcked ?? c.bytesSent ?? 0;
    data[r + CONNECTION.msSinceDataReceived] = c.msSinceDataReceived ?? 10_000;
    data[r + CONNECTION.msSinceDataSent] = c.msSinceDataSent ?? 10_000;
    data[r + CONNECTION.unacked] = c.unacked ?? 0;
    data[r + CONNECTION.notSent] = c.notSent ?? 0;
  });
  return { count: conns.length, data };
}
