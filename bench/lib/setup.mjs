// Everything a run needs before the first measurement: the C helpers, the graceful-init binary
// (built when missing or older than its sources, then copied so a concurrent rebuild cannot change
// it mid-run), the peer inits and nginx from Debian packages.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = join(BENCH, '..');
export const BUILD = join(BENCH, 'build');
export const RESULTS = join(BENCH, 'results');

const HELPERS = ['stamp', 'timed', 'probe', 'naive-init', 'killwatch'];
const isRoot = process.getuid?.() === 0;

export function which(name) {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    const file = join(dir, name);
    try {
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return null;
}

function newestMtime(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'build') continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** apt-get install -y, once with the current lists and once more after apt-get update. */
function aptInstall(pkg, notes) {
  if (!isRoot) {
    notes.push(`${pkg}: not installed and not root, cannot apt-get install it: skipped`);
    return false;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const update of [false, true]) {
    if (update) spawnSync('apt-get', ['update'], { stdio: 'ignore', env });
    const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { stdio: 'ignore', env });
    if (r.status === 0) {
      notes.push(`${pkg}: installed with apt-get`);
      return true;
    }
  }
  notes.push(`${pkg}: apt-get install failed: skipped`);
  return false;
}

function ensureTool(name, pkg, notes) {
  return which(name) ?? (aptInstall(pkg, notes) ? which(name) : null);
}

/** Compiles bench/c/*.c into bench/build/ (static when the C library allows it). */
export function buildHelpers(notes) {
  const cc = ensureTool('cc', 'gcc', notes) ?? ensureTool('gcc', 'gcc', notes);
  if (!cc) throw new Error('no C compiler (cc): the probes cannot be built');
  mkdirSync(BUILD, { recursive: true });
  const out = {};
  for (const name of HELPERS) {
    const src = join(BENCH, 'c', `${name}.c`);
    const bin = join(BUILD, name);
    out[name] = bin;
    const srcTime = Math.max(newestMtime(src), newestMtime(join(BENCH, 'c', 'common.h')));
    if (existsSync(bin) && statSync(bin).mtimeMs >= srcTime) continue;
    const args = ['-O2', '-Wall', '-o', bin, src];
    let r = spawnSync(cc, ['-static', ...args], { encoding: 'utf8' });
    if (r.status !== 0) {
      r = spawnSync(cc, args, { encoding: 'utf8' });
      if (r.status === 0) notes.push(`${name}: built dynamically (no static libc)`);
    }
    if (r.status !== 0) throw new Error(`cc ${name}.c failed:\n${r.stderr}`);
  }
  return out;
}

/**
 * dist/graceful-init, rebuilt with `npm run build` when missing or older than src/ (unless
 * --no-build), then copied alone into a private directory: a single file, as it is deployed,
 * so the embedded reaper is what it loads.
 */
