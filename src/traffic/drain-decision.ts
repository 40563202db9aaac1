// When --drain-quiet and --wait-idle end. Pure: times in ms on one monotonic clock.

export interface DrainQuietSettings {
  /** --drain-quiet: end once no new inbound traffic arrived for this long */
  quietMs: number;
  /** --drain-min: never end before */
  minMs: number;
  /** --drain-delay: never last longer */
  maxMs: number;
}

export type DrainVerdict =
  | { done: false; /** when deciding again can change the answer */ recheckInMs: number }
  | { done: true; reason: 'quiet'; /** how long it had been quiet */ quietMs: number; elapsedMs: number }
  | { done: true; reason: 'maximum'; elapsedMs: number }
  | { done: true; reason: 'aborted'; elapsedMs: number };

export type DrainEnd = Extract<DrainVerdict, { done: true }>;

/**
 * `lastInboundAt`: when new inbound traffic last arrived (TrafficTracker / TrafficMonitor), null
 * when none was seen. Traffic from before the drain started does not shorten it.
 */
export function decideDrain(
  settings: DrainQuietSettings,
  startedAt: number,
  now: number,
  lastInboundAt: number | null,
): DrainVerdict {
  const elapsedMs = Math.max(0, now - startedAt);
  const quietSince = Math.max(startedAt, lastInboundAt ?? startedAt);
  const quietMs = Math.max(0, now - quietSince);
  if (quietMs >= settings.quietMs && elapsedMs >= settings.minMs) {
    return { done: true, reason: 'quiet', quietMs, elapsedMs };
  }
  if (elapsedMs >= settings.maxMs) return { done: true, reason: 'maximum', elapsedMs };
  const untilQuiet = Math.max(settings.quietMs - quietMs, settings.minMs - elapsedMs);
  return { done: false, recheckInMs: Math.max(0, Math.min(untilQuiet, settings.maxMs - elapsedMs)) };
}

export type IdleVerdict =
  | { done: false; recheckInMs: number }
  | { done: true; reason: 'idle'; elapsedMs: number }
  | { done: true; reason: 'timeout'; elapsedMs: number; /** busy connections left, null when unknown */ active: number | null }
  | { done: true; reason: 'aborted'; elapsedMs: number };

export type IdleEnd = Extract<IdleVerdict, { done: true }>;

/**
 * --wait-idle: done once every inbound connection is idle, or after `maxMs`.
 * `active`: busy inbound connections in a reading taken at or after `startedAt`; null when
 * unknown (no such reading yet, or it failed).
 */
export function decideWaitIdle(maxMs: number, startedAt: number, now: number, active: number | null): IdleVerdict {
  const elapsedMs = Math.max(0, now - startedAt);
  if (active === 0) return { done: true, reason: 'idle', elapsedMs };
  if (elapsedMs >= maxMs) return { done: true, reason: 'timeout', elapsedMs, active };
  return { done: false, recheckInMs: maxMs - elapsedMs };
}

/** "1.2s", "250ms" */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${(Math.round(ms / 100) / 10).toString()}s`;
}

/** For the summary: "quiet for 1s after 3.2s" / "maximum reached (20s)". */
export function describeDrainEnd(verdict: DrainVerdict): string {
  if (!verdict.done) return 'draining';
  if (verdict.reason === 'quiet') return `quiet for ${formatMs(verdict.quietMs)} after ${formatMs(verdict.elapsedMs)}`;
  if (verdict.reason === 'aborted') return `cut short after ${formatMs(verdict.elapsedMs)}`;
  return `maximum reached (${formatMs(verdict.elapsedMs)})`;
}

/** For the summary: "idle after 1.4s" / "still 3 busy after 30s". */
export function describeWaitIdleEnd(verdict: IdleVerdict): string {
  if (!verdict.done) return 'waiting';
  if (verdict.reason === 'idle') return `idle after ${formatMs(verdict.elapsedMs)}`;
  if (verdict.reason === 'aborted') return `cut short after ${formatMs(verdict.elapsedMs)}`;
  const left = verdict.active === null ? 'activity unknown' : `still ${verdict.active} busy`;
  return `${left} after ${formatMs(verdict.elapsedMs)}`;
}
