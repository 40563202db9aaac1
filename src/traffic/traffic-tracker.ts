// Fed successive readings of the inbound connections, tells when new inbound traffic last arrived
// and how many connections are busy. Pure: no sockets, no clock; the caller gives the times.
import { connectionField, connectionKey, type ConnectionTable } from './connection-table.js';
import { bytesOutOf, connectionBusy, requestPending, type ConnectionMemory } from './connection-activity.js';
import { CONNECTION } from './native-api.js';

export interface TrafficCounts {
  /** inbound connections seen in the last reading */
  connections: number;
  /** busy: a request in flight or data not delivered (see connection-activity.ts) */
  active: number;
  idle: number;
}

export interface TrafficObservation extends TrafficCounts {
  /** the time of this reading (caller's clock, ms) */
  at: number;
  /** when new inbound traffic (a connection, request bytes) last arrived; null while none was seen */
  lastInboundAt: number | null;
  /** connections first seen in this reading */
  newConnections: number;
}

interface Remembered extends ConnectionMemory {
  generation: number;
}

export class TrafficTracker {
  private readonly memory = new Map<number, Remembered>();
  private generation = 0;
  private previousAt: number | null = null;
  private previousOpens: number | null = null;
  private last: TrafficObservation | null = null;
  private inboundAt: number | null = null;
  private unknownSince: number | null = null;

  /** The last observation, null before the first. */
  get latest(): TrafficObservation | null {
    return this.last;
  }

  /** When new inbound traffic last arrived (a failed reading counts as traffic); null while none was seen. */
  get lastInboundAt(): number | null {
    return this.inboundAt;
  }

  /** Every inbound connection is idle, as of the last reading (false after a failed reading). */
  get allIdle(): boolean {
    return this.unknownSince === null && this.last !== null && this.last.active === 0;
  }

  /**
   * One reading of the inbound connections at time `at` (ms, monotonic).
   * `passiveOpens`: optional counter of connections accepted in the network namespace (TCP
   * PassiveOpens minus the ones known not to be the app's); a connection that opened and closed
   * between two readings shows up only there, as traffic at `opensChangedAt` (when the counter was
   * last seen to grow; default `at`).
   */
  observe(table: ConnectionTable, at: number, passiveOpens?: number | null, opensChangedAt?: number, ignore?: (index: number) => boolean): TrafficObservation {
    const first = this.previousAt === null;
    const since = this.previousAt ?? Number.NEGATIVE_INFINITY;
    const generation = ++this.generation;
    let active = 0;
    let newConnections = 0;
    let explainedOpens = 0;
    let latest = Number.NEGATIVE_INFINITY;
    let ignored = 0;

    for (let i = 0; i < table.count; i++) {
      if (ignore?.(i)) {
        ignored++;
        continue;
      }
      const key = connectionKey(table, i);
      const prev = this.memory.get(key);
      const hasInfo = connectionField(table, i, CONNECTION.infoLength) > 0;
      const bytesIn = connectionField(table, i, CONNECTION.bytesReceived);
      // when the data came, bounded by the two readings (the kernel counts in ms since)
      const arrived = hasInfo
        ? Math.min(at, Math.max(since, at - connectionField(table, i, CONNECTION.msSinceDataReceived)))
        : at;
      if (prev === undefined) {
        newConnections++;
        if (hasInfo) explainedOpens++; // a request socket (no tcp_info) is not counted as opened yet
        latest = Math.max(latest, arrived);
      } else if (bytesIn > prev.bytesIn) {
        latest = Math.max(latest, arrived);
      }

      const pending = requestPending(prev, table, i);
      if (connectionBusy(table, i, pending)) active++;
      if (prev === undefined) {
        this.memory.set(key, { bytesIn, bytesOut: bytesOutOf(table, i), requestPending: pending, generation });
      } else {
        prev.bytesIn = bytesIn;
        prev.bytesOut = bytesOutOf(table, i);
        prev.requestPending = pending;
        prev.generation = generation;
      }
    }
    if (this.memory.size > table.count - ignored) {
      for (const [key, m] of this.memory) if (m.generation !== generation) this.memory.delete(key);
    }

    if (passiveOpens !== undefined && passiveOpens !== null) {
      if (this.previousOpens !== null && passiveOpens - this.previousOpens > explainedOpens) {
        latest = Math.max(latest, Math.min(at, Math.max(since, opensChangedAt ?? at)));
      }
      this.previousOpens = passiveOpens;
    }
    if (latest > Number.NEGATIVE_INFINITY) this.inboundAt = Math.max(this.inboundAt ?? latest, latest);
    this.previousAt = at;
    this.unknownSince = null;
    this.last = {
      at,
      connections: table.count - ignored,
      active,
      idle: table.count - ignored - active,
      lastInboundAt: this.inboundAt,
      newConnections: first ? 0 : newConnections,
    };
    return this.last;
  }

  /**
   * Nothing can have changed since the last reading (the namespace's TCP counters did not move):
   * the last observation holds at `at` too, without a dump.
   */
  unchanged(at: number): TrafficObservation | null {
    if (this.last === null || this.unknownSince !== null) return null;
    this.previousAt = at;
    this.last = { ...this.last, at, newConnections: 0 };
    return this.last;
  }

  /** A reading failed at `at`: what happened is unknown, so it counts as traffic and as busy. */
  unknown(at: number): void {
    this.unknownSince ??= at;
    this.inboundAt = Math.max(this.inboundAt ?? at, at);
  }
}
