// Polls the app's inbound connections into a TrafficTracker: the piece the lifecycle starts.
//
// A dump costs the kernel about a microsecond per socket of the network namespace (10,000
// connections: ~10 ms of CPU), far too much for 10 dumps a second. So every tick reads the
// namespace's TCP counters first (tens of microseconds) and dumps only when they moved since the
// last dump, and the timer's dumps are spaced so that they use at most `cpuBudget` of one core.
// pollNow() (the decision loops, a /metrics scrape) dumps regardless of the budget.
import { monotonicMs } from '../clock.js';
import { startPoller, type Poller } from './poller.js';
import type { ConnectionTable } from './connection-table.js';
import type { DiagError, SockDiag } from './sock-diag.js';
import { readTcpCounters, sameTcpCounters, type TcpCounters } from './tcp-counters.js';
import { TrafficTracker, type TrafficObservation } from './traffic-tracker.js';

export interface TrafficMonitorOptions {
  diag: SockDiag;
  /**
   * The ports to watch, asked at every dump (keep it cheap: see watchAppPorts). `fresh` for
   * pollNow(): a decision is being taken, the ports must be as they are now.
   */
  ports: (fresh: boolean) => readonly number[];
  /** tick, default 100 ms */
  intervalMs?: number;
  /** share of one core the timer's dumps may use, default 0.005 (0.5 %) */
  cpuBudget?: number;
  /** the timer dumps at least this often when the counters move, whatever the budget; default 5000 ms */
  maxSpacingMs?: number;
  /** ms, monotonic; default monotonicMs */
  clock?: () => number;
  /** the namespace's TCP counters; default readTcpCounters (/proc/net/snmp); () => null: dump without them */
  counters?: () => TcpCounters | null;
  /** connections the init accepted itself (its status endpoint): not the app's, taken off PassiveOpens */
  ownAccepts?: () => number;
  /** connections to leave out (the init's own probes of the app): index in the table → true */
  ignore?: (table: ConnectionTable, index: number) => boolean;
  /** a poll failed (called when the error changes, not at every poll) */
  onError?: (error: DiagError) => void;
}

export interface TrafficMonitorStats {
  /** connection dumps done */
  dumps: number;
  /** ticks that needed no dump: the TCP counters had not moved */
  unchanged: number;
  /** ticks whose dump waited for the CPU budget */
  deferred: number;
  /** CPU time (user + system) of the last dump with its tracking, ms */
  lastDumpCpuMs: number;
}

export interface TrafficMonitor {
  readonly tracker: TrafficTracker;
  /** the failure of the last poll, null when it worked */
  readonly lastError: DiagError | null;
  readonly stats: Readonly<TrafficMonitorStats>;
  /**
   * A reading now, on the ports as they are now, whatever the budget (no dump when neither the TCP
   * counters nor the ports have changed); null when it failed or no port of the app is known (the
   * tracker then counts it as traffic and busy: unknown is never idle). Never throws.
   */
  pollNow(): TrafficObservation | null;
  /** `listener` gets every observation; returns the unsubscribe function */
  subscribe(listener: (obs: TrafficObservation) => void): () => void;
  stop(): void;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

export function startTrafficMonitor(opts: TrafficMonitorOptions): TrafficMonitor {
  const clock = opts.clock ?? (monotonicMs);
  const readCounters = opts.counters ?? (() => readTcpCounters());
  const budget = opts.cpuBudget ?? 0.005;
  const tracker = new TrafficTracker();
  const listeners = new Set<(obs: TrafficObservation) => void>();
  const stats: TrafficMonitorStats = { dumps: 0, unchanged: 0, deferred: 0, lastDumpCpuMs: 0 };
  let lastError: DiagError | null = null;
  let countersAtDump: TcpCounters | null = null;
  let portsAtDump = '';
  let lastOpens: number | null = null;
  let opensChangedAt: number | undefined;
  let nextDumpAt = Number.NEGATIVE_INFINITY;
  // the cheapest of the last dumps: the first one of a process is several times dearer (cold code, buffers growing)
  const recentCosts: number[] = [];

  const fail = (error: DiagError): null => {
    tracker.unknown(clock());
    countersAtDump = null;
    if (lastError?.code !== error.code || lastError.what !== error.what) {
      try {
        opts.onError?.(error);
      } catch {
        // the reporter's problem, not the poll's
      }
    }
    lastError = error;
    return null;
  };

  const publish = (obs: TrafficObservation): TrafficObservation => {
    for (const l of listeners) {
      try {
        l(obs);
      } catch {
        // one broken subscriber must not starve the others
      }
    }
    return obs;
  };

  const poll = (force: boolean): TrafficObservation | null => {
    try {
      const now = clock();
      const counters = readCounters();
      if (counters !== null) {
        if (lastOpens !== null && counters.passiveOpens > lastOpens) opensChangedAt = now;
        lastOpens = counters.passiveOpens;
      }
      const fresh = force ? opts.ports(true) : null;
      if (fresh !== null && fresh.length === 0) {
        // nothing to look at is not "idle" nor "quiet": the app may be about to listen, or listening already
        tracker.unknown(now);
        countersAtDump = null;
        return null;
      }
      const portsMoved = fresh !== null && fresh.join() !== portsAtDump;
      if (lastError === null && !portsMoved && sameTcpCounters(counters, countersAtDump)) {
        const same = tracker.unchanged(now);
        if (same) {
          stats.unchanged++;
          return publish(same);
        }
      }
      if (!force && now < nextDumpAt) {
        stats.deferred++;
        return null;
      }
      const cpu = process.cpuUsage();
      const ports = fresh ?? opts.ports(false);
      // while the app's ports are not known yet, any accepted connection counts: a drain ends late, never early
      const opens = counters === null ? null : counters.passiveOpens - (opts.ownAccepts?.() ?? 0);
      let obs: TrafficObservation;
      if (ports.length === 0) {
        obs = tracker.observe({ count: 0, data: new Float64Array(0) }, now, opens, opensChangedAt);
      } else {
        const table = opts.diag.connections(ports);
        if (!table.ok) return fail(table.error);
        // the kernel's "ms since" are as of the dump's end: date the reading after it
        const ignore = opts.ignore;
        obs = tracker.observe(table.value, clock(), opens, opensChangedAt, ignore && ((i) => ignore(table.value, i)));
      }
      stats.dumps++;
      stats.lastDumpCpuMs = cpuMsSince(cpu);
      recentCosts.push(stats.lastDumpCpuMs);
      if (recentCosts.length > 3) recentCosts.shift();
      nextDumpAt = now + Math.min(opts.maxSpacingMs ?? 5000, Math.min(...recentCosts) / budget);
      countersAtDump = counters;
      portsAtDump = ports.join();
      lastError = null;
      return publish(obs);
    } catch (err) {
      return fail({ code: (err as { code?: string } | null)?.code ?? 'EUNKNOWN', what: String(err) });
    }
  };

  const poller: Poller = startPoller(() => poll(false), { intervalMs: opts.intervalMs ?? 100 });
  return {
    tracker,
    get lastError() {
      return lastError;
    },
    stats,
    pollNow: () => poll(true),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () => poller.stop(),
  };
}
