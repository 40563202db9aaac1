/**
 * kill(2) that reports instead of throwing: the target may be gone already (ESRCH), and a signal
 * sent into a race with the app's exit is not an error.
 */
export function sendSignal(pid: number, signal: NodeJS.Signals | number): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
