import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type Resolved =
  | { ok: true; path: string }
  | { ok: false; exitCode: 126 | 127; reason: string };

function probe(path: string): 'runnable' | 'directory' | 'not-executable' | 'missing' {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    return 'missing';
  }
  if (isDirectory) return 'directory';
  try {
    accessSync(path, constants.X_OK);
    return 'runnable';
  } catch {
    return 'not-executable';
  }
}

/**
 * The lookup execvp(3) does, done up front so that the error names the real problem:
 * a name with a slash is used as is; otherwise the first runnable file on PATH wins, and a match
 * that cannot be run is reported only when nothing runnable was found (126), else "not found" (127).
 */
export function resolveCommand(name: string, pathVar: string | undefined): Resolved {
  if (name === '') return { ok: false, exitCode: 127, reason: 'the command is an empty string' };
  const candidates = name.includes('/')
    ? [name]
    : (pathVar ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
        .split(delimiter)
        .map((dir) => join(dir === '' ? '.' : dir, name));
  let unusable: 'directory' | 'not-executable' | null = null;
  for (const candidate of candidates) {
    const found = probe(candidate);
    if (found === 'runnable') return { ok: true, path: candidate };
    if (found !== 'missing') unusable ??= found;
  }
  if (unusable === 'directory') return { ok: false, exitCode: 126, reason: 'is a directory' };
  if (unusable === 'not-executable') return { ok: false, exitCode: 126, reason: 'permission denied (not executable)' };
  return { ok: false, exitCode: 127, reason: name.includes('/') ? 'no such file' : 'not found in PATH' };
}
