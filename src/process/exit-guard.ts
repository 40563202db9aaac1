import { onExit } from 'signal-exit';
import type { App } from './app.js';
import { sendSignal } from './send-signal.js';
import type { Leftovers } from './tree.js';

/**
 * If the init exits for any reason while the app runs (a bug, process.exit from a library), the app's
 * tree is killed rather than left orphaned. As PID 1 the kernel would do it anyway; elsewhere nobody
 * would. Only the exit path is hooked: every catchable signal already has a handler of ours, so
 * signal-exit never re-raises one (as PID 1 a re-raised signal would simply be dropped).
 */
export function guardTreeOnExit(app: App, leftovers: Leftovers): () => void {
  let appRunning = true;
  void app.exited.then(() => (appRunning = false));
  return onExit(() => {
    if (appRunning) sendSignal(app.signalTarget, 'SIGKILL');
    if (process.pid !== 1) leftovers.signal('SIGKILL');
  });
}
