import { parseDuration } from './duration.js';
import { FORWARDED_SIGNALS, parseCatchableSignal, parseSignal, shortName } from '../signals.js';
import { parseHttpAction } from './http-action.js';
import { shellSyntaxIn, splitCommand } from './split-command.js';
import { PROFILE_MODES, SERVERS, profileByName } from '../profiles/table.js';

export type LogFormat = 'text' | 'json';
export type Verbosity = 'quiet' | 'normal' | 'verbose';

export interface Options {
  help: boolean;
  version: boolean;
  check: boolean;
  verbosity: Verbosity;
  logFormat: LogFormat;
  remapExit: number[];
  subreaper: boolean;
  processGroup: boolean;
  /** tini -w: a warning for each process reaped that is not the app */
  warnOnReap: boolean;
  license: boolean;
  pdeathSignal: NodeJS.Signals | null;
  requireReaper: boolean;
  reaperPath: string | null;
  stopSignals: NodeJS.Signals[];
  /** --stop-signals was given: an image's STOPSIGNAL does not join them (src/profiles) */
  stopSignalsGiven: boolean;
  /** auto, none or a server's name in src/profiles/table.ts */
  profile: string;
  stopSignal: NodeJS.Signals | null;
  rewrite: Map<NodeJS.Signals, NodeJS.Signals | null>;
  drainDelayMs: number;
  preStop: string[];
  preStopTimeoutMs: number | null;
  /** after the pre-stop commands, at most this long before the stop signal; null: until the stop window */
  preStopWaitMs: number | null;
  /** the app's time between the stop signal and the kill deadline, when pre-stop commands ran */
  stopTimeoutMs: number;
  /** soft RLIMIT_NOFILE for the app; null: what the init has */
  appNofile: number | null;
  killAfterMs: number | null;
  gracePeriodMs: number;
  killMarginMs: number;
  orphanGraceMs: number;
  /** host '': every interface (Go's `:8081`) */
  statusAddr: { host: string; port: number } | null;
  /** the file whose token GET /prestop must carry; null: /prestop is off */
  prestopTokenFile: string | null;
  /** be the client: GET /prestop from the init running here (the exec form of the preStop hook) */
  sendPrestop: boolean;
  /** the drain ends once the app's ports have been quiet this long (--drain-delay is the maximum) */
  drainQuietMs: number | null;
  drainMinMs: number;
  /** before the stop signal, wait at most this long for every inbound connection to be idle */
  waitIdleMs: number | null;
  /** the app's ports; null: found from the sockets its processes hold */
  ports: number[] | null;
  readyCheck: ReadyCheck | null;
  /** /readyz turns 503 at the first stop signal, not when the drain ends */
  unreadyAtSignal: boolean;
}

/** What /readyz asks besides "no shutdown has started". */
export type ReadyCheck = { kind: 'listening' } | { kind: 'tcp'; port: number } | { kind: 'http'; host: string; port: number; path: string };

export function defaultOptions(): Options {
  return {
    help: false,
    version: false,
    check: false,
    verbosity: 'normal',
    logFormat: 'text',
    remapExit: [],
    subreaper: false,
    processGroup: false,
    warnOnReap: false,
    license: false,
    pdeathSignal: null,
    requireReaper: false,
    reaperPath: null,
    stopSignals: ['SIGTERM', 'SIGINT'],
    stopSignalsGiven: false,
    profile: 'auto',
    stopSignal: null,
    rewrite: new Map(),
    drainDelayMs: 0,
    preStop: [],
    preStopTimeoutMs: null,
    preStopWaitMs: null,
    stopTimeoutMs: 5_000,
    appNofile: null,
    killAfterMs: null,
    gracePeriodMs: 30_000,
    killMarginMs: 2_000,
    orphanGraceMs: 1_000,
    statusAddr: null,
    prestopTokenFile: null,
    sendPrestop: false,
    drainQuietMs: null,
    drainMinMs: 0,
    waitIdleMs: null,
    ports: null,
    readyCheck: null,
    unreadyAtSignal: false,
  };
}

