import { parseDuration } from './duration.js';
import { parseCatchableSignal, parseSignal } from '../signals.js';
import { splitCommand } from './split-command.js';

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
  pdeathSignal: NodeJS.Signals | null;
  requireReaper: boolean;
  reaperPath: string | null;
  stopSignals: NodeJS.Signals[];
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
  statusAddr: { host: string; port: number } | null;
  /** the drain ends once the app's ports have been quiet this long (--drain-delay is the maximum) */
  drainQuietMs: number | null;
  drainMinMs: number;
  /** before the stop signal, wait at most this long for every inbound connection to be idle */
  waitIdleMs: number | null;
  /** the app's ports; null: found from the sockets its processes hold */
  ports: number[] | null;
  readyCheck: ReadyCheck | null;
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
    pdeathSignal: null,
    requireReaper: false,
    reaperPath: null,
    stopSignals: ['SIGTERM', 'SIGINT'],
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
    drainQuietMs: null,
    drainMinMs: 0,
    waitIdleMs: null,
    ports: null,
    readyCheck: null,
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
  set(opts: Options, raw: string | true): void;
}

/** Options that only make sense typed by hand: a variable in a manifest must never turn the init into a printer. */
const COMMAND_LINE_ONLY = new Set(['help', 'version', 'check']);

/** The variable that sets the option; --help, --version and --check have none. */
export function envName(spec: OptionSpec): string | null {
  if (COMMAND_LINE_ONLY.has(spec.long)) return null;
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
  try {
    splitCommand(raw);
  } catch (err) {
    throw new Error(`"${raw}" cannot be run: ${(err as Error).message}; quote it like a shell command line`, { cause: err });
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
  return [parseCatchableSignal(from), to.trim() === '0' ? null : parseSignal(to)];
}

export function parseStatusAddr(raw: string): { host: string; port: number } {
  const text = raw.trim();
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`"${raw}" is not an address; write it like 8081, 127.0.0.1:8081 or 0.0.0.0:8081`);
  }
  return { host: match[1] || match[2] || '127.0.0.1', port };
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

