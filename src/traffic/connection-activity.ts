// Is one inbound connection busy? Pure: the previous reading of the same connection and the current one.
import { connectionField, type ConnectionTable } from './connection-table.js';
import { CONNECTION, TCP_STATE } from './native-api.js';

/** What the tracker remembers of a connection between two readings. */
export interface ConnectionMemory {
  bytesIn: number;
  bytesOut: number;
  /** request bytes arrived after the last response bytes */
  requestPending: boolean;
}

/** Bytes the app has sent on connection `i`: bytes_sent where the kernel has it (4.19), else bytes_acked. */
export function bytesOutOf(table: ConnectionTable, i: number): number {
  return Math.max(
    connectionField(table, i, CONNECTION.bytesSent),
    connectionField(table, i, CONNECTION.bytesAcked),
  );
}

/**
 * Whether the last request bytes on connection `i` are newer than its last response bytes.
 * Counters first (exact): request bytes came and no response bytes went since the last reading
 * means pending; response bytes and no request bytes means answered. When both moved, the
 * kernel's millisecond timestamps decide, a tie counting as answered (a fast app answers within
 * the same millisecond; a pipelined request that lands in the millisecond of the previous
 * response is then missed until the app answers it).
 */
export function requestPending(prev: ConnectionMemory | undefined, table: ConnectionTable, i: number): boolean {
  if (connectionField(table, i, CONNECTION.infoLength) === 0) return prev?.requestPending ?? false;
  const bytesIn = connectionField(table, i, CONNECTION.bytesReceived);
  const bytesOut = bytesOutOf(table, i);
  const inGrew = bytesIn > (prev?.bytesIn ?? 0);
  const outGrew = bytesOut > (prev?.bytesOut ?? 0);
  if (inGrew && !outGrew) return true;
  if (inGrew && outGrew) {
    return connectionField(table, i, CONNECTION.msSinceDataReceived) < connectionField(table, i, CONNECTION.msSinceDataSent);
  }
  if (outGrew) return false;
  return prev?.requestPending ?? false;
}

/**
 * Busy: a handshake in progress, request bytes the app has not read, a request not answered yet,
 * or response bytes not sent or not acknowledged. Idle keep-alive connections are not busy.
 */
export function connectionBusy(table: ConnectionTable, i: number, pending: boolean): boolean {
  const state = connectionField(table, i, CONNECTION.state);
  if (state === TCP_STATE.synRecv || state === TCP_STATE.newSynRecv) return true;
  if (
    connectionField(table, i, CONNECTION.recvQueue) > 0 ||
    connectionField(table, i, CONNECTION.sendQueue) > 0 ||
    connectionField(table, i, CONNECTION.notSent) > 0 ||
    connectionField(table, i, CONNECTION.unacked) > 0
  ) {
    return true;
  }
  // once the app has closed its end, an unanswered request will never be answered
  const appOpen = state === TCP_STATE.established || state === TCP_STATE.closeWait;
  return appOpen && pending;
}