/**
 * One row per option. `set` receives the raw text (or `true` for a flag) and throws an Error whose
 * message says what is wrong and how to write it. `list` options take several values: repeated on the
 * command line, or separated in the environment variable by `envSeparator`.
 */
export interface OptionSpec {
  long: string;
  short?: string;
  /** name of the value in --help; absent for flags */
  value?: string;
  list?: { envSeparator: ',' | '\n'; reset(opts: Options): void };
  help: string;
  /** shown in --help and the README */
  defaultText?: string;
  section: 'general' | 'process' | 'shutdown' | 'traffic';
  /** only typed by hand: a variable in a manifest must never turn the init into a printer */
  commandLineOnly?: true;
  set(opts: Options, raw: string | true): void;
  /** Given, but doing nothing with the other settings: why, and what to write (a warning at start and in --check). */
  unused?(opts: Options): string | null;
}

/** The variable that sets the option; --help, --version, --license and --check have none. */
export function envName(spec: OptionSpec): string | null {
  if (spec.commandLineOnly) return null;
  return `GRACEFUL_INIT_${spec.long.toUpperCase().replaceAll('-', '_')}`;
}

const flag = (apply: (o: Options) => void) => (opts: Options, raw: string | true) => {
  if (raw !== true) throw new Error(`takes no value`);
  apply(opts);
};

type DurationKey = { [K in keyof Options]: Options[K] extends number | null ? K : never }[keyof Options];

/** The setter of every duration option: parse `500ms`, `2s`, `1m` or seconds into `key`. */
const duration = (key: DurationKey) => (opts: Options, raw: string | true) => {
  opts[key] = parseDuration(String(raw));
};

