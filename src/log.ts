import type { LogFormat, Verbosity } from './cli/options.js';
import { MAX_LINE, cutText, escapeControl } from './output/bounded-text.js';
import { writerFor } from './output/fd-writer.js';
import { fittedLines, prefixedText, type LineFormat } from './output/prefixed-lines.js';
import { sealProcessStdio } from './output/seal-stdio.js';

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue | undefined };
export type Fields = Record<string, JsonValue | undefined>;

export interface Logger {
  /** always printed, even with -q */
  error(msg: string, fields?: Fields): void;
  /** something is off but the init runs on */
  warn(msg: string, fields?: Fields): void;
  /**
   * The one summary line after a shutdown sequence: the text log prints `msg`, the JSON log `msg`
   * and `fields` (what each step did, as values).
   */
  summary(msg: string, fields?: Fields): void;
  /** -v only */
  debug(msg: string, fields?: Fields): void;
  /**
   * How the lines of a command's output are written: prefixed with `graceful-init: ${label}: ` in
   * the text log; in the JSON log one object a line, the line as `msg`, with `fields`.
   */
  outputLines(label: string, fields: Fields): LineFormat;
  readonly verbose: boolean;
  /** lines that could not be written at once (stderr full, closed or gone) and were dropped */
  readonly dropped: number;
}

/** In the JSON log, what tells the init's lines from the app's on the stream they share. */
const LOGGER = 'graceful-init';

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
  const write = (level: string, msg: string, fields: Fields = {}, textFields: Fields = fields) => {
    let line: string;
    try {
      line = format === 'json' ? jsonLine(level, msg, fields) : textLine(msg, textFields);
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
    summary: normal ? (msg, fields) => write('info', msg, fields, {}) : nothing,
    debug: verbose ? (msg, fields) => write('debug', msg, fields) : nothing,
    outputLines: (label, fields) =>
      format === 'json' ? fittedLines((text) => JSON.stringify({ time: new Date().toISOString(), level: 'info', logger: LOGGER, msg: text, ...fields })) : prefixedText(`graceful-init: ${label}: `),
    verbose,
    get dropped() {
      return dropped;
    },
  };
}

const valueText = (v: Fields[string]): string => (typeof v === 'string' ? v : Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.join(',') : JSON.stringify(v));

export function textLine(msg: string, fields: Fields): string {
  const extra = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${escapeControl(k)}=${escapeControl(valueText(v))}`);
  const line = `graceful-init: ${escapeControl(msg)}${extra.length ? ` (${extra.join(' ')})` : ''}`;
  return cutText(line, MAX_LINE - 1);
}

const bytes = (text: string) => Buffer.byteLength(text);

/** The value to cut next: the longest string if there is a long one, else the longest value. */
function longestValue(record: Record<string, unknown>): string | null {
  let longestString: [string, number] | null = null;
  let longestAny: [string, number] | null = null;
  for (const [k, v] of Object.entries(record)) {
    if (k === 'time' || k === 'level' || k === 'logger' || v === undefined || v === null) continue;
    const len = bytes(JSON.stringify(v));
    if (typeof v === 'string' && len > (longestString?.[1] ?? -1)) longestString = [k, len];
    if (len > (longestAny?.[1] ?? -1)) longestAny = [k, len];
  }
  return longestString && longestString[1] > 64 ? longestString[0] : (longestAny?.[0] ?? null);
}

/**
 * A JSON line that stays valid JSON when too long: the longest values are cut, not the line (a list
 * or an object that must be cut becomes its JSON text, cut).
 */
export function jsonLine(level: string, msg: string, fields: Fields): string {
  const record: Record<string, unknown> = { time: new Date().toISOString(), level, logger: LOGGER, msg, ...fields };
  for (let attempt = 0; attempt < 8; attempt++) {
    const line = JSON.stringify(record);
    const excess = bytes(line) - (MAX_LINE - 1);
    if (excess <= 0) return line;
    const longest = longestValue(record);
    if (longest === null) break;
    const value = record[longest];
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    // JSON escapes make a value longer than its bytes: cut by what is over plus what its escapes add
    const over = excess + Math.max(0, bytes(JSON.stringify(text)) - bytes(text));
    record[longest] = cutText(text, Math.max(0, bytes(text) - over));
  }
  return JSON.stringify({ time: record.time, level, logger: LOGGER, msg: cutText(escapeControl(msg), 1024), cut: true });
}
