// The init's private memory between its rare bits of work. Whatever allocates at all (the status
// endpoint's probes, the --ready-check, the traffic watcher's polls) walks through V8's whole young
// generation and fills its page pool, ~1.5 MiB that stays resident, and each scavenge promotes a
// little into an old generation that V8 lets grow for tens of MiB before it collects it: 12.6 MiB
// private after 30 s in the Deployment's configuration, 15.3 MiB after 10 minutes and rising
// (bench/README.md). A memory-reducing collection (V8's "last resort": compaction, the young
// generation shrunk, the pool released), and then glibc's malloc_trim for the C heap that sockets
// and compilations leave fragmented, take it back under an idle node's; it costs a few milliseconds
// of the main thread (signals are forwarded and zombies reaped by the addon meanwhile) and runs only
// when the private memory has grown since the last one.
import { readFileSync } from 'node:fs';
import type { Native } from '../reaper/native.js';

/** How often the private memory is looked at (a read of /proc/self/statm). */
const EVERY_MS = 2000;
/** Growth since the last collection that is worth one, in pages (512 KiB at 4 KiB pages): about
 * every 5 s in the Deployment's configuration, ~16 ms of CPU each time. */
const WORTH_PAGES = 128;

type ExposedGc = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** Resident pages that no file backs (/proc/self/statm: resident − shared), null when unreadable. */
function privatePages(): number | null {
  try {
    const [, resident, shared] = readFileSync('/proc/self/statm', 'latin1').split(' ').map(Number);
    return resident !== undefined && shared !== undefined && Number.isFinite(resident - shared) ? resident - shared : null;
  } catch {
    return null;
  }
}

/**
 * From now on, every EVERY_MS: a memory-reducing collection (and the C heap trimmed, with the addon)
 * when the private memory grew by WORTH_PAGES since the last one. Needs the runtime's --expose-gc
 * (the single executable's flags, bin/graceful-init) and /proc; without them, nothing.
 */
export function keepHeapSmall(native: Native | null): void {
  const gc = (globalThis as { gc?: ExposedGc }).gc;
  let floor = privatePages();
  if (typeof gc !== 'function' || floor === null) return;
  setInterval(() => {
    const now = privatePages();
    if (now === null || floor === null || now - floor < WORTH_PAGES) return;
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    native?.trimMalloc();
    floor = privatePages();
  }, EVERY_MS).unref();
}
