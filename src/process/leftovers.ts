import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { sendSignal } from './send-signal.js';

/**
 * "Every process the app left": as PID 1 of a PID namespace that is everyone but us, and kill(-1)
 * reaches exactly them without needing /proc. Anywhere else kill(-1) would hit the whole host, so
 * our descendants are walked in /proc instead (with the subreaper bit set, orphans are our
 * children too); without /proc they cannot be found.
 */
export interface Leftovers {
  /** false when not PID 1 and /proc is missing */
  readonly findable: boolean;
  signal(signal: NodeJS.Signals): void;
  anyLeft(): boolean;
}

export function leftoversOf(appTarget: () => number | null): Leftovers {
  if (process.pid === 1) {
    return { findable: true, signal: (signal) => void sendSignal(-1, signal), anyLeft: () => sendSignal(-1, 0) };
  }
  const targets = () => {
    const app = appTarget();
    return new Set([...descendantsOf(process.pid), ...(app === null ? [] : [app])]);
  };
  return {
    findable: existsSync('/proc/self/stat'),
    signal: (signal) => {
      for (const pid of targets()) sendSignal(pid, signal);
    },
    anyLeft: () => descendantsOf(process.pid).some((pid) => sendSignal(pid, 0)),
  };
}

/** Descendants found through /proc/<pid>/stat; empty when /proc is not mounted. */
export function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = parentOf(entry);
    if (ppid === null) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.pop() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function parentOf(pid: string): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // the command name is in parentheses and may itself contain ") "
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? null : Number(fields[1]);
  } catch {
    return null;
  }
}
