import { basename } from 'node:path';
import { BINARY, killAll, killMarked, lines, markedEnv, readText, run, start, waitFor, type Mode, type Result, type RunOptions, type Started } from '../e2e/harness.js';

/**
 * The init under test: dist/graceful-init unless CONFORMANCE_BINARY names another one (/usr/bin/tini,
 * /usr/bin/dumb-init), so that the suite can show it encodes the reference's behaviour.
 */
export const TARGET = process.env.CONFORMANCE_BINARY || BINARY;
export type Flavour = 'graceful-init' | 'tini' | 'dumb-init';
export const FLAVOUR: Flavour = basename(TARGET).includes('tini')
  ? 'tini'
  : basename(TARGET).includes('dumb-init')
    ? 'dumb-init'
    : 'graceful-init';
export const IS_GRACEFUL_INIT = FLAVOUR === 'graceful-init';

/**
 * Where graceful-init differs from tini on purpose and says so in its README, each test expects the
 * target's own documented behaviour; everything else must be exactly tini's.
 */
export const DOCUMENTED = {
  /** tini exits 1 on a usage error, graceful-init 2 */
  usageExit: IS_GRACEFUL_INIT ? 2 : 1,
  /** graceful-init prints one summary line after a shutdown sequence; tini prints nothing */
  summaryAfterStop: IS_GRACEFUL_INIT,
  /** graceful-init TERMs what the app left behind when it exits; tini leaves it alone */
  termsLeftovers: IS_GRACEFUL_INIT,
  /** graceful-init registers as subreaper without -s; tini only warns that reaping won't work */
  subreaperByDefault: IS_GRACEFUL_INIT,
  /**
   * Node resets the signal mask and ignored signals it inherits before any of graceful-init's code
   * runs, so the app starts with an empty mask and default dispositions (README, known limits)
   */
  keepsInheritedSignalState: !IS_GRACEFUL_INIT,
  /** SYS is caught and not forwarded by graceful-init (as by tini); dumb-init forwards and rewrites it */
  forwardsSys: FLAVOUR === 'dumb-init',
};

/**
 * Everything the suite starts carries this mark in its environment (unless a test gives the whole
 * environment), so that an app whose init died, and which no longer descends from anything the
 * harness knows, is still found and killed.
 */
const MARK = `conformance-${process.pid}`;
const marked = (opts: RunOptions): RunOptions => ({ ...opts, env: opts.env ?? markedEnv(MARK) });

/** The test's environment with `extra` and the mark. */
export const markedTestEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => markedEnv(MARK, extra);

/** For afterEach. */
export function killEverything(): void {
  killAll();
  killMarked(MARK);
}

/** `init [flags] -- command...` as the target spells it. */
export function initArgs(flags: string[], command: string[]): string[] {
  return [...flags, '--', ...command];
}

/** Starts the target as PID 1 of a new PID namespace or as a plain child. */
export function startInit(mode: Mode, flags: string[], command: string[], opts: RunOptions = {}): Started {
  return start(mode, initArgs(flags, command), { ...marked(opts), binary: TARGET });
}

/** Runs the target to its end. */
export function runInit(mode: Mode, flags: string[], command: string[], opts: RunOptions = {}): Promise<Result> {
  return run(mode, initArgs(flags, command), { ...marked(opts), binary: TARGET });
}

/**
 * Starts the target through `wrapper`, a program that sets something up (a session, a descriptor,
 * an ignored signal) and then execs its arguments, so the init keeps the wrapper's pid.
 */
export function startWrapped(mode: Mode, wrapper: string[], flags: string[], command: string[], opts: RunOptions = {}): Started {
  const [program, ...wrapperArgs] = wrapper;
  return start(mode, [...wrapperArgs, TARGET, ...initArgs(flags, command)], { ...marked(opts), binary: program });
}

export { lines };

/** Waits until `file` has at least `n` lines and returns them. */
export function linesAtLeast(file: string, n: number, what: string, ms = 5000): Promise<string[]> {
  return waitFor(what, () => (lines(file).length >= n ? lines(file) : undefined), ms);
}

/** Fields of /proc/PID/stat after the command name: state, ppid, pgrp, session, tty_nr, tpgid. */
export function procStat(pid: number): { state: string; ppid: number; pgrp: number; session: number; tpgid: number } | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: f[0] as string, ppid: Number(f[1]), pgrp: Number(f[2]), session: Number(f[3]), tpgid: Number(f[5]) };
}
