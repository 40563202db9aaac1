import { onExit } from 'signal-exit';
import type { Leftovers } from './leftovers.js';

/**
 * If the init exits for any reason while the app runs (a bug, process.exit from a library), the app's
 * tree is killed rather than left orphaned. As PID 1 the kernel does that for us. Only the exit path
 * is hooked: every catchable signal already has a listener of ours, so signal-exit never re-raises
 * one (as PID 1 a re-raised signal would simply be dropped).
 */
export function guardTreeOnExit(leftovers: Leftovers): () => void {
  return onExit(() => {
    // one walk of the whole tree before anything dies: a killed parent would hand its children away
    if (process.pid !== 1) leftovers.signal('SIGKILL');
  });
}
