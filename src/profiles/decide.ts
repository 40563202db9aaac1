// What the table means for a given configuration: whether the stop step uses a server's graceful
// stop, what a configuration that contradicts the table is warned about, the line that names the
// server. Pure.
import type { Options } from '../cli/options.js';
import { formatDuration } from '../cli/duration.js';
import { planShutdown } from '../plan.js';
import { shortName as name } from '../signals.js';
import { profileByName, type ServerProfile } from './table.js';

export type ProfileInputs = Pick<
  Options,
  'profile' | 'stopSignal' | 'stopSignals' | 'stopSignalsGiven' | 'preStop' | 'rewrite' | 'drainDelayMs' | 'waitIdleMs' | 'statusAddr'
>;

/** --profile: recognise the app (auto), never (none), or use this server's entry whatever the app is. */
export type ProfileSetting = 'auto' | 'none' | ServerProfile;

export function profileSetting(value: string): ProfileSetting {
  if (value === 'auto' || value === 'none') return value;
  const profile = profileByName(value);
  if (!profile) throw new Error(`--profile ${value}: not a known server`);
  return profile;
}

/**
 * The stop step uses the server's graceful stop unless the user said what to send: --stop-signal,
 * --pre-stop (the command stops the app; the signal is only the fallback at the stop window), or a
 * --rewrite of the signal received.
 */
export function tableDecidesStop(o: ProfileInputs, received: NodeJS.Signals | null): boolean {
  return o.profile !== 'none' && o.stopSignal === null && o.preStop.length === 0 && !(received !== null && o.rewrite.has(received));
}

/** Something that a stop signal would start: without it, a forwarded QUIT bypasses nothing. */
export function sequenceConfigured(o: ProfileInputs): boolean {
  return o.drainDelayMs > 0 || o.preStop.length > 0 || o.waitIdleMs !== null || o.statusAddr !== null;
}

/**
 * The server's image declares this signal as its STOPSIGNAL (QUIT for nginx:*), so `docker stop`
 * and the kubelet send it: it starts the shutdown like TERM, unless --stop-signals was given.
 */
export function imageStopStarts(o: ProfileInputs, server: ServerProfile | null, signal: NodeJS.Signals): boolean {
  return o.profile !== 'none' && !o.stopSignalsGiven && server?.imageStopSignal === signal && !o.stopSignals.includes(signal);
}

/** A forwarded signal that stops the app (or, for an app not recognised, QUIT, the usual image STOPSIGNAL). */
export function looksLikeStop(server: ServerProfile | null, signal: NodeJS.Signals): boolean {
  const effect = server?.signals[signal]?.effect;
  return effect === undefined ? signal === 'SIGQUIT' && server === null : effect !== 'no stop';
}

/**
 * The options with what the server's entry adds to them: for a server whose stop does not wait for
 * the requests in flight (PHP-FPM's QUIT in its default configuration), the wait for them before
 * the stop step (--wait-idle), leaving it --stop-timeout before the deadline.
 */
export function withServerDefaults(options: Options, server: ServerProfile | null): Options {
  if (!server?.waitForIdle || options.waitIdleMs !== null || !tableDecidesStop(options, null)) return options;
  const plan = planShutdown(options);
  return { ...options, waitIdleMs: Math.max(0, plan.killAfterMs - plan.stopWindowAtMs - options.stopTimeoutMs) };
}

const cite = (server: ServerProfile) => `${name(server.stop)} (${server.source})`;

/** What the user configured that the table says will not stop the server gracefully. */
export function contradictions(o: ProfileInputs, server: ServerProfile | null): string[] {
  if (!server || o.profile === 'none') return [];
  const sent: [string, NodeJS.Signals][] = [];
  if (o.stopSignal !== null) sent.push([`--stop-signal ${name(o.stopSignal)}`, o.stopSignal]);
  else for (const [from, to] of o.rewrite) if (to !== null && o.stopSignals.includes(from)) sent.push([`--rewrite ${name(from)}:${name(to)}`, to]);
  const warnings: string[] = [];
  for (const [setting, signal] of sent) {
    const meaning = server.signals[signal];
    if (meaning?.effect === 'no stop') {
      warnings.push(`${setting}: ${name(signal)} does not stop ${server.title} (it ${meaning.says}); its stop is ${cite(server)}`);
    } else if (meaning?.effect === 'fast' && o.preStop.length === 0) {
      warnings.push(`${setting}: ${name(signal)} is ${server.title}'s ${meaning.says} and no --pre-stop stops it first: requests in flight are cut; its graceful stop is ${cite(server)}`);
    }
  }
  return warnings;
}

/** The one line that names the server and what the stop step will send. */
export function detectionLine(o: ProfileInputs, server: ServerProfile, how: string): string {
  const forced = o.profile !== 'auto';
  const found = `${forced ? `--profile ${server.name}` : `${server.title} recognised ${how}`}`;
  const joins = imageStopStarts(o, server, server.imageStopSignal ?? 'SIGTERM')
    ? `; ${name(server.imageStopSignal ?? 'SIGTERM')}, its image's STOPSIGNAL, starts the shutdown too`
    : '';
  const quiet = server.quiet ? `${name(server.quiet)} when the shutdown starts, then ` : '';
  const wait = server.waitForIdle && o.waitIdleMs !== null ? `waits up to ${formatDuration(o.waitIdleMs)} for the requests in flight, then ` : '';
  const needs = server.needs ? `; ${server.needs}` : '';
  if (tableDecidesStop(o, null)) {
    return `${found}: the stop step ${wait}sends ${quiet}${name(server.stop)}, its graceful stop (${server.source})${needs}${joins}`;
  }
  const configured = o.stopSignal !== null ? `--stop-signal ${name(o.stopSignal)}` : 'the signal received, after the pre-stop commands';
  return `${found}: the stop step sends ${configured} as configured; its graceful stop is ${cite(server)}${joins}`;
}
