// The addon embedded in the single executable. dlopen needs a file: the asset is written to one that
// has no name (O_TMPFILE, or created and unlinked at once where the filesystem cannot), which only
// this process holds and which is loaded through /proc/self/fd/N: nobody can swap it, whatever the
// directory's owner and modes. Nothing is left behind, and nothing is cached between starts.
import { closeSync, constants, fchmodSync, fstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

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

// <linux/fcntl.h>: __O_TMPFILE is the same on x86_64 and arm64, O_DIRECTORY is not (Node has that one)
const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY;

/** A new file in `dir` with no name, readable and writable by us only. */
function unnamedFile(dir: string): number {
  try {
    return openSync(dir, O_TMPFILE | constants.O_RDWR, 0o700);
  } catch (err) {
    // EOPNOTSUPP: a filesystem without O_TMPFILE (overlayfs before Linux 6.6); EISDIR: a kernel
    // without it. Created exclusively (never an existing file or a link) and unlinked at once.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EOPNOTSUPP' && code !== 'EISDIR' && code !== 'EINVAL') throw err;
  }
  const name = join(dir, `.graceful-init-${process.pid}-${Date.now().toString(36)}`);
  const fd = openSync(name, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o700);
  try {
    unlinkSync(name);
  } catch {
    // renamed away by someone who may write `dir`: the file is still ours alone (mode 0700)
  }
  return fd;
}

/** A descriptor of a private, unnamed copy of `bytes` in `dir`; throws when it cannot be made there. */
function privateCopy(dir: string, bytes: Uint8Array, uid: number): number {
  const fd = unnamedFile(dir);
  try {
    fchmodSync(fd, 0o700); // whatever the umask
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    const st = fstatSync(fd);
    if (st.uid !== uid || st.size !== bytes.length || (st.mode & 0o077) !== 0) throw new Error('the copy is not private');
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * Where the embedded addon can be copied, best first, each a candidate of its own (a noexec mount
 * makes the load fail, a read-only one the copy): the executable's own directory, whose filesystem
 * lets it run; the usual tmpfs directories. TMPDIR only when not root: for root it comes from a
 * configuration that may point into a volume any user of the pod can write.
 */
export function embeddedCopies(sea: SeaModule, exeDir: string, uid: number): { dir: string; open(): number }[] {
  const dirs = [exeDir, ...(uid !== 0 && process.env.TMPDIR?.startsWith('/') ? [process.env.TMPDIR] : []), '/dev/shm', '/run', '/tmp', '/var/tmp'];
  return [...new Set(dirs)].map((dir) => ({ dir, open: () => privateCopy(dir, new Uint8Array(sea.getRawAsset(ADDON_ASSET)), uid) }));
}
