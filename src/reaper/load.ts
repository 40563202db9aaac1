// Finds and loads the native reaper (reaper.node). Runs at every start-up: no
// directory scans, a handful of stat() calls, and it never throws.
//
// Candidates, first that loads wins:
//   1. opts.explicitPath (--reaper-path / GRACEFUL_INIT_REAPER_PATH, resolved by the caller)
//   2. beside the executable: <dir of execPath>/reaper.node, <dir of execPath>/../lib/reaper.node
//   3. SEA only: the embedded asset "reaper.node", written once to a content-addressed
//      file in a private per-uid directory under $TMPDIR, /tmp, /dev/shm, /run, /var/tmp
//      (a noexec mount makes dlopen fail: the next directory is tried)
//   4. not SEA (dev, tests): reaper.node beside the main script, then the repo's
//      dist/reaper.node and src/reaper/build/Release/reaper.node
import {
  closeSync,
  fchmodSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  chmodSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { NativeReaper } from './native-api.js';

export const REAPER_ASSET = 'reaper.node';

export interface LoadReaperOptions {
  /** tried first; the caller resolves it from its option / GRACEFUL_INIT_REAPER_PATH */
  explicitPath?: string | undefined;
}

export type LoadReaperResult =
  | {
      reaper: NativeReaper;
      /** the file that was loaded; "sea-asset:<file>" when extracted from the executable */
      from: string;
    }
  | { reaper: null; reasons: string[] };

const REQUIRED_FUNCTIONS = [
  'reap',
  'spawn',
  'setChildSubreaper',
  'setParentDeathSignal',
  'setForeground',
  'getProcessGroup',
  'isTerminal',
] as const;

const loaded = new Map<string, NativeReaper>();

function errText(err: unknown, path?: string): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  let first = (typeof e?.message === 'string' ? e.message : String(err)).split('\n', 1)[0] ?? '';
  if (path && first.startsWith(`${path}: `)) first = first.slice(path.length + 2); // dlopen repeats the path
  const code = typeof e?.code === 'string' && !first.includes(e.code) ? `${e.code}: ` : '';
  let text = `${code}${first}`;
  if (first.includes('failed to map segment')) text += ' (noexec mount?)';
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/** dlopen one file; on failure push a reason and return null. */
function tryLoad(path: string, reasons: string[]): NativeReaper | null {
  const cached = loaded.get(path);
  if (cached) return cached;
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) {
      reasons.push(`${path}: not found`);
      return null;
    }
    if (!st.isFile()) {
      reasons.push(`${path}: not a regular file`);
      return null;
    }
    const mod: { exports: Record<string, unknown> } = { exports: {} };
    process.dlopen(mod, path);
    for (const name of REQUIRED_FUNCTIONS) {
      if (typeof mod.exports[name] !== 'function') {
        reasons.push(`${path}: not a graceful-init reaper (no ${name}())`);
        return null;
      }
    }
    const reaper = mod.exports as unknown as NativeReaper;
    loaded.set(path, reaper);
    return reaper;
  } catch (err) {
    reasons.push(`${path}: ${errText(err, path)}`);
    return null;
  }
}

interface SeaModule {
  isSea(): boolean;
  getRawAsset(key: string): ArrayBuffer;
}

function seaModule(): SeaModule | null {
  try {
    const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    const sea = typeof get === 'function' ? (get.call(process, 'node:sea') as SeaModule | undefined) : undefined;
    return sea && typeof sea.isSea === 'function' && sea.isSea() ? sea : null;
  } catch {
    return null;
  }
}

/** mkdir -m 0700 <dir>, or accept an existing one only if it is ours and private. */
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

/** Make <file> hold exactly `bytes`: reuse it when it does, else write a temp file and rename. */
function ensureFile(file: string, bytes: Buffer, uid: number): 'reused' | 'written' {
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (st?.isFile() && st.uid === uid && st.size === bytes.length) {
    try {
      if (readFileSync(file).equals(bytes)) return 'reused';
    } catch {
      // unreadable: rewrite below
    }
  }
  // pid + time is unique enough: the exclusive open below refuses a clash
  const tmp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  const fd = openSync(tmp, 'wx', 0o700);
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fchmodSync(fd, 0o700); // whatever the umask
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // ignore
    }
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // ignore
    }
    throw err;
  }
  return 'written';
}

declare const __REAPER_ASSET_SHA256__: string | undefined;