function oneOf<T extends string>(raw: string, allowed: readonly T[]): T {
  const value = raw.trim().toLowerCase();
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`"${raw}" is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export const OPTION_TABLE: readonly OptionSpec[] = [
  { long: 'help', short: 'h', section: 'general', help: 'show this help and exit', set: flag((o) => (o.help = true)) },
  { long: 'version', short: 'V', section: 'general', help: 'print the version and the embedded Node.js version', set: flag((o) => (o.version = true)) },
  { long: 'verbose', short: 'v', section: 'general', help: 'log what the init does (spawn, every forwarded signal, exit) to stderr', set: flag((o) => (o.verbosity = 'verbose')) },
  { long: 'quiet', short: 'q', section: 'general', help: 'print nothing but fatal errors', set: flag((o) => (o.verbosity = 'quiet')) },
  {
    long: 'log-format', value: 'FORMAT', section: 'general', defaultText: 'text',
    help: 'text or json (one object a line)',
    set: (o, raw) => { o.logFormat = oneOf(String(raw), ['text', 'json'] as const); },
  },
  {
    long: 'remap-exit', short: 'e', value: 'CODE', list: { envSeparator: ',', reset: (o) => (o.remapExit = []) }, section: 'process',
    help: 'treat exit status CODE of the app as 0 (e.g. 143 for Java); repeatable',
    set: (o, raw) => { o.remapExit.push(exitCode(String(raw))); },
  },
  { long: 'subreaper', short: 's', section: 'process', help: 'require the child-subreaper registration when not PID 1 (tried anyway by default): exit 1 if refused', set: flag((o) => (o.subreaper = true)) },
  { long: 'process-group', short: 'g', section: 'process', help: 'run the app in its own process group and send every signal to the whole group', set: flag((o) => (o.processGroup = true)) },
  {
    long: 'pdeath-signal', short: 'p', value: 'SIG', section: 'process',
    help: 'have the kernel send SIG to the init when its parent dies (handled like any received signal)',
    set: (o, raw) => { o.pdeathSignal = parseSignal(String(raw)); },
  },
  {
    long: 'app-nofile', value: 'N', section: 'process', defaultText: "the init's",
    help: "the app's soft open-files limit (Node raised the init's to the hard limit at start)",
    set: (o, raw) => { o.appNofile = count(String(raw), 2 ** 31 - 1); },
  },
  { long: 'require-reaper', section: 'process', help: 'exit 1 instead of running on when the native zombie reaper cannot be loaded', set: flag((o) => (o.requireReaper = true)) },
  {
    long: 'reaper-path', value: 'FILE', section: 'process',
    help: 'load the native reaper from FILE first (it is embedded, so this is rarely needed)',
    set: (o, raw) => { o.reaperPath = String(raw); },
  },
  {
    long: 'stop-signals', value: 'LIST', section: 'shutdown', defaultText: 'TERM,INT',
    help: 'comma-separated signals that start the shutdown sequence (others are forwarded)',
    set: (o, raw) => {
      o.stopSignals = String(raw).split(',').filter((s) => s.trim() !== '').map(parseCatchableSignal);
      if (o.stopSignals.length === 0) throw new Error('needs at least one signal, like TERM');
    },
  },
  {
    long: 'stop-signal', value: 'SIG', section: 'shutdown', defaultText: 'the signal received',
    help: 'signal sent to the app in the stop step',
    set: (o, raw) => { o.stopSignal = parseCatchableSignal(String(raw)); },
  },
  {
    long: 'rewrite', value: 'FROM:TO', list: { envSeparator: ',', reset: (o) => (o.rewrite = new Map()) }, section: 'shutdown',
    help: 'send TO instead of FROM whenever FROM is forwarded (TO 0 drops it); repeatable',
    set: (o, raw) => { const [from, to] = rewriteRule(String(raw)); o.rewrite.set(from, to); },
  },
  {
    long: 'drain-delay', value: 'DUR', section: 'shutdown', defaultText: '0',
    help: 'after the stop signal, keep the app serving this long while load balancers catch up',
    set: duration('drainDelayMs'),
  },
  {
    long: 'pre-stop', value: 'CMD', list: { envSeparator: '\n', reset: (o) => (o.preStop = []) }, section: 'shutdown',
    help: 'run CMD (split like a shell, run without one) after the drain; repeatable, in order',
    set: (o, raw) => { o.preStop.push(preStopCommand(String(raw))); },
  },
  {
    long: 'pre-stop-timeout', value: 'DUR', section: 'shutdown', defaultText: 'up to the deadline',
    help: 'kill a pre-stop command that runs longer than DUR',
    set: duration('preStopTimeoutMs'),
  },
  {
    long: 'pre-stop-wait', value: 'DUR', section: 'shutdown', defaultText: 'until the stop window',
    help: 'after the pre-stop commands, send the stop signal after at most DUR (0: at once)',
    set: duration('preStopWaitMs'),
  },
  {
    long: 'stop-timeout', value: 'DUR', section: 'shutdown', defaultText: '5s',
    help: 'after pre-stop commands the app finishes by itself; the stop signal comes DUR before the kill deadline',
    set: duration('stopTimeoutMs'),
  },
  {
    long: 'kill-after', value: 'DUR', section: 'shutdown', defaultText: 'grace period - margin',
    help: 'SIGKILL the app and its tree DUR after the first stop signal',
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
  },
  {
    long: 'orphan-grace', value: 'DUR', section: 'shutdown', defaultText: '1s',
    help: 'after the app exits, how long the processes it left get after TERM before KILL (and a pre-stop command still running, to finish first)',
    set: duration('orphanGraceMs'),
  },
  {
    long: 'status-addr', value: 'HOST:PORT', section: 'shutdown', defaultText: 'off',
    help: 'serve /healthz, /readyz and /prestop over HTTP (a bare port listens on 127.0.0.1)',
    set: (o, raw) => { o.statusAddr = parseStatusAddr(String(raw)); },
  },
  {
    long: 'drain-quiet', value: 'DUR', section: 'traffic', defaultText: 'off',
    help: "end the drain once no new request has reached the app's ports for DUR (--drain-delay: the maximum)",
    set: duration('drainQuietMs'),
  },
  {
    long: 'drain-min', value: 'DUR', section: 'traffic', defaultText: '0',
    help: 'with --drain-quiet, drain at least this long',
    set: duration('drainMinMs'),
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
  },
  {
    long: 'ready-check', value: 'SPEC', section: 'traffic', defaultText: 'off',
    help: '/readyz is 200 only while this passes: listening, tcp:PORT or http://127.0.0.1:PORT/PATH',
    set: (o, raw) => { o.readyCheck = parseReadyCheck(String(raw)); },
  },
  { long: 'check', section: 'shutdown', help: 'print the planned shutdown timeline for these options and exit', set: flag((o) => (o.check = true)) },
];