export function prepareGracefulInit({ build, notes }) {
  const dist = join(ROOT, 'dist', 'graceful-init');
  const sources = Math.max(newestMtime(join(ROOT, 'src')), newestMtime(join(ROOT, 'scripts')), newestMtime(join(ROOT, 'package.json')));
  const stale = !existsSync(dist) || statSync(dist).mtimeMs < sources;
  if (build === 'always' || (build === 'auto' && stale)) {
    process.stderr.write(`bench: building graceful-init (${existsSync(dist) ? 'sources are newer' : 'no dist/graceful-init'})\n`);
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  } else if (stale) {
    notes.push('dist/graceful-init is older than src/ (--no-build): measured as it is');
  }
  if (!existsSync(dist)) throw new Error('dist/graceful-init is missing: run npm run build');
  const dir = mkdtempSync(join(tmpdir(), 'gi-bench-'));
  const bin = join(dir, 'graceful-init');
  // a concurrent build may be rewriting it (ETXTBSY/short file): retry a little
  for (let i = 0; ; i++) {
    try {
      copyFileSync(dist, bin);
      execFileSync(bin, ['--version'], { stdio: 'ignore' });
      break;
    } catch (err) {
      if (i >= 20) throw err;
      spawnSync('sleep', ['0.5']);
    }
  }
  const tarballs = existsSync(join(ROOT, 'dist'))
    ? readdirSync(join(ROOT, 'dist')).filter((f) => f.endsWith('.tar.gz')).map((f) => join(ROOT, 'dist', f))
    : [];
  return { bin, dir, builtAt: statSync(dist).mtime.toISOString(), tarballs, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Copies `file` into `dir` (under its own name), executable; returns the copy's path. */
export function privateCopy(file, dir) {
  const copy = join(dir, basename(file));
  copyFileSync(file, copy);
  chmodSync(copy, 0o755);
  return copy;
}

/**
 * Writes `file` anew in place (a copy renamed over it: a new inode, new pages), for a binary only
 * the bench maps (the private copies).
 */
export function rewriteInPlace(file) {
  const fresh = `${file}.${process.pid}.fresh`;
  copyFileSync(file, fresh);
  chmodSync(fresh, 0o755);
  renameSync(fresh, file);
}

/**
 * Waits (at most 3 s) until no block device has I/O in flight, then 200 ms more: the readahead an
 * `exec` starts goes on after the process has gone, and would slow down whatever runs next.
 */
export async function waitDiskIdle() {
  const inFlight = () => {
    try {
      return readFileSync('/proc/diskstats', 'utf8').split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length > 11 && !f[2].startsWith('loop')).reduce((n, f) => n + Number(f[11]), 0);
    } catch {
      return 0;
    }
  };
  const until = Date.now() + 3000;
  while (inFlight() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
}

/**
 * Drops the files from the page cache (fsync first when we may write them, then
 * posix_fadvise(DONTNEED) through dd), so that every binary starts out as it would in a fresh
 * container: read from disk by exec. A file just written (our copy of graceful-init) would
 * otherwise sit in the page cache in whatever folio sizes the writer left, and the file-backed
 * part of the RSS depends on that.
 */
export function dropPageCache(files, writable = []) {
  for (const file of writable) {
    try {
      const fd = openSync(file, 'r+');
      fsyncSync(fd);
      closeSync(fd);
    } catch {
      // best effort
    }
  }
  for (const file of files) spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0'], { stdio: 'ignore' });
}

function versionOf(bin, args = ['--version']) {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 5000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
}

function debVersion(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * The inits, in column order. `cmd(app, { dashdash })` is how each one is asked to run `app`.
 * The control is ours: see bench/c/naive-init.c.
 */
export function discoverInits({ gracefulInit, helpers, notes, only }) {
  const inits = [
    {
      id: 'graceful-init',
      label: 'graceful-init',
      bin: gracefulInit.bin,
      version: versionOf(gracefulInit.bin).replace(/^graceful-init\s*/, ''),
      cmd: (app, o = {}) => [gracefulInit.bin, ...(o.options ?? []), ...(o.dashdash === false ? [] : ['--']), ...app],
    },
  ];
  const peers = [
    { id: 'tini', pkg: 'tini', cmd: (bin) => (app, o = {}) => [bin, ...(o.dashdash === false ? [] : ['--']), ...app] },
    { id: 'dumb-init', pkg: 'dumb-init', cmd: (bin) => (app, o = {}) => [bin, ...(o.dashdash === false ? [] : ['--']), ...app] },
    { id: 'catatonit', pkg: 'catatonit', cmd: (bin) => (app, o = {}) => [bin, ...(o.dashdash === false ? [] : ['--']), ...app] },
  ];
  for (const peer of peers) {
    if (only && !only.includes(peer.id)) continue;
    const bin = ensureTool(peer.id, peer.pkg, notes);
    if (!bin) continue;
    const deb = debVersion(peer.pkg);
    inits.push({ id: peer.id, label: peer.id, bin, version: deb ? `${deb} (Debian)` : versionOf(bin), cmd: peer.cmd(bin) });
  }
  if (!inits.some((i) => i.id === 'tini')) notes.push('tini is missing: no ratios to tini in this run');
  inits.push({
    id: 'control',
    label: 'control',
    bin: helpers['naive-init'],
    version: 'bench/c/naive-init.c: waits for its child only, no signal handlers',
    control: true,
    cmd: (app, o = {}) => [helpers['naive-init'], ...(o.dashdash === false ? [] : ['--']), ...app],
  });
  return inits;
}

export function findNginx(notes) {
  return ensureTool('nginx', 'nginx', notes);
}

export function findUnshare(notes) {
  const unshare = ensureTool('unshare', 'util-linux', notes);
  if (!unshare || !isRoot) {
    throw new Error('the benchmarks run every init as PID 1 of a new PID namespace: they need root and unshare');
  }
  return unshare;
}
