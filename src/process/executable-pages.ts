import { readFileSync, readlinkSync } from 'node:fs';
import type { Logger } from '../log.js';
import type { Native } from '../reaper/native.js';

/** After set-up: the app's own start-up is under way by then, and an app that ends at once never waits for it. */
const DROP_AFTER_MS = 1000;

/**
 * The mappings of `exe` in a /proc/<pid>/smaps that the kernel can drop and fault back from the
 * page cache unchanged: private, not writable, holding no copied-on-write page (RELRO was written
 * by the loader before it turned read-only: dropping those pages would undo the relocations).
 */
export function droppableRanges(smaps: string, exe: string): [number, number][] {
  const ranges: [number, number][] = [];
  let current: { range: [number, number]; droppable: boolean } | null = null;
  for (const line of smaps.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+ *(.*)$/.exec(line);
    if (header) {
      const [, start, end, perms, path] = header as unknown as [string, string, string, string, string];
      current = { range: [parseInt(start, 16), parseInt(end, 16)], droppable: path === exe && perms[1] === '-' && perms[3] === 'p' };
    } else if (current?.droppable) {
      const anonymous = /^Anonymous:\s+(\d+) kB/.exec(line);
      if (anonymous && anonymous[1] !== '0') current.droppable = false;
      if (line.startsWith('VmFlags:') && current.droppable) ranges.push(current.range);
    }
  }
  return ranges;
}

/**
 * Start-up reads tens of MiB of the executable (the runtime, the bundle and its code cache) that
 * an init waiting for its app never runs again. Mapped, they count in its RSS and are work for the
 * kernel when the init exits, after the app has gone (1.4 ms of the runtime's 7 ms exit here);
 * dropped, what runs again comes back from the page cache.
 */
export function dropStartupPagesLater(native: Native, log: Logger): void {
  setTimeout(() => {
    let refused: string | null;
    try {
      refused = native.releasePages(droppableRanges(readFileSync('/proc/self/smaps', 'latin1'), readlinkSync('/proc/self/exe')));
    } catch (err) {
      refused = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    }
    log.debug(refused ? `kept the start-up pages of the executable (${refused})` : 'dropped the start-up pages of the executable');
  }, DROP_AFTER_MS).unref();
}
