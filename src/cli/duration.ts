/** setTimeout fires at once beyond 2^31-1 ms; nothing the init waits for may be longer. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** Go's units (time.ParseDuration), in milliseconds; µ and μ both, as Go accepts both. */
const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

// µ and μ written as escapes: one character past Latin-1 in the bundle makes V8 hold its whole
// source as a two-byte string (210 KiB instead of 105 of the init's private memory)
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/y;

/**
 * Durations as Go and Kubernetes write them: one or more number-unit pairs (`500ms`, `2.5s`,
 * `1m30s`, `1h`, `2h45m`; units ns, us, ms, s, m, h), or a plain number of seconds (`30`, as in
 * terminationGracePeriodSeconds). Returns milliseconds, rounded.
 */
export function parseDuration(raw: string): number {
  const text = raw.trim();
  let ms = Number.NaN;
  if (/^\d{1,12}(\.\d{1,9})?$/.test(text)) {
    ms = Number(text) * 1000;
  } else if (text.length > 0 && text.length <= 64) {
    ms = 0;
    PART.lastIndex = 0;
    while (PART.lastIndex < text.length) {
      const m = PART.exec(text);
      if (!m) {
        ms = Number.NaN;
        break;
      }
      ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    }
  }
  if (!Number.isFinite(ms)) {
    throw new Error(`"${raw}" is not a duration; write it like 500ms, 2.5s, 1m30s, 1h or 30 (seconds)`);
  }
  if (Math.round(ms) > MAX_DURATION_MS) throw new Error(`"${raw}" is too long; the maximum is 596h (2147483647ms)`);
  return Math.round(ms);
}

/** 2s, 1.5s, 0.8s (to the tenth) for the summary and --check; below 100ms in whole milliseconds. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 100) return `${Math.round(ms)}ms`;
  return `${Math.round(ms / 100) / 10}s`;
}
