import { fromNode, type AppExit } from './exit-status.js';
import { resolveCommand } from './resolve-command.js';

export interface App {
  readonly pid: number;
  /** where forwarded signals go: the pid, or the negated group id with --process-group */
  readonly signalTarget: number;
  /** settles once, when the app's exit status has been collected */
  readonly exited: Promise<AppExit>;
}

/** The app could not be started: exit 126/127 with `message` on stderr, like a shell would. */
export class LaunchError extends Error {
  constructor(
    readonly exitCode: 126 | 127,
    message: string,
  ) {
    super(message);
  }
}

export interface LaunchRequest {
  command: readonly string[];
  processGroup: boolean;
  env: NodeJS.ProcessEnv;
}

export function resolveOrThrow(request: LaunchRequest): string {
  const name = request.command[0] ?? '';
  const found = resolveCommand(name, request.env.PATH);
  if (!found.ok) throw new LaunchError(found.exitCode, `cannot run "${name}": ${found.reason}`);
  return found.path;
}

/**
 * Spawns through libuv, which then owns the pid and collects its status. Used when the native addon
 * is not available; it cannot hand the terminal to the app, and a process group here means a new
 * session (libuv's `detached`).
 */
export function spawnWithLibuv(request: LaunchRequest): App {
  const file = resolveOrThrow(request);
  const [argv0, ...args] = request.command as [string, ...string[]];
  // loaded only on this fallback path: node:child_process costs ~5 ms of start-up
  const { spawn } = process.getBuiltinModule('node:child_process');
  const child = spawn(file, args, {
    argv0,
    env: request.env,
    stdio: 'inherit',
    detached: request.processGroup,
  });
  if (child.pid === undefined) {
    // libuv reports exec failures (ENOEXEC, ETXTBSY, ...) synchronously; the error event comes later.
    child.on('error', () => {});
    throw new LaunchError(126, `cannot run "${argv0}": the kernel refused to execute ${file}`);
  }
  const exited = new Promise<AppExit>((resolve) => {
    child.on('exit', (code, signal) => resolve(fromNode(code, signal)));
  });
  return { pid: child.pid, signalTarget: request.processGroup ? -child.pid : child.pid, exited };
}
