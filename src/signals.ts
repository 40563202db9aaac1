/**
 * Linux's signal numbers (the same on x86_64 and arm64), as Node names them. A table rather than
 * node:os, whose loading costs start-up time and memory; a unit test holds it equal to
 * os.constants.signals.
 */
export const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGIOT: 6, SIGBUS: 7, SIGFPE: 8,
  SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16,
  SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24,
  SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPOLL: 29, SIGPWR: 30, SIGSYS: 31,
};

// Names deduplicated by number: aliases (IOT, POLL) give way to the canonical name.
// The lists below are written out rather than derived at start: deriving them (spreads, sorts,
// filters) costs the interpreter a quarter of a millisecond at every start. test/unit/signals.test.ts
// derives them from SIGNAL_NUMBERS and the rules stated here, and holds these equal to that.

/** Each number's canonical name (not SIGIOT, SIGPOLL), indexed by the number. */
export const SIGNAL_NAMES: readonly (NodeJS.Signals | undefined)[] = [
  undefined, 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL',
  'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT',
  'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF',
  'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS',
];

/** Cannot be caught, so cannot start anything or be rewritten. */
const UNCATCHABLE = new Set<string>(['SIGKILL', 'SIGSTOP']);

/**
 * Never forwarded by Node's listeners: KILL/STOP cannot be caught; CHLD is ours; the fault signals
 * belong to the native handler (a real fault, or ignored when sent from outside); PIPE is forwarded
 * by the native handler too, which tells one sent from outside from one our own write raised;
 * TTIN/TTOU would only stop the app.
 */
export const NOT_FORWARDED: readonly string[] = [
  'SIGKILL', 'SIGSTOP', 'SIGCHLD', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGABRT', 'SIGTRAP', 'SIGSYS',
  'SIGPIPE', 'SIGTTIN', 'SIGTTOU',
];

/** Every signal the init catches and passes on, in signal-number order: every other canonical name. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCONT',
  'SIGTSTP', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR',
];

/**
 * Caught and never passed on: TTIN/TTOU would stop the init for nothing; ABRT/TRAP/SYS
 * sent from outside are caught so that signal-exit never re-raises them (as PID 1 that would be lost).
 */
export const IGNORED_SIGNALS: readonly NodeJS.Signals[] = ['SIGTTIN', 'SIGTTOU', 'SIGABRT', 'SIGTRAP', 'SIGSYS'];

/**
 * Other names for signals we already catch (POLL for IO, IOT for ABRT). Node emits an event per name,
 * so they get a silent listener too: signal-exit listens on them and, seeing itself alone, would
 * re-raise the signal and take the init down.
 */
export const ALIAS_SIGNALS: readonly NodeJS.Signals[] = ['SIGIOT', 'SIGPOLL'];

export function signalNumber(name: NodeJS.Signals): number {
  return SIGNAL_NUMBERS[name] ?? 0;
}

/** SIGTERM, or SIGRTMIN+3 style for the real-time signals Node has no name for. */
export function signalName(num: number): string {
  const name = SIGNAL_NAMES[num];
  if (name) return name;
  return num >= 34 && num <= 64 ? (num <= 49 ? `SIGRTMIN+${num - 34}` : `SIGRTMAX-${64 - num}`) : `signal ${num}`;
}

/** Accepts TERM, SIGTERM, sigterm or 15. */
export function parseSignal(raw: string): NodeJS.Signals {
  const text = raw.trim().toUpperCase();
  let name: NodeJS.Signals | undefined;
  if (/^\d+$/.test(text)) name = SIGNAL_NAMES[Number(text)];
  else {
    const full = (text.startsWith('SIG') ? text : `SIG${text}`) as NodeJS.Signals;
    const num = SIGNAL_NUMBERS[full];
    if (num !== undefined) name = SIGNAL_NAMES[num] ?? full;
  }
  if (name) return name;
  if (/^(SIG)?RT(MIN|MAX)/.test(text) || (/^\d+$/.test(text) && Number(text) >= 32 && Number(text) <= 64)) {
    throw new Error(`"${raw}": real-time signals are always forwarded unchanged and cannot be named here`);
  }
  throw new Error(`"${raw}" is not a signal; write it like TERM, SIGQUIT or 15`);
}

/** A signal the init must catch: KILL and STOP are refused. */
export function parseCatchableSignal(raw: string): NodeJS.Signals {
  const name = parseSignal(raw);
  if (UNCATCHABLE.has(name)) throw new Error(`"${raw}": ${name} cannot be caught; name a signal such as TERM or INT`);
  return name;
}

export function shortName(name: string): string {
  return name.startsWith('SIG') ? name.slice(3) : name;
}
