import { ExitError } from '../errors.js';
import type { Native } from '../reaper/native.js';
import { fromNode, fromWaitStatus, type AppExit } from './exit-status.js';
import { trackOwned, untrackOwned } from './owned-pids.js';
import type { ReapLoop } from './reap-loop.js';
import { resolveCommand } from './resolve-command.js';

export interface App {
  readonly pid: number;
  /** where forwarded signals go: the pid, or the negated group id with --process-group */
  readonly signalTarget: number;
  /** settles once, when the app's exit status has been collected */
  readonly exited: Promise<AppExit>;
  /** it was given the terminal's foreground, which the init takes back when it exits */
  readonly foreground: boolean;
}


export interface LaunchRequest {
  /** the app and its arguments as decoded by Node */
  command: readonly string[];
  /** the same, as the bytes the init was given where known */
  argv: readonly (string | Buffer)[];
  /** "KEY=value" entries as raw bytes */
  env: readonly Buffer[];
  processGroup: boolean;
  /** inherited descriptors the app keeps */
  keepFds: readonly number[];
  /** LISTEN_FDS is set: give the app LISTEN_PID=<its pid> */
  listenPid: boolean;
  nofile: number | null;
}

function resolveOrThrow(request: LaunchRequest): string {
  const name = request.command[0] ?? '';
  const found = resolveCommand(name, process.env.PATH);
  if (!found.ok) throw new ExitError(found.exitCode, `cannot run "${name}": ${found.reason}`);
  return found.path;
}

/**
 * Forked by the addon and collected by our own reap loop, as tini does: the app gets the raw bytes,
 * the inherited descriptors, its own group and the terminal's foreground where there is one.
 */
export function launchNatively(native: Native, reapLoop: ReapLoop, request: LaunchRequest): App {
  const file = resolveOrThrow(request);
  const terminal = native.isTerminal(0);
  let pid: number;
  try {
    pid = native.spawn({
      file,
      argv: request.argv,
      env: request.env,
      // its own process group, as tini does: a signal to the init's group does not reach it twice
      newProcessGroup: true,
      foreground: terminal,
      keepFds: request.keepFds,
      listenPid: request.listenPid,
      ...(request.nofile === null ? {} : { nofile: request.nofile }),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ExitError(code === 'ENOENT' ? 127 : 126, `cannot run "${request.command[0]}": ${code} (${(err as NodeJS.ErrnoException).syscall ?? 'spawn'})`);
  }
  const exited = reapLoop.watch(pid).then((raw) => {
    if (terminal) native.setForeground(0, native.getProcessGroup());
    return fromWaitStatus(raw);
  });
  return { pid, signalTarget: request.processGroup ? -pid : pid, exited, foreground: terminal };
}

/**
 * Without the addon: libuv spawns and collects. It cannot hand the terminal over, passes strings
 * rather than bytes, and a process group means a new session (libuv's `detached`).
 */
export function launchWithLibuv(request: LaunchRequest): App {
  const file = resolveOrThrow(request);
  const [argv0, ...args] = request.command as [string, ...string[]];
  // loaded only on this fallback path: node:child_process costs ~5 ms of start-up
  const { spawn } = process.getBuiltinModule('node:child_process');
  const last = Math.max(2, ...request.keepFds);
  const stdio = Array.from({ length: last + 1 }, (_, fd) => (fd <= 2 || request.keepFds.includes(fd) ? fd : 'ignore'));
  const env = Object.fromEntries(
    request.env.map((e) => e.toString()).filter((e) => e.includes('=')).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
  const child = spawn(file, args, { argv0, env, stdio, detached: request.processGroup });
  if (child.pid === undefined) {
    // libuv reports exec failures (ENOEXEC, ETXTBSY, ...) synchronously; the error event comes later.
    child.on('error', () => {});
    throw new ExitError(126, `cannot run "${argv0}": the kernel refused to execute ${file}`);
  }
  const pid = child.pid;
  trackOwned(pid);
  const exited = new Promise<AppExit>((resolve) => {
    child.on('exit', (code, signal) => {
      untrackOwned(pid);
      resolve(fromNode(code, signal));
    });
  });
  return { pid, signalTarget: request.processGroup ? -pid : pid, exited, foreground: false };
}
