// What the C addon exports (addon.c and the files it registers). Failures come back as errno
// numbers; native.ts names them and gives the rest of the code a typed surface.
import FUNCTIONS from './functions.json' with { type: 'json' };

/** Every function the addon must export: checked by the loader and by the build's smoke test. */
export const ADDON_FUNCTIONS: readonly string[] = FUNCTIONS;

/** Slots of reap()'s `out` array (reap.c). */
export const REAP_OUT = { watchedPid: 0, watchedDone: 1, watchedStatus: 2, blockedBy: 3, length: 4 } as const;

/** Bits of spawn()'s `flags` (spawn.c). */
export const SPAWN_FLAGS = { newProcessGroup: 1, foreground: 2, listenPid: 4 } as const;

/** spawn()'s `result`: [pid, errno, failed step]; the steps as spawn.c numbers them. */
export const SPAWN_STEPS = ['', 'fork', 'setpgid', 'execve', 'pipe2', 'malloc'] as const;

export interface Addon {
  reap(owned: Int32Array, out: Int32Array): number;
  spawn(file: Buffer, argv: Buffer, env: Buffer, keepFds: Int32Array, flags: number, nofile: number, result: Int32Array): number;
  /** process.c: prctl(PR_SET_NAME) of the calling (main) thread; 0 or errno */
  setName(name: Buffer): number;
  setChildSubreaper(): number;
  setParentDeathSignal(signo: number): number;
  setForeground(fd: number, pgid: number): number;
  isTerminal(fd: number): boolean;
  getProcessGroup(): number;
  exitNow(code: number): never;
  /** signals.c: table[s] = the signal to send for each s received (0: leave s alone) */
  routeSignals(table: Int32Array, passOn: number): number;
  /** signals.c: 1 if the handler forwarded a `signo` not yet claimed here (now claimed), else 0 */
  claimRouted(signo: number): number;
  setSignalTarget(target: number): number;
  guardFaults(): number;
  unblockSignal(signo: number): number;
  realtimeRange(out: Int32Array): number;
  forwardedCounts(out: Int32Array): number;
  /** quick-exit.c: codes[s] is the init's exit code for the app's status s */
  armQuickExit(app: number, codes: Int32Array, wholeNamespace: number): number;
  disarmQuickExit(): number;
  /** memory.c: madvise(MADV_DONTNEED) over [start, end) pairs of uint64s; 0 or errno */
  releasePages(ranges: Buffer): number;
  /** memory.c: malloc_trim(0); 1 if memory went back to the kernel, else 0 */
  trimMalloc(): number;
  /** nbwrite.c: send(MSG_DONTWAIT | MSG_NOSIGNAL) on a socket; bytes written or -errno */
  sendNonBlocking(fd: number, data: Buffer): number;
  /** nbwrite.c: poll(POLLOUT, 0) then one write() of at most PIPE_BUF bytes; bytes written or -errno */
  pollWrite(fd: number, data: Buffer): number;
}
