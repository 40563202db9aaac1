import { readFileSync } from 'node:fs';

/** NUL-terminated entries → buffers. */
function entries(bytes: Buffer): Buffer[] {
  const list: Buffer[] = [];
  let start = 0;
  for (let i = bytes.indexOf(0); i !== -1; i = bytes.indexOf(0, start)) {
    list.push(bytes.subarray(start, i));
    start = i + 1;
  }
  return list;
}

function readProc(file: string): Buffer | null {
  try {
    return readFileSync(file);
  } catch {
    return null;
  }
}

/**
 * The app's argv as the bytes the init was given: Node decodes its own argv as UTF-8 and would
 * mangle anything else. Taken from the tail of /proc/self/cmdline; the decoded strings where /proc
 * is missing or the two disagree.
 */
export function rawCommand(command: readonly string[]): (string | Buffer)[] {
  const raw = readProc('/proc/self/cmdline');
  if (!raw) return [...command];
  const tail = entries(raw).slice(-command.length);
  const same = tail.length === command.length && tail.every((b, i) => b.toString() === command[i]);
  return same ? tail : [...command];
}

/**
 * The environment the init was started with, as raw "KEY=value" bytes (/proc/self/environ), or
 * rebuilt from process.env where /proc is missing.
 */
export function rawEnvironment(): Buffer[] {
  const raw = readProc('/proc/self/environ');
  if (raw) return entries(raw);
  return Object.entries(process.env).map(([k, v]) => Buffer.from(`${k}=${v ?? ''}`));
}
