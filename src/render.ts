// The words the init prints about its shutdown: the --check timeline and the one summary line.
import { formatDuration as d } from './cli/duration.js';
import { shownPreStop } from './cli/http-action.js';
import { cutText, escapeControl } from './output/bounded-text.js';
import type { Fields } from './log.js';
import type { ShutdownPlan } from './plan.js';
import type { AppExit } from './process/exit-status.js';
import { describeExit } from './process/exit-status.js';
import type { ShutdownRecord } from './shutdown.js';
import { shortName } from './signals.js';

/** A summary line is bounded whatever happened (3,000 pre-stop commands, odd command names). */
const MAX_LINE = 1000;

/** Control characters escaped, length capped: one line on any terminal or log collector. */
export function oneLine(text: string, max = MAX_LINE): string {
  return cutText(escapeControl(text), max);
}

/** What the table of known servers changes in the timeline (src/profiles). */
export interface KnownServerPlan {
  /** what the stop step sends instead of the signal received */
  stop: string | null;
  /** the server's image STOPSIGNAL, a stop signal too */
  alsoStops: readonly NodeJS.Signals[];
}

/** `--check`: the timeline as the init will run it, in time order. */
export function describePlan(plan: ShutdownPlan, server: KnownServerPlan = { stop: null, alsoStops: [] }): string[] {
  const events: [number, string][] = [];
  const add = (ms: number, text: string) => events.push([ms, text]);
  const signals = [...plan.stopSignals, ...server.alsoStops].map(shortName).join(', ');
  const drains = plan.drainMs > 0 && !plan.unreadyAtSignal;
  add(0, `a stop signal arrives (${signals})${drains ? '' : ': /readyz turns 503'}`);
  if (plan.drainMs > 0 && plan.drainQuietMs !== null) {
    const min = plan.drainMinMs > 0 ? `at least ${d(plan.drainMinMs)}, ` : '';
    add(0, `drain until no new request for ${d(plan.drainQuietMs)} (${min}at most ${d(plan.drainMs)}): the app keeps serving${drains ? ', /readyz 200' : ''}`);
  } else if (plan.drainMs > 0) {
    add(0, `drain for ${d(plan.drainMs)}: the app keeps serving${drains ? ', /readyz 200' : ''}`);
  }
  // KEP-1669: a terminating endpoint that is still serving gets traffic when no ready one is left
  if (drains) add(plan.drainMs, `${plan.drainQuietMs !== null ? 'at the latest: ' : ''}the drain ends: /readyz turns 503`);
  const stopSignal = server.stop ?? (plan.stopSignal ? shortName(plan.stopSignal) : 'the signal received (after --rewrite)');
  plan.preStop.forEach((command, i) => {
    const timeout = plan.preStopTimeoutMs === null ? 'until the stop window' : `at most ${d(plan.preStopTimeoutMs)}`;
    add(plan.drainMs, `pre-stop ${i + 1}: ${oneLine(shownPreStop(command), 200)} (${timeout})`);
  });
  if (plan.waitIdleMs !== null) add(plan.stopWindowAtMs, `then up to ${d(plan.waitIdleMs)} until every request in flight is answered`);
  if (plan.preStop.length > 0) {
    const wait = plan.preStopWaitMs === null ? '' : `, ${d(plan.preStopWaitMs)} after the pre-stop commands at most`;
    add(plan.drainMs, `then the app finishes by itself until the stop window${wait}; after a pre-stop that fails, the stop signal at once`);
    add(plan.stopWindowAtMs, `stop (at the latest): ${stopSignal} to the app, if it is still running`);
  } else {
    add(plan.stopWindowAtMs, `stop: ${stopSignal} to the app`);
  }
  add(plan.killAfterMs, 'deadline: SIGKILL to the app and every process left');
  add(plan.gracePeriodMs, "the kubelet's SIGKILL (grace period)");
  const lines = events
    .map(([ms, text], i) => ({ ms, text, i }))
    .sort((a, b) => a.ms - b.ms || a.i - b.i)
    .map(({ ms, text }) => `${`t=${d(ms)}`.padEnd(9)} ${text}`);
  const first = plan.preStop.length > 0 ? `a pre-stop command still running gets ${d(plan.orphanGraceMs)} to finish, then ` : '';
  lines.push(`after the app exits: ${first}TERM to what it left behind, KILL after ${d(plan.orphanGraceMs)}; during a shutdown: the stop signal, KILL at the deadline`);
  return lines;
}

