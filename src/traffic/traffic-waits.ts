// The two waits of the shutdown, on a running TrafficMonitor: drain until quiet (--drain-quiet,
// --drain-min, --drain-delay as the maximum) and wait until idle (--wait-idle).
import { monotonicMs, sleepFor } from '../clock.js';
import { decideDrain, decideWaitIdle, type DrainEnd, type DrainQuietSettings, type IdleEnd } from './drain-decision.js';
import type { TrafficMonitor } from './traffic-monitor.js';

export interface WaitOptions {
  /** ends the wait early (a second stop signal, the deadline): the verdict is then "aborted" */
  signal?: AbortSignal;
}

/**
 * Resolves when the drain may end: no new inbound traffic for `quietMs`, not before `minMs`, at
 * the latest after `maxMs` (all from `startedAt`). Looks again exactly when the quiet time could
 * be over, so while traffic keeps coming it costs about one connection dump per `quietMs`.
 */
export async function drainUntilQuiet(
  monitor: TrafficMonitor,
  settings: DrainQuietSettings,
  startedAt: number,
  opts: WaitOptions = {},
): Promise<DrainEnd> {
  for (;;) {
    if (opts.signal?.aborted) return { done: true, reason: 'aborted', elapsedMs: monotonicMs() - startedAt };
    monitor.pollNow();
    const verdict = decideDrain(settings, startedAt, monotonicMs(), monitor.tracker.lastInboundAt);
    if (verdict.done) return verdict;
    await sleepFor(Math.max(10, verdict.recheckInMs), opts.signal);
  }
}

/**
 * Resolves when every inbound connection is idle (in a reading taken after `startedAt`), or
 * after `maxMs`. Polls every `pollMs` (default 100), slower when a dump is costly: a dump then
 * uses at most `cpuShare` (default 5 %) of a core during this bounded wait.
 */
export async function waitUntilIdle(
  monitor: TrafficMonitor,
  maxMs: number,
  startedAt: number,
  opts: WaitOptions & { pollMs?: number; cpuShare?: number } = {},
): Promise<IdleEnd> {
  const pollMs = opts.pollMs ?? 100;
  const share = opts.cpuShare ?? 0.05;
  for (;;) {
    if (opts.signal?.aborted) return { done: true, reason: 'aborted', elapsedMs: monotonicMs() - startedAt };
    const obs = monitor.pollNow();
    const fresh = obs !== null && obs.at >= startedAt && monitor.lastError === null;
    const verdict = decideWaitIdle(maxMs, startedAt, monotonicMs(), fresh ? obs.active : null);
    if (verdict.done) return verdict;
    const wait = Math.max(pollMs, monitor.stats.lastDumpCpuMs / share);
    await sleepFor(Math.min(wait, verdict.recheckInMs), opts.signal);
  }
}