function preStopCommand(raw: string): string {
  if (parseHttpAction(raw) !== null) return raw; // METHOD http://...: an HTTP request, not a command
  try {
    splitCommand(raw);
  } catch (err) {
    throw new Error(`"${raw}" cannot be run: ${(err as Error).message}; quote it like a shell command line`, { cause: err });
  }
  const syntax = shellSyntaxIn(raw);
  if (syntax !== null) {
    const quoted = `'${raw.trim().replaceAll("'", `'\\''`)}'`;
    throw new Error(`"${raw}" uses shell syntax (${syntax}), but pre-stop commands run without a shell; write sh -c ${quoted}`);
  }
  return raw;
}

function count(raw: string, max: number): number {
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || n > max) throw new Error(`"${raw}" is not a number from 0 to ${max}`);
  return n;
}

function exitCode(raw: string): number {
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || n > 255) throw new Error(`"${raw}" is not an exit code; write a number from 0 to 255`);
  return n;
}

function rewriteRule(raw: string): [NodeJS.Signals, NodeJS.Signals | null] {
  const [from, to, extra] = raw.split(':');
  if (from === undefined || to === undefined || extra !== undefined || from === '' || to === '') {
    throw new Error(`"${raw}" is not a rewrite rule; write it like TERM:QUIT (or USR1:0 to drop USR1)`);
  }
  const source = parseCatchableSignal(from);
  return [source, to.trim() === '0' ? null : signalForApp(raw, to, `forward ${shortName(source)} itself (drop this rule)`)];
}

/** A signal the init sends the app: never KILL (only the deadline kills) nor STOP (it would freeze the app). */
function signalForApp(raw: string, name: string, instead: string): NodeJS.Signals {
  const signal = parseSignal(name);
  if (signal === 'SIGKILL') throw new Error(`"${raw}": only the kill deadline sends SIGKILL; to kill sooner, shorten it with --kill-after DUR`);
  if (signal === 'SIGSTOP') throw new Error(`"${raw}": SIGSTOP would freeze the app with nobody to resume it; ${instead}`);
  return signal;
}

/** Why a signal cannot start the shutdown; the ones that can are those the init forwards. */
function stopSignal(raw: string): NodeJS.Signals {
  const name = parseCatchableSignal(raw);
  if (FORWARDED_SIGNALS.includes(name)) return name;
  const why = name === 'SIGCHLD' ? 'tells the init that a process exited' : 'is never taken from outside (the init ignores it or keeps it for faults)';
  throw new Error(`"${raw}": ${name} ${why} and cannot start the shutdown; name a signal the engine sends, such as TERM, INT, QUIT or HUP`);
}

/**
 * HOST:PORT; `:PORT` is every interface, as in Go and the Kubernetes docs (the kubelet's probes come
 * from the node); a bare PORT is 127.0.0.1 only.
 */
export function parseStatusAddr(raw: string): { host: string; port: number } {
  const text = raw.trim();
  const bare = /^(\d+)$/.exec(text);
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]*)):(\d+)$/.exec(text);
  const port = Number((bare ?? match)?.[bare ? 1 : 3]);
  if ((!bare && !match) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`"${raw}" is not an address; write it like :8081 (every interface), 127.0.0.1:8081 or 8081 (127.0.0.1)`);
  }
  return { host: bare ? '127.0.0.1' : (match?.[1] ?? match?.[2] ?? ''), port };
}

/** How a status address is written back: `:8081` for every interface, `[::1]:8081` for IPv6. */
export function formatStatusAddr(addr: { host: string; port: number }): string {
  return `${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;
}

function port(raw: string): number {
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || n < 1 || n > 65535) throw new Error(`"${raw}" is not a port; write a number from 1 to 65535`);
  return n;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function parseReadyCheck(raw: string): ReadyCheck {
  const text = raw.trim();
  if (text === 'listening') return { kind: 'listening' };
  if (text.startsWith('tcp:')) return { kind: 'tcp', port: port(text.slice(4)) };
  const url = /^http:\/\/([^/:]+|\[::1\]):(\d+)(\/[^\s]*)?$/.exec(text);
  if (url) {
    if (!LOOPBACK.has(url[1] as string)) throw new Error(`"${raw}": the check runs inside the pod; use 127.0.0.1, localhost or [::1]`);
    return { kind: 'http', host: url[1] === '[::1]' ? '::1' : (url[1] as string), port: port(url[2] as string), path: url[3] ?? '/' };
  }
  throw new Error(`"${raw}" is not a ready check; write listening, tcp:8080 or http://127.0.0.1:8080/health`);
}

/** Settings that only fail together; checked once all are read. */
export function checkCombination(o: Options): void {
  if (o.drainQuietMs !== null && o.drainDelayMs === 0) {
    throw new Error('--drain-quiet needs --drain-delay DUR, the longest the drain may take');
  }
  if (o.drainMinMs > o.drainDelayMs && o.drainQuietMs !== null) {
    throw new Error(`--drain-min must not be longer than --drain-delay`);
  }
}

function profileName(raw: string): string {
  const word = raw.trim().toLowerCase();
  if ((PROFILE_MODES as readonly string[]).includes(word)) return word;
  const profile = profileByName(word);
  if (!profile) throw new Error(`"${raw}" is not auto, none or a known server (${SERVERS.map((s) => s.name).join(', ')})`);
  return profile.name;
}

function oneOf<T extends string>(raw: string, allowed: readonly T[]): T {
  const value = raw.trim().toLowerCase();
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`"${raw}" is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** The options that look at the app's TCP traffic. */
export function wantsTraffic(options: Options): boolean {
  return options.drainQuietMs !== null || options.waitIdleMs !== null || options.readyCheck?.kind === 'listening' || options.statusAddr !== null;
}

/** Pre-stop actions are configured: the options that shape that step have something to act on. */
export function hasPreStop(o: Options): boolean {
  return o.preStop.length > 0;
}

const needsPreStop = (long: string) => (o: Options) => (hasPreStop(o) ? null : `--${long} does nothing without --pre-stop CMD`);

export const OPTION_TABLE: readonly OptionSpec[] = [
  { long: 'help', short: 'h', section: 'general', commandLineOnly: true, help: 'show this help and exit', set: flag((o) => (o.help = true)) },
  { long: 'version', short: 'V', section: 'general', commandLineOnly: true, help: 'print the version, the form (single executable, bundle, npm) and its Node.js version', set: flag((o) => (o.version = true)) },
  { long: 'license', short: 'l', section: 'general', commandLineOnly: true, help: 'print the license and exit', set: flag((o) => (o.license = true)) },
  { long: 'verbose', short: 'v', section: 'general', defaultText: 'off', help: 'log what the init does (spawn, every forwarded signal, each step, exit) to stderr', set: flag((o) => (o.verbosity = 'verbose')) },
  { long: 'quiet', short: 'q', section: 'general', defaultText: 'off', help: 'print nothing but fatal errors', set: flag((o) => (o.verbosity = 'quiet')) },
  {
    long: 'log-format', value: 'FORMAT', section: 'general', defaultText: 'text',
    help: 'text, or json: every line the init writes is one JSON object',
    set: (o, raw) => { o.logFormat = oneOf(String(raw), ['text', 'json'] as const); },
  },
  {
    long: 'remap-exit', short: 'e', value: 'CODE', list: { envSeparator: ',', reset: (o) => (o.remapExit = []) }, section: 'process',
    help: "treat the app's exit status CODE as 0 (143 for Java); repeatable, or a list: 143,130",
    set: (o, raw) => { o.remapExit.push(exitCode(String(raw))); },
  },
  {
    long: 'subreaper', short: 's', section: 'process', defaultText: 'off',
    help: 'when not PID 1, exit 1 if the child-subreaper registration is refused (it is tried anyway)',
    set: flag((o) => (o.subreaper = true)),
  },
  { long: 'process-group', short: 'g', section: 'process', defaultText: 'off', help: "run the app in its own process group and send every signal to the whole group (dumb-init's default)", set: flag((o) => (o.processGroup = true)) },
  {
    long: 'single-child', short: 'c', section: 'process', defaultText: 'on',
    help: "signals go to the app alone, not to its process group (dumb-init's -c); the opposite of -g",
    set: flag((o) => (o.processGroup = false)),
  },
  {
    long: 'pdeath-signal', short: 'p', value: 'SIG', section: 'process',
    help: 'have the kernel send SIG to the init when its parent dies (handled like any received signal)',
    set: (o, raw) => { o.pdeathSignal = parseSignal(String(raw)); },
  },
  { long: 'warn-on-reap', short: 'w', section: 'process', defaultText: 'off', help: 'a warning for each process reaped that is not the app', set: flag((o) => (o.warnOnReap = true)) },
  {
    long: 'app-nofile', value: 'N', section: 'process', defaultText: "the init's",
    help: "the app's soft open-files limit (Node raised the init's to the hard limit at start)",
    set: (o, raw) => { o.appNofile = count(String(raw), 2 ** 31 - 1); },
  },
  { long: 'require-reaper', section: 'process', defaultText: 'off', help: 'not PID 1: exit 1 instead of running on when the native zombie reaper cannot be loaded (PID 1 always does)', set: flag((o) => (o.requireReaper = true)) },
  {
    long: 'reaper-path', value: 'FILE', section: 'process',
    help: 'load the native reaper from FILE first (it is embedded, so this is rarely needed)',
    set: (o, raw) => { o.reaperPath = String(raw); },
  },
  {
    long: 'stop-signals', value: 'LIST', section: 'shutdown', defaultText: 'TERM,INT',
    help: 'comma-separated signals that start the shutdown sequence (others are forwarded)',
    set: (o, raw) => {
      o.stopSignals = String(raw).split(',').filter((s) => s.trim() !== '').map(stopSignal);
      o.stopSignalsGiven = true;
      if (o.stopSignals.length === 0) throw new Error('needs at least one signal, like TERM');
    },
  },
  {
    long: 'stop-signal', value: 'SIG', section: 'shutdown', defaultText: 'the signal received',
    help: 'signal sent to the app in the stop step',
    set: (o, raw) => { o.stopSignal = signalForApp(String(raw), String(raw), 'name the signal the app stops on, such as TERM, QUIT or INT'); },
  },
  {
    long: 'profile', value: 'NAME', section: 'shutdown', defaultText: 'auto',
    help: 'auto: a known server (nginx, apache, php-fpm, ...) gets its graceful stop in the stop step; none: plain forwarding; or a server name',
    set: (o, raw) => { o.profile = profileName(String(raw)); },
  },
  {
    long: 'rewrite', short: 'r', value: 'FROM:TO', list: { envSeparator: ',', reset: (o) => (o.rewrite = new Map()) }, section: 'shutdown',
    help: 'forward TO instead of FROM (names or numbers, 15:3 as dumb-init; TO 0 drops FROM); repeatable',
    set: (o, raw) => { const [from, to] = rewriteRule(String(raw)); o.rewrite.set(from, to); },
  },
  {
    long: 'drain-delay', value: 'DUR', section: 'shutdown', defaultText: '0',
    help: 'after the stop signal, keep the app serving this long while load balancers catch up',
    set: duration('drainDelayMs'),
  },
  {
    long: 'pre-stop', value: 'CMD', list: { envSeparator: '\n', reset: (o) => (o.preStop = []) }, section: 'shutdown',
    help: "run CMD after the drain; split like a shell, run without one (for pipes, &&, $VAR: sh -c '...'), or send an HTTP request on loopback: POST http://127.0.0.1:PORT/PATH; repeatable, in order",
    set: (o, raw) => { o.preStop.push(preStopCommand(String(raw))); },
  },
  {
    long: 'pre-stop-timeout', value: 'DUR', section: 'shutdown', defaultText: 'until the stop window',
    help: 'kill a pre-stop command (and its process group) that runs longer than DUR',
    set: duration('preStopTimeoutMs'),
    unused: needsPreStop('pre-stop-timeout'),
  },
  {
    long: 'pre-stop-wait', value: 'DUR', section: 'shutdown', defaultText: 'until the stop window',
    help: 'after the pre-stop commands, send the stop signal after at most DUR (0: at once)',
    set: duration('preStopWaitMs'),
    unused: needsPreStop('pre-stop-wait'),
  },
  {
    long: 'stop-timeout', value: 'DUR', section: 'shutdown', defaultText: '5s',
    help: 'after pre-stop commands the app finishes by itself; its stop signal comes DUR before the kill deadline at the latest (the stop window)',
    set: duration('stopTimeoutMs'),
    unused: needsPreStop('stop-timeout'),
  },
  {
    long: 'kill-after', value: 'DUR', section: 'shutdown', defaultText: 'grace period - margin',
    help: 'SIGKILL the app and its tree DUR after the first stop signal (the kill deadline)',
    set: duration('killAfterMs'),
  },
  {
    long: 'grace-period', value: 'DUR', section: 'shutdown', defaultText: '30s',
    help: "the pod's terminationGracePeriodSeconds, preStop hook included",
    set: duration('gracePeriodMs'),
  },
  {
    long: 'kill-margin', value: 'DUR', section: 'shutdown', defaultText: '2s',
    help: "how long before the kubelet's SIGKILL the init kills the app",
    set: duration('killMarginMs'),
    unused: (o) => (o.killAfterMs !== null ? '--kill-margin does nothing with --kill-after, which sets the kill deadline itself' : null),
  },
  {
    long: 'orphan-grace', value: 'DUR', section: 'shutdown', defaultText: '1s',
    help: 'after the app exits by itself, how long the processes it left get after TERM before KILL (and a pre-stop command still running, to finish first); during a shutdown they get until the deadline',
    set: duration('orphanGraceMs'),
  },
  {
    long: 'status-addr', value: 'HOST:PORT', section: 'shutdown', defaultText: 'off',
    help: 'serve /healthz, /readyz, /metrics (and /prestop, with --prestop-token-file) over HTTP; :PORT listens on every interface (as in Go), a bare PORT on 127.0.0.1',
    set: (o, raw) => { o.statusAddr = parseStatusAddr(String(raw)); },
  },
  {
    long: 'prestop-token-file', value: 'FILE', section: 'shutdown', defaultText: 'off',
    help: 'GET /prestop starts the shutdown only with the header Authorization: Bearer <the token in FILE>; without it /prestop is off',
    set: (o, raw) => { o.prestopTokenFile = String(raw); },
    unused: (o) => (o.statusAddr === null && !o.sendPrestop ? '--prestop-token-file does nothing without --status-addr HOST:PORT, which serves /prestop' : null),
  },
  {
    long: 'send-prestop', section: 'shutdown', commandLineOnly: true,
    help: "be the preStop exec hook: GET /prestop from the init in this container (its --status-addr and --prestop-token-file, from the environment) and wait until its app has exited",
    set: flag((o) => (o.sendPrestop = true)),
  },
  {
    long: 'drain-quiet', value: 'DUR', section: 'traffic', defaultText: 'off',
    help: "end the drain once no new request has reached the app's ports for DUR (--drain-delay: the maximum); off: a fixed drain",
    // off: turns off what an image's ENV set (the recipes drain adaptively)
    set: (o, raw) => { o.drainQuietMs = String(raw).trim() === 'off' ? null : parseDuration(String(raw)); },
  },
  {
    long: 'drain-min', value: 'DUR', section: 'traffic', defaultText: '0',
    help: 'with --drain-quiet, drain at least this long',
    set: duration('drainMinMs'),
    unused: (o) => (o.drainQuietMs === null ? '--drain-min does nothing without --drain-quiet DUR (a fixed drain lasts --drain-delay)' : null),
  },
  {
    long: 'wait-idle', value: 'DUR', section: 'traffic', defaultText: 'off',
    help: 'before the stop signal, wait at most DUR until every request in flight has been answered',
    set: duration('waitIdleMs'),
  },
  {
    long: 'ports', value: 'LIST', section: 'traffic', defaultText: 'the ports the app listens on',
    help: "comma-separated ports whose traffic counts as the app's",
    set: (o, raw) => { o.ports = String(raw).split(',').filter((p) => p.trim() !== '').map(port); },
    unused: (o) => (wantsTraffic(o) ? null : '--ports does nothing without --drain-quiet, --wait-idle, --ready-check listening or --status-addr'),
  },
  {
    long: 'ready-check', value: 'SPEC', section: 'traffic', defaultText: 'off',
    help: '/readyz is 200 only while this passes: listening, tcp:PORT or http://127.0.0.1:PORT/PATH',
    set: (o, raw) => { o.readyCheck = parseReadyCheck(String(raw)); },
    unused: (o) => (o.statusAddr === null ? '--ready-check does nothing without --status-addr HOST:PORT, which serves /readyz' : null),
  },
  {
    long: 'unready-at-signal', section: 'traffic', defaultText: 'off',
    help: '/readyz turns 503 at the first stop signal, not when the drain ends (for load balancers that check /readyz themselves)',
    set: flag((o) => (o.unreadyAtSignal = true)),
    unused: (o) => (o.statusAddr === null ? '--unready-at-signal does nothing without --status-addr HOST:PORT, which serves /readyz' : null),
  },
  {
    long: 'check', section: 'shutdown', commandLineOnly: true,
    help: 'print the planned shutdown timeline for these options and exit; exit 1 if it prints a warning',
    set: flag((o) => (o.check = true)),
  },
];

/** Options given that do nothing with the others: one warning each. */
export function unusedOptionWarnings(o: Options, givenLongs: ReadonlySet<string>): string[] {
  return OPTION_TABLE.filter((spec) => givenLongs.has(spec.long))
    .map((spec) => spec.unused?.(o) ?? null)
    .filter((w): w is string => w !== null);
}

/** Options that contradict each other when given together (in one place: both on the command line, or both in the environment). */
export function contradictions(givenLongs: ReadonlySet<string>): string | null {
  if (givenLongs.has('single-child') && givenLongs.has('process-group')) {
    return '-c (--single-child) and -g (--process-group) contradict each other; keep one';
  }
  return null;
}
