import { closeSync, openSync, readSync, readlinkSync } from 'node:fs';
import type { Logger } from '../log.js';
import type { Native } from '../reaper/native.js';

/** After set-up: the app's own start-up is under way by then, and an app that ends at once never waits for it. */
const DROP_AFTER_MS = 1000;

/**
 * The mappings of `exe` in a /proc/<pid>/smaps that the kernel can drop and fault back from the
 * page cache unchanged: private, not writable, holding no copied-on-write page (RELRO was written
 * by the loader before it turned read-only: dropping those pages would undo the relocations).
 * Scanned as bytes: the file is ~150 KB, and strings of it would stay on the heap until a GC.
 */
export function droppableRanges(smaps: Buffer, exe: string): [number, number][] {
  const ranges: [number, number][] = [];
  const pathEnd = Buffer.from(` ${exe}\n`, 'latin1');
  for (let at = smaps.indexOf(pathEnd); at !== -1; at = smaps.indexOf(pathEnd, at + 1)) {
    const lineStart = smaps.lastIndexOf(0x0a, at) + 1;
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+ *$/.exec(smaps.toString('latin1', lineStart, at));
    if (!header) continue;
    const [, start, end, perms] = header as unknown as [string, string, string, string];
    if (perms[1] !== '-' || perms[3] !== 'p') continue;
    // the mapping's fields end with VmFlags; its Anonymous line comes before
    const anonymous = smaps.indexOf('\nAnonymous:', at);
    const last = smaps.indexOf('\nVmFlags:', at);
    if (anonymous === -1 || last === -1 || anonymous > last) continue;
    if (/^\nAnonymous:\s+0 kB/.test(smaps.toString('latin1', anonymous, anonymous + 40))) ranges.push([parseInt(start, 16), parseInt(end, 16)]);
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
      refused = native.releasePages(droppableRanges(readInPieces('/proc/self/smaps'), readlinkSync('/proc/self/exe')));
    } catch (err) {
      refused = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    }
    log.debug(refused ? `kept the start-up pages of the executable (${refused})` : 'dropped the start-up pages of the executable');
  }, DROP_AFTER_MS).unref();
}

/**
 * The kernel writes /proc/<pid>/smaps as it is read, walking the page tables of each mapping it
 * fits in the buffer: small reads keep each syscall, and a signal waiting for its end, short.
 */
function readInPieces(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const pieces: Buffer[] = [];
    for (;;) {
      const piece = Buffer.allocUnsafe(4096);
      const n = readSync(fd, piece, 0, piece.length, null);
      if (n === 0) return Buffer.concat(pieces);
      pieces.push(piece.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}
