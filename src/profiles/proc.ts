// Reading processes from /proc (or a directory laid out like it), and finding the known server among
// the app and, when the app is a shell or an init, its descendants.
import { readFileSync, readlinkSync } from 'node:fs';
import { childrenOf } from '../process/proc-children.js';
import { passesOn, recogniseProcess, type ProcessView } from './recognise.js';
import type { ServerProfile } from './table.js';

export interface ProcReader {
  /** null when the process is gone or /proc is not there */
  view(pid: number): ProcessView | null;
  children(pid: number): number[];
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

export function procReader(root = '/proc'): ProcReader {
  return {
    view(pid) {
      const cmdline = readText(`${root}/${pid}/cmdline`);
      if (cmdline === null) return null;
      let exe: string | null = null;
      try {
        exe = readlinkSync(`${root}/${pid}/exe`, 'latin1');
      } catch {
        // another user's process, or a kernel thread: the command name has to do
      }
      const argv = cmdline.split('\0');
      if (argv.at(-1) === '') argv.pop();
      return { exe, comm: readText(`${root}/${pid}/comm`)?.trim() ?? null, argv };
    },
    children: (pid) => childrenOf(pid, root),
  };
}

export interface FoundServer {
  profile: ServerProfile;
  pid: number;
}

/** How far into a shell's (or an init's) descendants the server is looked for. */
const MAX_DEPTH = 4;
const MAX_LOOKED_AT = 64;

/**
 * The known server the app is, or, when the app passes the work on (sh -c 'nginx …',
 * apache2ctl, su, a nested init), the first known server among its descendants, breadth first.
 * An app that is neither (a supervisor written in Node, say) is never looked into: its children
 * are its business and the stop signal stays its own.
 */
export function findServer(appPid: number, reader: ProcReader): FoundServer | null {
  const app = reader.view(appPid);
  if (!app) return null;
  const direct = recogniseProcess(app);
  if (direct) return { profile: direct, pid: appPid };
  let level = passesOn(app) ? [appPid] : [];
  let looked = 0;
  for (let depth = 0; depth < MAX_DEPTH && level.length > 0; depth++) {
    const next: number[] = [];
    for (const parent of level) {
      for (const pid of reader.children(parent)) {
        if (++looked > MAX_LOOKED_AT) return null;
        const view = reader.view(pid);
        if (!view) continue;
        const profile = recogniseProcess(view);
        if (profile) return { profile, pid };
        if (passesOn(view)) next.push(pid);
      }
    }
    level = next;
  }
  return null;
}
