import { formatDuration } from './cli/duration.js';
import type { Options } from './cli/options.js';
import { shortName } from './signals.js';

export interface ShutdownPlan {
  stopSignals: ReadonlySet<NodeJS.Signals>;
  /** fixed stop signal, or null to send the one received (after --rewrite) */
  stopSignal: NodeJS.Signals | null;
  rewrite: ReadonlyMap<NodeJS.Signals, NodeJS.Signals | null>;
  drainMs: number;
  preStop: readonly string[];
  /** per command; null means bounded only by the deadline */
  preStopTimeoutMs: number | null;
  /** after the pre-stop commands, how long the app may take to exit by itself before the stop signal */
  preStopWaitMs: number;
  /** from the first stop signal to SIGKILL of the app and its tree */
  killAfterMs: number;
  gracePeriodMs: number;
  orphanGraceMs: number;
  warnings: string[];
}

export function planShutdown(options: Options): ShutdownPlan {
  const killAfterMs = options.killAfterMs ?? Math.max(0, options.gracePeriodMs - options.killMarginMs);
  const plan: ShutdownPlan = {
    stopSignals: new Set(options.stopSignals),
    stopSignal: options.stopSignal,
    rewrite: options.rewrite,
    drainMs: options.drainDelayMs,
    preStop: options.preStop,
    preStopTimeoutMs: options.preStopTimeoutMs,
    preStopWaitMs: options.preStop.length > 0 ? options.preStopWaitMs : 0,
    killAfterMs,
    gracePeriodMs: options.gracePeriodMs,
    orphanGraceMs: options.orphanGraceMs,
    warnings: [],
  };
  plan.warnings = fitWarnings(plan);
  return plan;
}

/** The latest moment the stop step can come, when every pre-stop command uses its whole timeout. */
export function latestStopMs(plan: ShutdownPlan): number | null {
  if (plan.preStop.length > 0 && plan.preStopTimeoutMs === null) return null;
  return Math.min(plan.killAfterMs, plan.drainMs + plan.preStop.length * (plan.preStopTimeoutMs ?? 0) + plan.preStopWaitMs);
}

function fitWarnings(plan: ShutdownPlan): string[] {
  const warnings: string[] = [];
  if (plan.killAfterMs >= plan.gracePeriodMs) {
    warnings.push(
      `the kill deadline (${formatDuration(plan.killAfterMs)}) is not before the grace period ` +
        `(${formatDuration(plan.gracePeriodMs)}): the kubelet's SIGKILL comes first and nothing is logged`,
    );
  }
  if (plan.drainMs >= plan.killAfterMs) {
    warnings.push(
      `the drain delay (${formatDuration(plan.drainMs)}) uses up the time before the kill deadline ` +
        `(${formatDuration(plan.killAfterMs)}): the app is killed without a stop signal`,
    );
  } else {
    const stop = latestStopMs(plan);
    const left = stop === null ? null : plan.killAfterMs - stop;
    if (left !== null && left < 2000) {
      warnings.push(
        `drain + pre-stop can take ${formatDuration(stop ?? 0)}, leaving the app ${formatDuration(Math.max(0, left))} ` +
          `after its stop signal before the kill at ${formatDuration(plan.killAfterMs)}`,
      );
    }
    if (stop === null) {
      warnings.push('pre-stop commands have no --pre-stop-timeout: a hanging one delays the stop signal until the deadline');
    }
  }
  return warnings;
}

/** `--check`: the timeline as the init will run it. */
export function describePlan(plan: ShutdownPlan): string[] {
  const at = (ms: number) => `t=${formatDuration(ms)}`.padEnd(9);
  const signals = [...plan.stopSignals].map(shortName).join(', ');
  const stopSignal = plan.stopSignal ? shortName(plan.stopSignal) : 'the signal received (after --rewrite)';
  const lines = [`${at(0)} a stop signal arrives (${signals}): /readyz turns 503`];
  if (plan.drainMs > 0) lines.push(`${at(0)} drain for ${formatDuration(plan.drainMs)}: the app keeps serving`);
  plan.preStop.forEach((command, i) => {
    const timeout = plan.preStopTimeoutMs === null ? 'until the deadline' : `at most ${formatDuration(plan.preStopTimeoutMs)}`;
    lines.push(`${i === 0 ? at(plan.drainMs) : ''.padEnd(9)} pre-stop ${i + 1}: ${command} (${timeout})`);
  });
  if (plan.preStopWaitMs > 0) {
    lines.push(`${''.padEnd(9)} then up to ${formatDuration(plan.preStopWaitMs)} for the app to exit by itself`);
  }
  const stop = latestStopMs(plan);
  const stopAt = plan.preStop.length === 0 ? at(plan.drainMs) : `${'t<='.concat(stop === null ? formatDuration(plan.killAfterMs) : formatDuration(stop))}`.padEnd(9);
  lines.push(`${stopAt} stop: ${stopSignal} to the app`);
  lines.push(`${at(plan.killAfterMs)} deadline: SIGKILL to the app and every process left`);
  lines.push(`${at(plan.gracePeriodMs)} the kubelet's SIGKILL (grace period)`);
  lines.push(`after the app exits: TERM to what it left behind, KILL after ${formatDuration(plan.orphanGraceMs)}`);
  return lines;
}

export function rewriteSignal(plan: ShutdownPlan, signal: NodeJS.Signals): NodeJS.Signals | null {
  return plan.rewrite.has(signal) ? (plan.rewrite.get(signal) ?? null) : signal;
}