/** Set by scripts/build.mjs, which embeds the asset: hashing it here would load node:crypto (~6 ms). */
function embeddedAssetHash(): string | null {
  return typeof __REAPER_ASSET_SHA256__ === 'string' && __REAPER_ASSET_SHA256__ !== '' ? __REAPER_ASSET_SHA256__ : null;
}

function sha256Prefix(bytes: Buffer): string {
  const { createHash } = process.getBuiltinModule('node:crypto');
  return createHash('sha256').update(bytes).digest('hex').slice(0, 20);
}

function fromSeaAsset(sea: SeaModule, reasons: string[]): { reaper: NativeReaper; from: string } | null {
  let bytes: Buffer;
  try {
    // A view on the executable's mapped asset: read-only, no copy.
    bytes = Buffer.from(sea.getRawAsset(REAPER_ASSET));
  } catch (err) {
    reasons.push(`embedded asset ${REAPER_ASSET}: ${errText(err)}`);
    return null;
  }
  const hash = embeddedAssetHash() ?? sha256Prefix(bytes);
  const name = `reaper-${hash}.node`;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const dirs = [process.env.TMPDIR, '/tmp', '/dev/shm', '/run', '/var/tmp'].filter(
    (d): d is string => typeof d === 'string' && d.startsWith('/'),
  );
  for (const base of new Set(dirs.map((d) => resolve(d)))) {
    const dir = join(base, `graceful-init-${uid}`);
    const file = join(dir, name);
    try {
      ensurePrivateDir(dir, uid);
      ensureFile(file, bytes, uid);
    } catch (err) {
      reasons.push(`${dir}: ${errText(err)}`);
      continue;
    }
    const reaper = tryLoad(file, reasons); // fails on a noexec mount: try the next one
    if (reaper) return { reaper, from: `sea-asset:${file}` };
  }
  return null;
}

/**
 * The repo root when running from a checkout (dev, tests): the directory holding
 * src/reaper/binding.gyp, found from where the code itself lives, never from the working directory
 * (that would dlopen whatever reaper.node the directory we were started in offers).
 */
function repoRoots(): string[] {
  const starts: string[] = [];
  // this module's own directory (scripts/build.mjs defines it as __dirname in the CommonJS bundle)
  const here: string | undefined = import.meta.dirname;
  if (typeof here === 'string') starts.push(here);
  if (process.argv[1]) starts.push(dirname(resolve(process.argv[1])));
  const roots = new Set<string>();
  for (const start of starts) {
    let dir = start;
    for (let i = 0; i < 8; i++) {
      if (statSync(join(dir, 'src', 'reaper', 'binding.gyp'), { throwIfNoEntry: false })) {
        roots.add(dir);
        break;
      }
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return [...roots];
}

export function loadReaper(opts: LoadReaperOptions = {}): LoadReaperResult {
  const reasons: string[] = [];
  try {
    const tried = new Set<string>();
    const attempt = (path: string): { reaper: NativeReaper; from: string } | null => {
      const abs = resolve(path);
      if (tried.has(abs)) return null;
      tried.add(abs);
      const reaper = tryLoad(abs, reasons);
      return reaper ? { reaper, from: abs } : null;
    };

    if (opts.explicitPath) {
      const r = attempt(opts.explicitPath);
      if (r) return r;
    }

    const exeDir = dirname(process.execPath);
    for (const p of [join(exeDir, REAPER_ASSET), join(exeDir, '..', 'lib', REAPER_ASSET)]) {
      const r = attempt(p);
      if (r) return r;
    }

    const sea = seaModule();
    if (sea) {
      const r = fromSeaAsset(sea, reasons);
      if (r) return r;
    } else {
      const candidates: string[] = [];
      if (process.argv[1]) candidates.push(join(dirname(resolve(process.argv[1])), REAPER_ASSET));
      for (const root of repoRoots()) {
        candidates.push(
          join(root, 'dist', REAPER_ASSET),
          join(root, 'src', 'reaper', 'build', 'Release', REAPER_ASSET),
          join(root, 'build', 'Release', REAPER_ASSET),
        );
      }
      for (const p of candidates) {
        const r = attempt(p);
        if (r) return r;
      }
    }
  } catch (err) {
    reasons.push(`unexpected: ${errText(err)}`);
  }
  if (reasons.length === 0) reasons.push('no candidate paths');
  return { reaper: null, reasons };
}
