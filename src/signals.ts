import { constants } from 'node:os';

// Names Node knows, deduplicated by number: aliases (IOT, POLL, UNUSED) give way to the canonical name.
const ALIASES = new Set(['SIGIOT', 'SIGPOLL', 'SIGUNUSED', 'SIGLOST', 'SIGINFO']);
const byNumber = new Map<number, NodeJS.Signals>();
for (const [name, num] of Object.entries(constants.signals)) {
  if (!ALIASES.has(name) && !byNumber.has(num)) byNumber.set(num, name as NodeJS.Signals);
}

/**
 * Never forwarded: KILL/STOP cannot be caught; CHLD is ours; the fault signals mean the init itself is
 * broken; PIPE is what our own write to a closed stderr raises; TTIN/TTOU would only stop the app.
 */
const NOT_FORWARDED = new Set<string>([
  'SIGKILL', 'SIGSTOP', 'SIGCHLD', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGABRT', 'SIGTRAP', 'SIGSYS',
  'SIGPIPE', 'SIGTTIN', 'SIGTTOU',
]);

/** Every signal the init catches and passes on, in signal-number order. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [...byNumber.entries()]
  .sort(([a], [b]) => a - b)
  .map(([, name]) => name)
  .filter((name) => !NOT_FORWARDED.has(name));

/**
 * Caught and never passed on: TTIN/TTOU/PIPE would stop or kill the init for nothing; ABRT/TRAP/SYS
 * sent from outside are caught so that signal-exit never re-raises them (as PID 1 that would be lost).
 */
export const IGNORED_SIGNALS: readonly NodeJS.Signals[] = ['SIGTTIN', 'SIGTTOU', 'SIGPIPE', 'SIGABRT', 'SIGTRAP', 'SIGSYS'];

/**
 * Other names for signals we already catch (POLL for IO, IOT for ABRT). Node emits an event per name,
 * so they get a silent listener too: signal-exit listens on them and, seeing itself alone, would
 * re-raise the signal and take the init down.
 */
export const ALIAS_SIGNALS: readonly NodeJS.Signals[] = (Object.keys(constants.signals) as NodeJS.Signals[]).filter(
  (name) => ALIASES.has(name) && [...FORWARDED_SIGNALS, ...IGNORED_SIGNALS].some((n) => constants.signals[n] === constants.signals[name]),
);

export function signalNumber(name: NodeJS.Signals): number {
  return constants.signals[name];
}

export function signalName(num: number): NodeJS.Signals | undefined {
  return byNumber.get(num);
}

/** Accepts TERM, SIGTERM, sigterm or 15. */
export function parseSignal(raw: string): NodeJS.Signals {
  const text = raw.trim().toUpperCase();
  if (/^\d+$/.test(text)) {
    const name = byNumber.get(Number(text));
    if (name) return name;
  } else {
    const name = (text.startsWith('SIG') ? text : `SIG${text}`) as NodeJS.Signals;
    if (name in constants.signals) return byNumber.get(constants.signals[name]) ?? name;
  }
  throw new Error(`"${raw}" is not a signal; write it like TERM, SIGQUIT or 15`);
}

export function shortName(name: NodeJS.Signals): string {
  return name.slice(3);
}
