/**
 * Pids that libuv spawned and will collect itself (the app when spawned through node:child_process,
 * pre-stop commands). The reaper must leave their exit status alone. Kept sorted for the addon's
 * binary search; it changes only when a command starts or ends, never on the SIGCHLD hot path.
 */
let owned = new Int32Array(0);

export function ownedPids(): Int32Array {
  return owned;
}

export function trackOwned(pid: number): void {
  owned = Int32Array.from([...owned, pid]).sort();
}

export function untrackOwned(pid: number): void {
  owned = owned.filter((p) => p !== pid);
}
