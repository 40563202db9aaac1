import { formatDuration } from './cli/duration.js';
import type { Options } from './cli/options.js';

/** Options → the shutdown timeline, in ms from the first stop signal. Pure. */
export interface ShutdownPlan {
  stopSignals: ReadonlySet<NodeJS.Signals>;
  /** fixed stop signal, or null to send the one received (after --rewrite) */
  stopSignal: NodeJS.Signals | null;
  rewrite: ReadonlyMap<NodeJS.Signals, NodeJS.Signals | null>;
  /** the drain, or its maximum with drainQuietMs */
  drainMs: number;
  drainQuietMs: number | null;
  drainMinMs: number;
  /** before the stop signal, the longest wait for requests in flight */
  waitIdleMs: number | null;
  preStop: readonly string[];
  /** per command; null: bounded by the stop window */
  preStopTimeoutMs: number | null;
  /** after the pre-stop commands, the longest wait before the stop signal; null: until the stop window */
  preStopWaitMs: number | null;
  /**
   * With pre-stop commands the app is left to finish by itself; the stop signal goes out here at the
   * latest, leaving it --stop-timeout before the kill. Without them: right after the drain.
   */
  stopWindowAtMs: number;
  /** SIGKILL of the app and its tree */
  killAfterMs: number;
  gracePeriodMs: number;
  orphanGraceMs: number;
  /** /readyz turns 503 at the first stop signal rather than at the end of the drain */
  unreadyAtSignal: boolean;
  /** contradictory timings, each naming the setting at fault */
  warnings: string[];
}

export function planShutdown(options: Options): ShutdownPlan {
  const killAfterMs = options.killAfterMs ?? Math.max(0, options.gracePeriodMs - options.killMarginMs);
  const hasPreStop = options.preStop.length > 0;
  const plan: ShutdownPlan = {
    stopSignals: new Set(options.stopSignals),
    stopSignal: options.stopSignal,
    rewrite: options.rewrite,
    drainMs: options.drainDelayMs,
    drainQuietMs: options.drainQuietMs,
    drainMinMs: options.drainMinMs,
    waitIdleMs: options.waitIdleMs,
    preStop: options.preStop,
    preStopTimeoutMs: options.preStopTimeoutMs,
    preStopWaitMs: hasPreStop ? options.preStopWaitMs : 0,
    stopWindowAtMs: hasPreStop
      ? Math.min(killAfterMs, Math.max(options.drainDelayMs, killAfterMs - options.stopTimeoutMs))
      : Math.min(killAfterMs, options.drainDelayMs),
    killAfterMs,
    gracePeriodMs: options.gracePeriodMs,
    orphanGraceMs: options.orphanGraceMs,
    unreadyAtSignal: options.unreadyAtSignal,
    warnings: [],
  };
  plan.warnings = fitWarnings(plan, options);
  return plan;
}

function fitWarnings(plan: ShutdownPlan, options: Options): string[] {
  const d = formatDuration;
  const warnings: string[] = [];
  const deadline = options.killAfterMs !== null ? `--kill-after ${d(plan.killAfterMs)}` : `the kill deadline (${d(plan.killAfterMs)})`;
  if (options.killAfterMs !== null && plan.killAfterMs >= plan.gracePeriodMs) {
    warnings.push(`--kill-after ${d(plan.killAfterMs)} is not before --grace-period ${d(plan.gracePeriodMs)}: the kubelet's SIGKILL comes first and nothing is logged`);
  } else if (options.killAfterMs === null && options.killMarginMs >= options.gracePeriodMs) {
    warnings.push(`--kill-margin ${d(options.killMarginMs)} is not shorter than --grace-period ${d(plan.gracePeriodMs)}: the app is killed as soon as a stop signal arrives`);
  } else if (options.killAfterMs === null && options.killMarginMs === 0) {
    warnings.push(`--kill-margin 0 puts the kill deadline on the kubelet's own SIGKILL: nothing is logged`);
  }
  if (plan.killAfterMs > 0 && plan.drainMs >= plan.killAfterMs) {
    warnings.push(`--drain-delay ${d(plan.drainMs)} reaches ${deadline}: the app is killed without a stop signal`);
  } else if (plan.preStop.length > 0 && options.stopTimeoutMs >= plan.killAfterMs - plan.drainMs) {
    warnings.push(`--stop-timeout ${d(options.stopTimeoutMs)} leaves the pre-stop commands no time between the drain (${d(plan.drainMs)}) and ${deadline}`);
  } else if (plan.killAfterMs > 0 && plan.killAfterMs - plan.stopWindowAtMs < 1000) {
    warnings.push(`the app gets only ${d(plan.killAfterMs - plan.stopWindowAtMs)} between its stop signal and ${deadline}`);
  }
  return warnings;
}

export function rewriteSignal(plan: ShutdownPlan, signal: NodeJS.Signals): NodeJS.Signals | null {
  return plan.rewrite.has(signal) ? (plan.rewrite.get(signal) ?? null) : signal;
}

/**
 * The signal the stop step sends: --stop-signal, else the stop signal received (after --rewrite;
 * null when rewritten to 0), TERM for GET /prestop. The one place that chooses it.
 */
export function stopSignalFor(plan: ShutdownPlan, received: NodeJS.Signals | null): NodeJS.Signals | null {
  return plan.stopSignal ?? (received ? rewriteSignal(plan, received) : 'SIGTERM');
}
