/** Durations are written `500ms`, `2s`, `1.5s`, `1m`, or plain seconds (`30`). Returns milliseconds. */
export function parseDuration(raw: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(raw);
  if (!match) {
    throw new Error(`"${raw}" is not a duration; write it like 500ms, 2s, 1m or 30`);
  }
  const value = Number(match[1]);
  const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's'] ?? 1000;
  return Math.round(value * unitMs);
}

export function formatDuration(ms: number): string {
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(1)}s`;
}
