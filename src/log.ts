import type { LogFormat, Verbosity } from './cli/options.js';
import { MAX_LINE, cutText, escapeControl } from './output/bounded-text.js';
import { writerFor } from './output/fd-writer.js';
import { sealProcessStdio } from './output/seal-stdio.js';

export type Fields = Record<string, string | number | boolean | null | undefined | readonly string[]>;

export interface Logger {
  /** always printed, even with -q */
  error(msg: string, fields?: Fields): void;
  /** something is off but the init runs on */
  warn(msg: string, fields?: Fields): void;
  /** the one summary line after a shutdown sequence */
  summary(msg: string, fields?: Fields): void;
  /** -v only */
  debug(msg: string, fields?: Fields): void;
  readonly verbose: boolean;
  /** lines that could not be written at once (stderr full, closed or gone) and were dropped */
  readonly dropped: number;
}

/**
 * Writes one line per call to fd 2 through a writer that never blocks and never changes the
 * descriptor the app shares (see output/fd-writer.ts); what cannot be written now is dropped and
 * counted. Every line is a single line of at most MAX_LINE bytes: control characters in the message
 * and values are escaped, overlong values are cut with a marker. Never throws.
 */
export function createLogger(format: LogFormat, verbosity: Verbosity, fd = 2): Logger {
  // nothing in Node or a dependency may reach the shared stdio through process.stdout/stderr
  sealProcessStdio();
  const out = writerFor(fd);
  let dropped = 0;
  const write = (level: string, msg: string, fields: Fields = {}) => {
    let line: string;
    try {
      line = format === 'json' ? jsonLine(level, msg, fields) : textLine(msg, fields);
    } catch {
      line = cutText(`graceful-init: ${escapeControl(String(msg))}`, MAX_LINE - 1);
    }
    if (!out.write(Buffer.from(`${line}\n`))) dropped++;
  };
  const normal = verbosity !== 'quiet';
  const verbose = verbosity === 'verbose';
  const nothing = () => {};
  return {
    error: (msg, fields) => write('error', msg, fields),
    warn: normal ? (msg, fields) => write('warn', msg, fields) : nothing,
    summary: normal ? (msg, fields) => write('info', msg, fields) : nothing,
    debug: verbose ? (msg, fields) => write('debug', msg, fields) : nothing,
    verbose,
    get dropped() {
      return dropped;
    },
  };
}

const valueText = (v: Fields[string]): string => (Array.isArray(v) ? v.join(',') : String(v));

export function textLine(msg: string, fields: Fields): string {
  const extra = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${escapeControl(k)}=${escapeControl(valueText(v))}`);
  const line = `graceful-init: ${escapeControl(msg)}${extra.length ? ` (${extra.join(' ')})` : ''}`;
  return cutText(line, MAX_LINE - 1);
}

/** A JSON line that stays valid JSON when too long: the longest values are cut, not the line. */
export function jsonLine(level: string, msg: string, fields: Fields): string {
  const record: Record<string, unknown> = { time: new Date().toISOString(), level, msg, ...fields };
  for (let attempt = 0; attempt < 8; attempt++) {
    const line = JSON.stringify(record);
    const excess = Buffer.byteLength(line) - (MAX_LINE - 1);
    if (excess <= 0) return line;
    let longest: string | null = null;
    let longestLen = -1;
    for (const [k, v] of Object.entries(record)) {
      if (k === 'time' || k === 'level' || v === undefined || v === null) continue;
      const len = Buffer.byteLength(JSON.stringify(Array.isArray(v) ? v.join(',') : v));
      if (len > longestLen) {
        longest = k;
        longestLen = len;
      }
    }
    if (longest === null) break;
    const value = valueText(record[longest] as Fields[string]);
    // JSON escapes make a value longer than its bytes: cut by what is over plus what its escapes add
    const over = excess + Math.max(0, longestLen - Buffer.byteLength(value));
    record[longest] = cutText(value, Math.max(0, Buffer.byteLength(value) - over));
  }
  return JSON.stringify({ time: record.time, level, msg: cutText(escapeControl(msg), 1024), cut: true });
}
