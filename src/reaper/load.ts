// Finds and loads the addon. Runs at every start: a few system calls, never throws.
// Candidates, the first that loads wins: --reaper-path; beside the executable and in ../lib (the
// portable bundle); the asset embedded in the single executable; beside the main script (the npm
// package runs dist/graceful-init.cjs next to dist/reaper.node).
//
// The init usually runs as root: it never loads code from a path another user can change. A file
// is opened once, its descriptor checked (a regular file, owned by root or by us, written by no one
// else) and that same file loaded through /proc/self/fd/N, so that nothing can be swapped between
// the check and the load. The embedded asset is written to a file that has no name at all
// (sea-asset.ts). Without /proc (the portable bundle may run so) a file is loaded by its path only
// when no other user can change any directory on that path.
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ADDON_FUNCTIONS, type Addon } from './native-api.js';
import { Native } from './native.js';
import { ADDON_ASSET, embeddedCopies, seaModule } from './sea-asset.js';

/** `reasons`: why each candidate tried before (or instead) did not load. */
export type LoadResult = { native: Native; from: string; reasons: string[] } | { native: null; reasons: string[] };

interface Candidate {
  /** what the -v log and the reasons call it */
  label: string;
  /** a descriptor of the file to load, or an Error that says why there is none */
  open(): number;
  /** the path to load it by when /proc/self/fd cannot serve (the embedded copy has none) */
  path?: string;
}

const ownUid = () => process.getuid?.() ?? 0;

const fail = (why: string): never => {
  throw new Error(why);
};

/** null when no one but root or us can change what `st` describes, else why not. */
function untrusted(st: Stats, uid: number): string | null {
  if (st.uid !== 0 && st.uid !== uid) return `owned by uid ${st.uid}`;
  if (st.mode & 0o022) return `writable by ${st.mode & 0o002 ? 'everyone' : 'its group'} (mode ${(st.mode & 0o7777).toString(8)})`;
  return null;
}

/** Opens `path` (not through a symbolic link) and checks the file it opened. */
function openFile(path: string): number {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    const bad = untrusted(st, ownUid());
    if (bad) throw new Error(`${bad}: make it root's (or this user's) and not writable by others`);
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

function fileCandidate(path: string): Candidate {
  return { label: path, path, open: () => openFile(path) };
}

/** In order, each worked out only when the one before has failed (path arithmetic is slow in the interpreter). */
function* candidates(explicitPath: string | null): Generator<Candidate> {
  if (explicitPath) yield fileCandidate(resolve(explicitPath));
  const exeDir = dirname(process.execPath);
  yield fileCandidate(join(exeDir, ADDON_ASSET));
  yield fileCandidate(join(exeDir, '..', 'lib', ADDON_ASSET));
  const sea = seaModule();
  if (sea) {
    if (!existsSync('/proc/self/fd')) yield { label: 'embedded copy', open: () => fail('needs /proc (it is loaded through /proc/self/fd)') };
    else for (const copy of embeddedCopies(sea, exeDir, ownUid())) yield { label: `embedded copy in ${copy.dir}`, open: copy.open };
  } else if (process.argv[1]) {
    yield fileCandidate(join(dirname(resolve(process.argv[1])), ADDON_ASSET));
  }
}

/** `/proc/self/fd/N` when it names the very file `fd` holds, else null (no /proc, or another one). */
function procPath(fd: number): string | null {
  const via = `/proc/self/fd/${fd}`;
  try {
    const [held, named] = [fstatSync(fd), statSync(via)];
    return held.ino === named.ino && held.dev === named.dev ? via : null;
  } catch {
    return null;
  }
}

/**
 * Without /proc: `path` resolved, then every directory from / down checked. One that others may
 * write is accepted only with the sticky bit and an entry that is root's or ours (as /tmp).
 */
function trustedPath(path: string): string {
  const real = realpathSync.native(path);
  const uid = ownUid();
  const ours = (st: Stats) => st.uid === 0 || st.uid === uid;
  let dir = '/';
  let parent = lstatSync(dir);
  for (const part of real.split('/').filter(Boolean)) {
    const here = join(dir, part);
    const st = lstatSync(here);
    const bad = untrusted(parent, uid);
    if (bad && !(ours(parent) && parent.mode & 0o1000 && ours(st))) throw new Error(`no /proc, and ${dir} is ${bad}`);
    [dir, parent] = [here, st];
  }
  const bad = untrusted(parent, uid);
  if (bad || !parent.isFile()) throw new Error(bad ?? 'not a regular file');
  return real;
}

const ERRNO_WORDS: Record<string, string> = { ENOENT: 'not found', EROFS: 'read-only', EACCES: 'permission denied', EPERM: 'permission denied' };

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ELOOP') return 'a symbolic link: give the file it points to';
  if (e?.code && e.syscall) return ERRNO_WORDS[e.code] ?? e.code;
  let text = (e?.message ?? String(err)).split('\n', 1)[0] ?? '';
  text = text.replace(/^\/proc\/self\/fd\/\d+: /, ''); // dlopen repeats the path
  if (text.includes('failed to map segment')) return 'noexec mount';
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/** The addon in the file `fd` holds (closed here), or an Error. */
function loadFrom(fd: number, candidate: Candidate): Native {
  try {
    const via = procPath(fd) ?? (candidate.path ? trustedPath(candidate.path) : null);
    if (!via) throw new Error('no /proc/self/fd to load it through');
    const mod: { exports: Record<string, unknown> } = { exports: {} };
    process.dlopen(mod, via);
    const missing = ADDON_FUNCTIONS.find((name) => typeof mod.exports[name] !== 'function');
    if (missing) throw new Error(`not a graceful-init addon (no ${missing}())`);
    return new Native(mod.exports as unknown as Addon);
  } finally {
    closeSync(fd);
  }
}

export function loadNative(explicitPath: string | null = null): LoadResult {
  const reasons: string[] = [];
  const seen = new Set<string>();
  for (const candidate of candidates(explicitPath)) {
    if (seen.has(candidate.label)) continue;
    seen.add(candidate.label);
    try {
      return { native: loadFrom(candidate.open(), candidate), from: candidate.label, reasons };
    } catch (err) {
      reasons.push(`${candidate.label}: ${reason(err)}`);
    }
  }
  return { native: null, reasons: reasons.length > 0 ? reasons : ['no candidate paths'] };
}

/** Where a reaper.node would be found first: the fix to name when none loads. */
export function addonHome(): string {
  return seaModule() || !process.argv[1] ? dirname(process.execPath) : dirname(resolve(process.argv[1]));
}
