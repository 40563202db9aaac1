// Which TCP ports the app listens on: the listening sockets held by the app's process tree, or,
// when /proc cannot tell (not mounted, another user's processes), every listener of the namespace.
import type { DiagResult, Listener, SockDiag } from './sock-diag.js';

export interface AppPorts {
  /** sorted, without duplicates */
  ports: number[];
  /** "process-tree": found from the processes' fds; "namespace": every listener (minus excluded ports) */
  source: 'process-tree' | 'namespace';
  /** why the namespace fallback was taken */
  reason?: string;
}

export interface AppPortsOptions {
  /** the app's processes, e.g. descendantsOf(process.pid) from src/process/tree.ts */
  pids: readonly number[];
  /** ports that are never the app's (the init's own status endpoint) */
  excludePorts?: readonly number[];
}

const sortedUnique = (ports: Iterable<number>): number[] => [...new Set(ports)].sort((a, b) => a - b);

export function discoverAppPorts(diag: SockDiag, opts: AppPortsOptions): DiagResult<AppPorts> {
  const listening = diag.listeners();
  if (!listening.ok) return listening;
  const excluded = new Set(opts.excludePorts ?? []);
  const namespace = (reason: string): DiagResult<AppPorts> => ({
    ok: true,
    value: {
      ports: sortedUnique(listening.value.filter((l) => !excluded.has(l.port)).map((l) => l.port)),
      source: 'namespace',
      reason,
    },
  });

  const self = diag.socketInodes(process.pid);
  if (!self.ok) return namespace(`${self.error.what}: ${self.error.code}`);
  if (opts.pids.length === 0) return namespace('no app process');

  const inodes = new Set<number>();
  for (const pid of opts.pids) {
    const held = diag.socketInodes(pid);
    if (held.ok) {
      for (const inode of held.value) inodes.add(inode);
    } else if (held.error.code === 'EACCES' || held.error.code === 'EPERM') {
      // a process we may not inspect could hold any of the listeners
      return namespace(`${held.error.what}: ${held.error.code}`);
    } // ENOENT/ESRCH: the process has exited meanwhile
  }
  return { ok: true, value: { ports: portsOf(listening.value, inodes, excluded), source: 'process-tree' } };
}

function portsOf(listeners: readonly Listener[], inodes: ReadonlySet<number>, excluded: ReadonlySet<number>): number[] {
  return sortedUnique(listeners.filter((l) => inodes.has(l.inode) && !excluded.has(l.port)).map((l) => l.port));
}

/** The app's ports for the traffic decisions (`watched`) and for `--ready-check listening`. */
export interface AppPortWatch {
  /**
   * Every port the app has been seen listening on, so that the connections of a listener it has
   * closed (nginx -s quit) still count. `fresh`: looked for now (a decision is being taken);
   * otherwise again at most every `everyMs` (the background polls).
   */
  watched(fresh: boolean): readonly number[];
  /** the ports the app listens on at this moment */
  listening(): readonly number[];
}

/** Watches the ports of the processes `pids()` returns; with `fixed` (--ports), those ports only. */
export function watchAppPorts(
  diag: SockDiag,
  pids: () => readonly number[],
  opts: {
    fixed?: readonly number[] | null;
    everyMs?: number;
    excludePorts?: readonly number[];
    clock: () => number;
    /** the watched ports changed (to log them with where they were found) */
    onChange?: (found: AppPorts) => void;
  },
): AppPortWatch {
  const fixed = opts.fixed ?? null;
  if (fixed) {
    return {
      watched: () => fixed,
      listening: () => {
        const listening = diag.listeners();
        return listening.ok ? sortedUnique(listening.value.filter((l) => fixed.includes(l.port)).map((l) => l.port)) : [];
      },
    };
  }
  const everyMs = opts.everyMs ?? 1000;
  let known: readonly number[] = [];
  let at = Number.NEGATIVE_INFINITY;
  const discover = (): readonly number[] => {
    at = opts.clock();
    const found = discoverAppPorts(diag, { pids: pids(), excludePorts: opts.excludePorts });
    if (!found.ok) return [];
    const all = sortedUnique([...known, ...found.value.ports]);
    if (all.join() !== known.join()) {
      known = all;
      opts.onChange?.({ ...found.value, ports: all });
    }
    return found.value.ports;
  };
  return {
    watched(fresh) {
      if (fresh || opts.clock() - at >= everyMs) discover();
      return known;
    },
    listening: discover,
  };
}
