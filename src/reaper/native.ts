import { getSystemErrorName } from 'node:util';
import { REAP_OUT, SPAWN_FLAGS, SPAWN_STEPS, type Addon } from './native-api.js';

export interface SpawnRequest {
  /** absolute path, already resolved against PATH */
  file: string;
  /** argv including argv[0], as raw bytes or strings */
  argv: readonly (string | Buffer)[];
  /** "KEY=value" entries, as raw bytes or strings */
  env: readonly (string | Buffer)[];
  /** setpgid(0, 0) in the child */
  newProcessGroup: boolean;
  /** tcsetpgrp(0, child); only with newProcessGroup */
  foreground: boolean;
  /** inherited descriptors (3 and up) the app keeps */
  keepFds?: readonly number[];
  /** set LISTEN_PID to the app's own pid (systemd socket activation) */
  listenPid?: boolean;
  /** the app's soft RLIMIT_NOFILE; absent: the init's */
  nofile?: number;
}

/** An error shaped like Node's own system errors. */
export type SystemError = Error & { code: string; errno: number; syscall: string; path?: string };

export function systemError(errno: number, syscall: string, path?: string): SystemError {
  const code = errno > 0 ? getSystemErrorName(-errno) : 'UNKNOWN';
  const err = new Error(`${code}: ${syscall}${path ? ` '${path}'` : ''}`) as SystemError;
  return Object.assign(err, { code, errno: -errno, syscall, ...(path ? { path } : {}) });
}

/** errno → its name, 0 → null. */
const errnoName = (errno: number): string | null => (errno === 0 ? null : getSystemErrorName(-errno));

/** NUL-terminated entries in one buffer, as spawn.c takes them. */
function packEntries(entries: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const bytes = typeof entry === 'string' ? Buffer.from(entry) : entry;
    if (bytes.includes(0)) throw new TypeError('spawn(): argv and env entries must not contain NUL bytes');
    parts.push(bytes, Buffer.alloc(1));
  }
  return Buffer.concat(parts);
}

/** The addon with names for its errors: every call the rest of the init makes into C. */
export class Native {
  private readonly spawnResult = new Int32Array(3);

  /** the raw functions, for the modules that wrap their own part (src/traffic) */
  constructor(readonly addon: Addon) {}

  reap(owned: Int32Array, out: Int32Array): number {
    return this.addon.reap(owned, out);
  }

  /** The pid of the started app; throws a SystemError naming the step that failed. */
  spawn(req: SpawnRequest): number {
    if (typeof req.file !== 'string' || req.file === '' || req.file.includes('\0')) {
      throw new TypeError('spawn(): file must be a non-empty string without NUL bytes');
    }
    if (!Array.isArray(req.argv) || !Array.isArray(req.env)) throw new TypeError('spawn(): argv and env must be arrays');
    const flags =
      (req.newProcessGroup ? SPAWN_FLAGS.newProcessGroup : 0) |
      (req.newProcessGroup && req.foreground ? SPAWN_FLAGS.foreground : 0) |
      (req.listenPid ? SPAWN_FLAGS.listenPid : 0);
    const result = this.spawnResult;
    const pid = this.addon.spawn(
      Buffer.from(`${req.file}\0`),
      packEntries(req.argv),
      packEntries(req.env),
      Int32Array.from(req.keepFds ?? []),
      flags,
      req.nofile ?? -1,
      result,
    );
    if (pid > 0) return pid;
    throw systemError(result[1] ?? 0, SPAWN_STEPS[result[2] ?? 0] ?? 'spawn', req.file);
  }

  /** The process's name in ps and pgrep (15 bytes at most); null when done, else the errno name. */
  setName(name: string): string | null {
    return errnoName(this.addon.setName(Buffer.from(name)));
  }

  /** null when done, else the errno name */
  setChildSubreaper(): string | null {
    return errnoName(this.addon.setChildSubreaper());
  }

  setParentDeathSignal(signo: number): string | null {
    return errnoName(this.addon.setParentDeathSignal(signo));
  }

  setForeground(fd: number, pgid: number): string | null {
    return errnoName(this.addon.setForeground(fd, pgid));
  }

  isTerminal(fd: number): boolean {
    return this.addon.isTerminal(fd);
  }

  getProcessGroup(): number {
    return this.addon.getProcessGroup();
  }

  exitNow(code: number): never {
    return this.addon.exitNow(code);
  }

  /**
   * From now on the app's exit ends the init from the SIGCHLD handler, with exitCodes[status], when
   * nothing is left behind (as PID 1: in the whole namespace); otherwise JavaScript hears of it as
   * before. May exit at once: the app may be gone already.
   */
  armQuickExit(app: number, exitCodes: Int32Array, wholeNamespace: boolean): string | null {
    return errnoName(this.addon.armQuickExit(app, exitCodes, wholeNamespace ? 1 : 0));
  }

  disarmQuickExit(): void {
    this.addon.disarmQuickExit();
  }

  /** Drops the page-table entries of read-only file pages; they come back from the page cache when used. */
  releasePages(ranges: readonly (readonly [number, number])[]): string | null {
    const packed = BigUint64Array.from(ranges.flatMap(([start, end]) => [BigInt(start), BigInt(end)]));
    return errnoName(this.addon.releasePages(Buffer.from(packed.buffer)));
  }

  /** Gives the free pages of the C heap back to the kernel. */
  trimMalloc(): void {
    this.addon.trimMalloc();
  }

  /**
   * A C handler forwards each signal received (key) as its value to the target set by
   * setSignalTarget; with `passOn` it then goes on to the handler that was there before (libuv's,
   * when Node listens), which wakes the event loop: only worth it when someone reads the log.
   */
  routeSignals(routes: ReadonlyMap<number, number>, passOn = false): string | null {
    const table = new Int32Array(65);
    for (const [from, to] of routes) {
      if (!(from > 0 && from < table.length)) return 'EINVAL';
      table[from] = to;
    }
    return errnoName(this.addon.routeSignals(table, passOn ? 1 : 0));
  }

  /** Did the C handler already forward this signal, which Node's listener now hears of? Claims it. */
  claimRouted(signo: number): boolean {
    return this.addon.claimRouted(signo) === 1;
  }

  setSignalTarget(target: number): void {
    this.addon.setSignalTarget(target);
  }

  guardFaults(): string | null {
    return errnoName(this.addon.guardFaults());
  }

  unblockSignal(signo: number): string | null {
    return errnoName(this.addon.unblockSignal(signo));
  }

  realtimeRange(): [number, number] {
    const out = new Int32Array(2);
    this.addon.realtimeRange(out);
    return [out[0] ?? 34, out[1] ?? 64];
  }

  forwardedCounts(): Int32Array {
    const out = new Int32Array(65);
    this.addon.forwardedCounts(out);
    return out;
  }
}

export { REAP_OUT };
