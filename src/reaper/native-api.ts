// The contract between the TypeScript side and reaper.c (the N-API addon).
// Kept in its own file so the C side and the loader are checked against one description.

/** Result slots written by `reap()` into the caller's Int32Array (no allocation on the hot path). */
export const REAP_OUT = {
  /** in: pid whose status the caller wants (the app when spawned natively), 0 for none */
  watchedPid: 0,
  /** out: 1 when the watched pid was collected during this call */
  watchedDone: 1,
  /** out: raw wait status of the watched pid (decode with WIFEXITED & co. on the JS side) */
  watchedStatus: 2,
  /** out: an exited child that libuv owns and has not collected yet, 0 when none was seen */
  blockedBy: 3,
  /** out: 1 when the watched pid exited by a signal, 0 when it exited normally */
  watchedSignaled: 4,
  /** out: exit code, or signal number when watchedSignaled is 1 */
  watchedCode: 5,
  length: 6,
} as const;

export interface SpawnRequest {
  /** absolute path, already resolved against PATH by the caller */
  file: string;
  /** argv including argv[0] */
  argv: string[];
  /** "KEY=value" strings */
  env: string[];
  /** setpgid(0, 0) in the child before exec */
  newProcessGroup: boolean;
  /** tcsetpgrp(0, child) in the child before exec; only meaningful with newProcessGroup */
  foreground: boolean;
}

export interface NativeReaper {
  /**
   * Collect every exited child that is not in `owned` (sorted ascending, pids libuv waits for).
   * Peeks with waitid(WNOWAIT) first; stops at the first owned pid and reports it in blockedBy.
   * Returns how many pids it collected.
   */
  reap(owned: Int32Array, out: Int32Array): number;
  /** fork + exec with the child's signal mask and dispositions reset. Throws an Error whose `code` is the errno name. */
  spawn(req: SpawnRequest): number;
  /** prctl(PR_SET_CHILD_SUBREAPER, 1); returns false (errno in `lastError`) when refused */
  setChildSubreaper(): boolean;
  /** prctl(PR_SET_PDEATHSIG, signo) */
  setParentDeathSignal(signo: number): boolean;
  /** tcsetpgrp(fd, pgid) with SIGTTOU blocked; false when fd is not a terminal or it fails */
  setForeground(fd: number, pgid: number): boolean;
  /** getpgrp() of the calling process */
  getProcessGroup(): number;
  /** isatty(fd) */
  isTerminal(fd: number): boolean;
  /**
   * errno name ("EPERM", "ENOTTY", ...) of the last failed setChildSubreaper /
   * setParentDeathSignal / setForeground call; undefined while none failed.
   * A getter on the addon; optional here so test doubles need not provide it.
   */
  readonly lastError?: string | undefined;
  /** nbwrite.c: send(MSG_DONTWAIT | MSG_NOSIGNAL) on a socket; bytes written or -errno. Optional: older addons lack it. */
  sendNonBlocking?(fd: number, data: Buffer): number;
  /** nbwrite.c: poll(POLLOUT, 0) then one write() of at most PIPE_BUF bytes; bytes written or -errno */
  pollWrite?(fd: number, data: Buffer): number;
}
