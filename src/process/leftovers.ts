import { existsSync, readFileSync } from 'node:fs';
import { childrenOf } from './proc-children.js';
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

/**
 * Descendants, walked down from `root` through /proc/<pid>/task/<tid>/children: reads only our own
 * subtree, where a scan of every /proc/<pid>/stat costs milliseconds on a busy host. Zombies are
 * left out (they cannot be signalled away; the reap loop collects them). Empty without /proc.
 */
export function descendantsOf(root: number): number[] {
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of childrenOf(queue.pop() as number)) {
      if (isZombie(child)) continue;
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // the command name is in parentheses and may itself contain ") "
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true; // gone
  }
}
