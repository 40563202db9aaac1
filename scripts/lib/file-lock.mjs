// One build step at a time across processes (two builds started at once, a build next to a bundle):
// a lock file that holds the owner's pid, taken over when its owner is gone. Released at exit.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fail } from './run.mjs';

export function holdFileLock(lockPath, { timeoutMs = 120_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  mkdirSync(dirname(lockPath), { recursive: true });
  for (;;) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      process.on('exit', () => rmSync(lockPath, { force: true }));
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let holder;
    let ageMs;
    try {
      ageMs = Date.now() - statSync(lockPath).mtimeMs;
      holder = Number(readFileSync(lockPath, 'utf8')) || 0;
    } catch {
      continue; // released meanwhile
    }
    // an empty file is a lock being written right now, unless it has been empty for long
    let alive = holder > 0 || ageMs < 5_000;
    if (holder > 0) {
      try {
        process.kill(holder, 0);
      } catch (err) {
        alive = err.code === 'EPERM';
      }
    }
    if (!alive) {
      rmSync(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) fail(`timed out waiting for ${lockPath} (held by pid ${holder})`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
}
