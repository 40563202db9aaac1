// The contract between the traffic modules and src/reaper/sockdiag.c (exported by the reaper addon).
// Records are fixed-size runs of numbers in a caller-owned Float64Array: a poll may see 10,000
// connections, and one array beats 10,000 JS objects.

/** Fields of one tcpListeners() record. */
export const LISTENER = {
  /** 4 or 6 */
  family: 0,
  port: 1,
  inode: 2,
  /** connections waiting to be accepted */
  acceptQueue: 3,
  /** the accept queue's limit */
  backlog: 4,
  /** local address: 4 words in host byte order, IPv4 in the first */
  address: 5,
  fields: 9,
} as const;

/** Fields of one tcpConnections() record. */
export const CONNECTION = {
  family: 0,
  /** TCP_STATE */
  state: 1,
  localPort: 2,
  remotePort: 3,
  inode: 4,
  /** the kernel's socket cookie (64 bits as two words): unique while the network namespace lives */
  cookieHi: 5,
  cookieLo: 6,
  /** bytes received, not yet read by the app */
  recvQueue: 7,
  /** bytes written by the app, not yet acknowledged by the peer (unsent ones included) */
  sendQueue: 8,
  /** bytes of tcp_info the kernel gave; 0 when none (request sockets): the fields below are 0 then */
  infoLength: 9,
  bytesReceived: 10,
  bytesAcked: 11,
  /** Linux >= 4.19, else 0 */
  bytesSent: 12,
  /** ms since data was last received (or since the connection was made, when none was) */
  msSinceDataReceived: 13,
  /** ms since data was last sent (or since the connection was made, when none was) */
  msSinceDataSent: 14,
  msSinceAckReceived: 15,
  /** segments sent and not acknowledged */
  unacked: 16,
  /** bytes not sent yet (Linux >= 4.6) */
  notSent: 17,
  dataSegmentsIn: 18,
  /** remote address: 4 words in host byte order, IPv4 in the first */
  remoteAddress: 19,
  fields: 23,
} as const;

/** TCP states as the kernel numbers them. tcpConnections() reports all but LISTEN, TIME_WAIT, CLOSE. */
export const TCP_STATE = {
  established: 1,
  synSent: 2,
  synRecv: 3,
  finWait1: 4,
  finWait2: 5,
  timeWait: 6,
  close: 7,
  closeWait: 8,
  lastAck: 9,
  listen: 10,
  closing: 11,
  newSynRecv: 12,
} as const;

/**
 * Every call fills whole records into `out` and returns how many it found; records past `out`'s
 * capacity are counted but not written (grow the array and call again). A negative result is -errno.
 */
export interface NativeSockDiag {
  /** LISTEN TCP sockets of this network namespace, IPv4 and IPv6 (netlink sock_diag, no /proc) */
  tcpListeners(out: Float64Array): number;
  /** non-listening TCP sockets (SYN_RECV to LAST_ACK, not TIME_WAIT) whose local port is in `ports` */
  tcpConnections(ports: Uint16Array, out: Float64Array): number;
  /** the inodes of the sockets among /proc/<pid>/fd, one per element of `out` */
  socketInodes(pid: number, out: Float64Array): number;
}

/** The loaded addon has the traffic functions (an older reaper.node given with --reaper-path may not). */
export function hasSockDiag(addon: unknown): addon is NativeSockDiag {
  const a = addon as Partial<Record<keyof NativeSockDiag, unknown>> | null;
  return (
    typeof a === 'object' &&
    a !== null &&
    typeof a.tcpListeners === 'function' &&
    typeof a.tcpConnections === 'function' &&
    typeof a.socketInodes === 'function'
  );
}
