// Polls the app's inbound connections into a TrafficTracker: the piece the lifecycle starts.
import { performance } from 'node:perf_hooks';
import { startPoller, type Poller } from './poller.js';
import type { DiagError, SockDiag } from './sock-diag.js';
import { TrafficTracker, type TrafficObservation } from './traffic-tracker.js';

export interface TrafficMonitorOptions {
  diag: SockDiag;
  /** the ports to watch, asked at every poll (keep it cheap: see cachedAppPorts) */
  ports: () => readonly number[];
  /** default 100 */
  intervalMs?: number;
  /** ms, monotonic; default performance.now */
  clock?: () => number;
  /** the namespace's accepted-connection counter (readPassiveOpens), null when unknown; default: none */
  passiveOpens?: () => number | null;
  /** a poll failed (called when the error changes, not at every poll) */
  onError?: (error: DiagError) => void;
}

export interface TrafficMonitor {
  readonly tracker: TrafficTracker;
  /** the failure of the last poll, null when it worked */
  readonly lastError: DiagError | null;
  /** poll right now (also what the timer does); never throws */
  pollNow(): TrafficObservation | null;
  /** `listener` gets every observation; returns the unsubscribe function */
  subscribe(listener: (obs: TrafficObservation) => void): () => void;
  stop(): void;
}

export function startTrafficMonitor(opts: TrafficMonitorOptions): TrafficMonitor {
  const clock = opts.clock ?? (() => performance.now());
  const tracker = new TrafficTracker();
  const listeners = new Set<(obs: TrafficObservation) => void>();
  let lastError: DiagError | null = null;

  const fail = (error: DiagError): null => {
    tracker.unknown(clock());
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

  const pollNow = (): TrafficObservation | null => {
    try {
      const ports = opts.ports();
      const opens = opts.passiveOpens?.() ?? null;
      const table = ports.length > 0 ? opts.diag.connections(ports) : { ok: true as const, value: { count: 0, data: new Float64Array(0) } };
      if (!table.ok) return fail(table.error);
      const obs = tracker.observe(table.value, clock(), opens);
      lastError = null;
      for (const l of listeners) {
        try {
          l(obs);
        } catch {
          // one broken subscriber must not starve the others
        }
      }
      return obs;
    } catch (err) {
      return fail({ code: (err as { code?: string } | null)?.code ?? 'EUNKNOWN', what: String(err) });
    }
  };

  const poller: Poller = startPoller(pollNow, { intervalMs: opts.intervalMs ?? 100 });
  return {
    tracker,
    get lastError() {
      return lastError;
    },
    pollNow,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () => poller.stop(),
  };
}
