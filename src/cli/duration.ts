/** setTimeout fires at once beyond 2^31-1 ms; nothing the init waits for may be longer. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** Durations are written `500ms`, `2s`, `1.5s`, `1m`, `1h`, or plain seconds (`30`). Returns milliseconds. */
export function parseDuration(raw: string): number {
  const match = /^\s*(\d{1,12}(?:\.\d{1,6})?)\s*(ms|s|m|h)?\s*$/.exec(raw);
  if (!match) {
    throw new Error(`"${raw}" is not a duration; write it like 500ms, 2s, 1m or 30`);
  }
  const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's'] ?? 1000;
  const ms = Math.round(Number(match[1]) * unitMs);
  if (ms > MAX_DURATION_MS) throw new Error(`"${raw}" is too long; the maximum is 596h (2147483647ms)`);
  return ms;
}

/** 2s, 1.5s, 0.8s (to the tenth) for the summary and --check; below 100ms in whole milliseconds. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 100) return `${Math.round(ms)}ms`;
  return `${Math.round(ms / 100) / 10}s`;
}
