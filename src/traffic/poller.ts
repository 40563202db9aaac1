// Runs a task now and then every `intervalMs` until stopped. Never throws, and never keeps the
// event loop alive by itself (its timer is unref'd): the init exits when nothing else is pending.

export interface Poller {
  stop(): void;
  readonly running: boolean;
}

export interface PollerOptions {
  /** default 100 */
  intervalMs?: number;
  /** a throwing task does not stop the poller; its error lands here */
  onError?: (err: unknown) => void;
}

export function startPoller(task: () => void, opts: PollerOptions = {}): Poller {
  const intervalMs = Math.max(1, opts.intervalMs ?? 100);
  let timer: NodeJS.Timeout | undefined;
  let running = true;
  const tick = (): void => {
    if (!running) return;
    try {
      task();
    } catch (err) {
      try {
        opts.onError?.(err);
      } catch {
        // an error reporter that throws must not stop the polling either
      }
    }
    if (!running) return; // the task stopped us
    timer = setTimeout(tick, intervalMs);
    timer.unref();
  };
  tick();
  return {
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
    },
    get running() {
      return running;
    },
  };
}
