/**
 * Milliseconds on the monotonic clock. process.hrtime rather than performance.now(): node:perf_hooks
 * costs start-up time and memory, and only differences between two readings are ever used.
 */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}
