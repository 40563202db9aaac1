/**
 * Milliseconds on the monotonic clock. process.hrtime rather than performance.now(): node:perf_hooks
 * costs start-up time and memory, and only differences between two readings are ever used.
 * Every step of the shutdown is timed on this one clock: a wall-clock jump moves nothing.
 */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}

/**
 * Calls `fn` once the monotonic clock reads `at` or later. libuv counts a timer from the loop's
 * cached time, so it can fire about a millisecond before a fresh reading says it is due: it is
 * then set again for the rest. Returns the cancel function.
 */
export function atMonotonic(at: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const left = at - monotonicMs();
    if (left <= 0) return fn();
    // setTimeout rounds down to whole ms and fires at once above 2^31-1 ms
    timer = setTimeout(arm, Math.min(Math.ceil(left), 2 ** 31 - 1));
  };
  arm();
  return () => clearTimeout(timer);
}

/** Resolves once the monotonic clock reads `at`, or as soon as `signal` aborts. */
export function sleepUntil(at: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    let cancel = () => {};
    const done = () => {
      cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    cancel = atMonotonic(at, done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Resolves after `ms` on the monotonic clock (never earlier), or as soon as `signal` aborts. */
export const sleepFor = (ms: number, signal?: AbortSignal): Promise<void> => sleepUntil(monotonicMs() + ms, signal);
