import { writeSync } from 'node:fs';
import type { LogFormat, Verbosity } from './cli/options.js';

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
}

/**
 * Writes straight to fd 2 with write(2). Never touches process.stderr: Node would turn the shared pipe
 * non-blocking, and the app, which writes to the same pipe, would start losing output on EAGAIN.
 * Never throws: a closed or full stderr must not take PID 1 down.
 */
export function createLogger(format: LogFormat, verbosity: Verbosity, fd = 2): Logger {
  const write = (level: string, msg: string, fields: Fields = {}) => {
    let line: string;
    if (format === 'json') {
      line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
    } else {
      const extra = Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`);
      line = `graceful-init: ${msg}${extra.length ? ` (${extra.join(' ')})` : ''}`;
    }
    try {
      writeSync(fd, `${line}\n`);
    } catch {
      // nowhere left to report it
    }
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
  };
}
