// The addon embedded in the single executable: dlopen needs a file, so the asset is written once to
// a private, content-addressed file and reused by every later start.
import { chmodSync, closeSync, fchmodSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ADDON_ASSET = 'reaper.node';

interface SeaModule {
  isSea(): boolean;
  getRawAsset(key: string): ArrayBuffer;
  getAsset(key: string, encoding: 'utf8'): string;
}

/** node:sea when running as the single executable, else null. */
export function seaModule(): SeaModule | null {
  try {
    const sea = process.getBuiltinModule('node:sea') as SeaModule | undefined;
    return sea?.isSea() ? sea : null;
  } catch {
    return null;
  }
}

/** mkdir -m 0700, or accept an existing directory only if it is ours and private. */
function ensurePrivateDir(dir: string, uid: number): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error('exists and is not a directory');
  if (st.uid !== uid) throw new Error(`owned by uid ${st.uid}`);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/** `file` holds exactly `bytes` afterwards: reused when it does, else written beside and renamed. */
function ensureFile(file: string, bytes: Buffer, uid: number): void {
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (st?.isFile() && st.uid === uid && st.size === bytes.length) {
    try {
      if (readFileSync(file).equals(bytes)) return;
    } catch {
      // unreadable: written anew below
    }
  }
  // the exclusive open refuses a clash of pid and time
  const tmp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  const fd = openSync(tmp, 'wx', 0o700);
  try {
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fchmodSync(fd, 0o700); // whatever the umask
    closeSync(fd);
    renameSync(tmp, file);
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }
}

/**
 * Files the embedded addon can be loaded from, written on demand, best first: a noexec mount
 * makes dlopen fail, so each directory is a separate candidate. `hash` names the content. Each is
 * worked out only when the one before has failed (path arithmetic is slow in the interpreter).
 */
export function* extractedAssetPaths(sea: SeaModule, hash: string): Generator<{ path: string; write(): void }> {
  const uid = process.getuid?.() ?? 0;
  const seen = new Set<string>();
  for (const choice of [process.env.TMPDIR, '/tmp', '/dev/shm', '/run', '/var/tmp']) {
    if (!choice?.startsWith('/')) continue;
    const base = resolve(choice);
    if (seen.has(base)) continue;
    seen.add(base);
    const dir = join(base, `graceful-init-${uid}`);
    const path = join(dir, `reaper-${hash}.node`);
    yield {
      path,
      write: () => {
        ensurePrivateDir(dir, uid);
        ensureFile(path, Buffer.from(sea.getRawAsset(ADDON_ASSET)), uid);
      },
    };
  }
}