function preStopParts(record: ShutdownRecord): string[] {
  const results = record.preStop;
  if (results.length <= 10) {
    return results.map((p, i) => `pre-stop ${i + 1} ${p.outcome === 'ok' ? 'ok' : `${p.outcome} (${p.detail})`} in ${d(p.durationMs)}`);
  }
  const ok = results.filter((p) => p.outcome === 'ok').length;
  const firstBad = results.findIndex((p) => p.outcome !== 'ok');
  const bad = firstBad === -1 ? '' : `, first not ok: ${firstBad + 1} ${results[firstBad]?.outcome} (${results[firstBad]?.detail})`;
  return [`pre-stop ${results.length} commands: ${ok} ok${bad}`];
}

/** The one line after a shutdown: what each step did and when, how the app ended, the exit status. */
export function summaryLine(record: ShutdownRecord, exit: AppExit, exitAtMs: number, leftovers: string, code: number): string {
  const parts = [`shutdown on ${record.trigger}`];
  if (record.drainMs !== null) parts.push(`drain ${record.drainEnd ?? d(record.drainMs)}`);
  parts.push(...preStopParts(record));
  if (record.preStop.length > 0 && record.stopSent === null && record.killedAtMs === null) parts.push('no stop signal needed');
  if (record.idleEnd) parts.push(`connections ${record.idleEnd}`);
  if (record.stopSent) {
    const whose = record.stopSent.server ? ` (${record.stopSent.server}'s graceful stop)` : '';
    parts.push(`${record.stopSent.signal ?? 'no signal'}${whose} to app at ${d(record.stopSent.atMs)}`);
  }
  if (record.killedAtMs !== null) parts.push(`SIGKILL (deadline) at ${d(record.killedAtMs)}`);
  parts.push(`app ${describeExit(exit)} at ${d(exitAtMs)}`);
  if (leftovers !== 'none') parts.push(`leftovers ${leftovers}`);
  parts.push(`exit ${code}`);
  return oneLine(parts.join(', '));
}

/** At most this many pre-stop results as values in the JSON summary (the counts cover the rest). */
const MAX_PRE_STOP_FIELDS = 10;

/**
 * The summary as values, for the JSON log: what started the shutdown, what each step did and when
 * (ms since the first stop signal), how the app ended, what it left, the init's exit status.
 */
export function summaryFields(record: ShutdownRecord, exit: AppExit, exitAtMs: number, leftovers: string, code: number): Fields {
  const ms = (n: number | null | undefined) => (n === null || n === undefined ? null : Math.round(n));
  return {
    trigger: record.trigger,
    drainMs: ms(record.drainMs),
    drainEnd: record.drainEnd,
    preStop: record.preStop.slice(0, MAX_PRE_STOP_FIELDS).map((p, i) => ({
      index: i + 1,
      command: oneLine(p.command, 100),
      outcome: p.outcome,
      detail: oneLine(p.detail, 100),
      ms: ms(p.durationMs),
    })),
    preStopCount: record.preStop.length,
    preStopFailed: record.preStop.filter((p) => p.outcome !== 'ok').length,
    idleEnd: record.idleEnd,
    stopSignal: record.stopSent ? record.stopSent.signal : null,
    // the known server whose graceful stop it was (src/profiles)
    stopServer: record.stopSent?.server ?? null,
    stopAtMs: ms(record.stopSent?.atMs),
    killedAtMs: ms(record.killedAtMs),
    appExitCode: exit.code,
    appSignal: exit.signal,
    appExitAtMs: ms(exitAtMs),
    leftovers,
    exitCode: code,
  };
}
