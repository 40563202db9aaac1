// Typed wrapper over the native traffic calls: reusable buffers that grow, errno numbers named.
import { getSystemErrorName } from 'node:util';
import { formatAddress, type ConnectionTable } from './connection-table.js';
import { CONNECTION, LISTENER, hasSockDiag, type NativeSockDiag } from './native-api.js';

export type DiagResult<T> = { ok: true; value: T } | { ok: false; error: DiagError };

export interface DiagError {
  /** errno name, e.g. "EACCES" */
  code: string;
  /** what was asked: "sock_diag" or "/proc/<pid>/fd" */
  what: string;
}

export interface Listener {
  family: 4 | 6;
  port: number;
  inode: number;
  address: string;
  acceptQueue: number;
  backlog: number;
}

function errorName(negErrno: number): string {
  try {
    return getSystemErrorName(negErrno);
  } catch {
    return `errno ${-negErrno}`;
  }
}

/** Holds one growing Float64Array for one kind of record. */
class RecordBuffer {
  data: Float64Array;
  constructor(
    private readonly fields: number,
    initialRecords: number,
  ) {
    this.data = new Float64Array(fields * initialRecords);
  }
  /** Runs `call` until every record fitted; returns the count or -errno. */
  fill(call: (out: Float64Array) => number): number {
    for (let attempt = 0; ; attempt++) {
      const n = call(this.data);
      if (n < 0 || n * this.fields <= this.data.length || attempt === 3) {
        return Math.min(n, this.data.length / this.fields);
      }
      // sockets come and go between two calls: leave room
      this.data = new Float64Array(this.fields * Math.ceil(n * 1.25 + 64));
    }
  }
}

export class SockDiag {
  private readonly listenerBuf = new RecordBuffer(LISTENER.fields, 64);
  // grows with the connections there are (by a quarter and 64 more): 1,024 at the start held 188 KiB
  private readonly connectionBuf = new RecordBuffer(CONNECTION.fields, 64);
  private readonly inodeBuf = new RecordBuffer(1, 256);
  private portsKey = '';
  private portsArray = new Uint16Array(0);

  constructor(private readonly native: NativeSockDiag) {}

  /** Listening TCP sockets of the network namespace. */
  listeners(): DiagResult<Listener[]> {
    const n = this.listenerBuf.fill((out) => this.native.tcpListeners(out));
    if (n < 0) return { ok: false, error: { code: errorName(n), what: 'sock_diag' } };
    const d = this.listenerBuf.data;
    const list: Listener[] = [];
    for (let i = 0; i < n; i++) {
      const r = i * LISTENER.fields;
      const family = d[r + LISTENER.family] === 6 ? 6 : 4;
      list.push({
        family,
        port: d[r + LISTENER.port] ?? 0,
        inode: d[r + LISTENER.inode] ?? 0,
        address: formatAddress(family, d, r + LISTENER.address),
        acceptQueue: d[r + LISTENER.acceptQueue] ?? 0,
        backlog: d[r + LISTENER.backlog] ?? 0,
      });
    }
    return { ok: true, value: list };
  }

  /**
   * Inbound connections: every non-listening socket whose local port is in `ports`.
   * The table is a view on a buffer that the next call reuses.
   */
  connections(ports: readonly number[]): DiagResult<ConnectionTable> {
    const key = ports.join(',');
    if (key !== this.portsKey) {
      this.portsKey = key;
      this.portsArray = Uint16Array.from(new Set(ports.filter((p) => Number.isInteger(p) && p > 0 && p < 65536)));
    }
    const portsArray = this.portsArray;
    const n = this.connectionBuf.fill((out) => this.native.tcpConnections(portsArray, out));
    if (n < 0) return { ok: false, error: { code: errorName(n), what: 'sock_diag' } };
    return { ok: true, value: { count: n, data: this.connectionBuf.data } };
  }

  /** Inodes of the sockets process `pid` holds (needs /proc and the right to read its fds). */
  socketInodes(pid: number): DiagResult<number[]> {
    const n = this.inodeBuf.fill((out) => this.native.socketInodes(pid, out));
    if (n < 0) return { ok: false, error: { code: errorName(n), what: `/proc/${pid}/fd` } };
    return { ok: true, value: Array.from(this.inodeBuf.data.subarray(0, n)) };
  }
}

/** The wrapper, when the loaded addon has the traffic functions. */
export function sockDiagFrom(addon: unknown): SockDiag | null {
  return hasSockDiag(addon) ? new SockDiag(addon) : null;
}
