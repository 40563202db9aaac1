// The table at work in a running init: the server is looked up in /proc at the moment it matters
// (a signal arriving, the stop step), so that /docker-entrypoint.sh having exec'd nginx is nginx.
import type { Logger } from '../log.js';
import type { KnownServerPlan } from '../render.js';
import { shortName } from '../signals.js';
import type { Options } from '../cli/options.js';
import { contradictions, detectionLine, imageStopStarts, looksLikeStop, profileSetting, sequenceConfigured, tableDecidesStop, withServerDefaults, type ProfileInputs, type ProfileSetting } from './decide.js';
import { findServer, procReader, type FoundServer, type ProcReader } from './proc.js';
import { recogniseCommand } from './recognise.js';
import type { ServerProfile } from './table.js';

/** What the stop step sends and where: `pid` null means the app (or its group with -g). */
export interface StopChoice {
  signal: NodeJS.Signals | null;
  pid: number | null;
  /** set when the table chose the signal */
  server: ServerProfile | null;
}

export class KnownServer {
  /** the server the command line names (prediction: the app may still be its entrypoint script) */
  readonly named: ServerProfile | null;
  /** the options with what the server's entry adds to them (a wait for the requests in flight) */
  readonly options: Options;
  private readonly o: ProfileInputs;
  private readonly setting: ProfileSetting;
  /** the signals the native handler leaves to JavaScript (see watched()) */
  private readonly decidedLater: readonly NodeJS.Signals[];
  private warnedForward = false;

  constructor(
    options: Options,
    command: readonly string[],
    private readonly log: Logger,
    private readonly reader: ProcReader = procReader(),
  ) {
    this.setting = profileSetting(options.profile);
    this.named = this.setting === 'none' ? null : this.setting === 'auto' ? recogniseCommand(command) : this.setting;
    this.options = this.o = withServerDefaults(options, this.named);
    const signals = new Set<NodeJS.Signals>(['SIGQUIT']);
    if (this.named?.imageStopSignal) signals.add(this.named.imageStopSignal);
    this.decidedLater = [...signals].filter((s) => !this.o.stopSignals.includes(s));
  }

  /**
   * The server as it is now: the app or, behind a shell, its child; with --profile NAME that
   * server whatever the app is; from the command line where /proc cannot tell.
   */
  find(appPid: number): FoundServer | null {
    const setting = this.setting;
    if (setting === 'none') return null;
    const seen = findServer(appPid, this.reader);
    if (setting !== 'auto') return { profile: setting, pid: seen?.profile === setting ? seen.pid : appPid };
    if (seen) return seen;
    return this.reader.view(appPid) === null && this.named ? { profile: this.named, pid: appPid } : null;
  }

  /**
   * Signals the native handler must leave to JavaScript, which decides when they arrive: QUIT (the
   * STOPSIGNAL of the nginx and PHP-FPM images) and the image's stop signal of the server named.
   */
  watched(): readonly NodeJS.Signals[] {
    return this.decidedLater;
  }

  /** The image's STOPSIGNAL of the server running now starts the shutdown like TERM. */
  startsShutdown(signal: NodeJS.Signals, appPid: number): boolean {
    if (!this.watched().includes(signal)) return false;
    return imageStopStarts(this.o, this.find(appPid)?.profile ?? null, signal);
  }

  /** A forwarded signal that stops the app while a shutdown sequence is configured: said once. */
  forwarded(signal: NodeJS.Signals, appPid: number): void {
    if (this.warnedForward || !sequenceConfigured(this.o) || !this.watched().includes(signal)) return;
    const server = this.find(appPid)?.profile ?? null;
    if (!looksLikeStop(server, signal)) return;
    this.warnedForward = true;
    const what = server?.signals[signal] ? `${server.title}'s ${server.signals[signal]?.says}` : 'a stop signal for many servers';
    const fix = this.o.stopSignalsGiven ? `add ${shortName(signal)} to --stop-signals` : `add it to --stop-signals (or run with --profile auto)`;
    this.log.warn(
      `forwarded ${signal} to the app as it is (${what}): it is not a stop signal here, so no drain, pre-stop or deadline runs for it; if it is the image's STOPSIGNAL, ${fix} or restate STOPSIGNAL SIGTERM`,
    );
  }

  /** The stop step: the user's choice when they made one, else the server's graceful stop. */
  stop(appPid: number, received: NodeJS.Signals | null, planned: NodeJS.Signals | null): StopChoice {
    const found = tableDecidesStop(this.o, received) ? this.find(appPid) : null;
    if (!found) return { signal: planned, pid: null, server: null };
    return { signal: found.profile.stop, pid: found.pid === appPid ? null : found.pid, server: found.profile };
  }

  /** Sidekiq's TSTP when the sequence starts: what the server is told so that it takes no new work. */
  quiet(appPid: number): { signal: NodeJS.Signals; pid: number | null } | null {
    const found = tableDecidesStop(this.o, null) ? this.find(appPid) : null;
    return found?.profile.quiet ? { signal: found.profile.quiet, pid: found.pid === appPid ? null : found.pid } : null;
  }

  /** For the --check timeline: the stop step's signal and the extra stop signal, from the command line. */
  planned(): KnownServerPlan {
    const server = this.named;
    if (!server) return { stop: null, alsoStops: [] };
    const imageStop = server.imageStopSignal;
    return {
      stop: tableDecidesStop(this.o, null) ? `${shortName(server.stop)} (${server.title}'s graceful stop)` : null,
      alsoStops: imageStop && imageStopStarts(this.o, server, imageStop) ? [imageStop] : [],
    };
  }

  /** The lines at start (-v for the server, always for contradictions) and in --check: from the command line. */
  startLines(): { detected: string | null; warnings: string[] } {
    if (!this.named) return { detected: null, warnings: [] };
    return { detected: detectionLine(this.o, this.named, 'from the command line'), warnings: contradictions(this.o, this.named) };
  }
}
