// Where the bytes are: the executable and what it is made of (the stripped runtime, the SEA blob and
// inside it the JS bundle and the addon), the biggest inputs of the JS bundle (from the esbuild
// metafile the build writes beside it), and the portable tarballs, with what the host's one would
// weigh under xz -9 and zstd -19 and how long each takes to decompress. Compressing takes minutes:
// the results are kept in bench/build/, keyed by the tarball's hash and the tools' versions.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { BUILD, ROOT, which } from './setup.mjs';

const size = (file) => {
  try {
    return statSync(file).size;
  } catch {
    return null;
  }
};

/** `strip --strip-all` on a copy of the runtime, in a temp dir: what the build injects the blob into. */
function strippedRuntime(node, notes) {
  if (!node || !which('strip')) {
    notes.push('no strip (binutils): the stripped runtime is not measured');
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), 'gi-bench-strip-'));
  try {
    const copy = join(dir, 'node');
    copyFileSync(node, copy);
    const r = spawnSync('strip', ['--strip-all', copy], { stdio: 'ignore' });
    return r.status === 0 ? size(copy) : null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The package an input of the bundle belongs to ('src' for ours). */
function packageOf(path) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return m ? m[1] : path.split('/')[0];
}

/**
 * The JS bundle by package, from esbuild's metafile: bytes in the (minified) output per package,
 * and which packages execa brings (every package reachable through imports from execa's files).
 */
function bundleInputs(metaFile) {
  if (!existsSync(metaFile)) return null;
  const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
  const output = Object.values(meta.outputs)[0];
  if (!output) return null;
  const byPackage = {};
  for (const [path, v] of Object.entries(output.inputs)) byPackage[packageOf(path)] = (byPackage[packageOf(path)] ?? 0) + v.bytesInOutput;
  const reached = new Set();
  const queue = Object.keys(meta.inputs).filter((p) => packageOf(p) === 'execa');
  while (queue.length > 0) {
    const path = queue.pop();
    if (reached.has(path)) continue;
    reached.add(path);
    for (const i of meta.inputs[path]?.imports ?? []) if (meta.inputs[i.path]) queue.push(i.path);
  }
  const execaDeps = [...new Set([...reached].map(packageOf))].filter((p) => p !== 'execa' && p !== 'src').sort();
  return {
    bytes: output.bytes,
    packages: Object.entries(byPackage)
      .map(([name, bytes]) => ({ name, bytes }))
      .sort((a, b) => b.bytes - a.bytes),
    execaDeps,
  };
}

function toolVersion(tool) {
  const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0].trim() : null;
}

/** ms to decompress `file` with `tool -dc` into /dev/null (the best of 3). */
function decompressMs(tool, file) {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const devnull = openSync('/dev/null', 'w');
    try {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(tool, ['-dc', file], { stdio: ['ignore', devnull, 'ignore'] });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) return null;
      best = Math.min(best, ms);
    } finally {
      closeSync(devnull);
    }
  }
  return best;
}

/** The tarball's tar under xz -9 and zstd -19 (single-threaded, niced), and decompression times. */
function recompress(tarball, progress, notes) {
  const tools = ['gzip', 'xz', 'zstd'].filter((t) => which(t));
  if (!tools.includes('gzip')) return null;
  for (const t of ['xz', 'zstd']) if (!tools.includes(t)) notes.push(`${t} is not installed (Debian: ${t === 'xz' ? 'xz-utils' : 'zstd'}): not compared`);
  const versions = Object.fromEntries(tools.map((t) => [t, toolVersion(t)]));
  const hash = createHash('sha256').update(readFileSync(tarball)).digest('hex').slice(0, 16);
  const key = createHash('sha256').update(JSON.stringify({ hash, versions })).digest('hex').slice(0, 16);
  const cacheFile = join(BUILD, `recompress-${key}.json`);
  if (existsSync(cacheFile)) return { ...JSON.parse(readFileSync(cacheFile, 'utf8')), cached: true };
  progress(`compressing ${basename(tarball)} with ${tools.filter((t) => t !== 'gzip').join(' and ')} (minutes; kept in bench/build/)`);
  const dir = mkdtempSync(join(tmpdir(), 'gi-bench-xz-'));
  try {
    const tar = join(dir, 'bundle.tar');
    const sh = (cmd, args, out) => {
      const fd = openSync(out, 'w');
      try {
        const t0 = process.hrtime.bigint();
        const r = spawnSync('nice', ['-n', '10', cmd, ...args], { stdio: ['ignore', fd, 'pipe'] });
        if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
        return Number(process.hrtime.bigint() - t0) / 1e9;
      } finally {
        closeSync(fd);
      }
    };
    sh('gzip', ['-dc', tarball], tar);
    const result = {
      tarball: basename(tarball),
      sha256: hash,
      versions,
      tarBytes: size(tar),
      gzip: { bytes: size(tarball), decompressMs: decompressMs('gzip', tarball) },
    };
    const variants = [
      ['xz', ['-9', '-T1', '-c', tar], 'xz', '-9'],
      ['zstd', ['-19', '-T1', '-q', '-c', tar], 'zst', '-19'],
    ];
    for (const [tool, args, ext, level] of variants) {
      if (!tools.includes(tool)) continue;
      const out = join(dir, `bundle.tar.${ext}`);
      const compressS = sh(tool, args, out);
      result[tool] = { level, bytes: size(out), compressS, decompressMs: decompressMs(tool, out) };
      rmSync(out, { force: true });
    }
    mkdirSync(BUILD, { recursive: true });
    writeFileSync(cacheFile, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Everything for the "where the bytes are" table. `executable` is the copy being measured; the
 * blob, bundle and addon are read from dist/, as the build left them.
 */
export function whereTheBytesAre({ executable, node, tarballs, progress, notes }) {
  const dist = join(ROOT, 'dist');
  const bytes = {
    executable: size(executable),
    runtime: size(node),
    runtimeStripped: strippedRuntime(node, notes),
    blob: size(join(dist, 'sea-prep.blob')),
    bundle: size(join(dist, 'graceful-init.js')) ?? size(join(dist, 'graceful-init.cjs')),
    bundleCache: existsSync(join(dist, 'graceful-init.cache')) ? size(join(dist, 'graceful-init.cache')) : null,
    entry: existsSync(join(dist, 'sea-entry.cjs')) ? size(join(dist, 'sea-entry.cjs')) : null,
    chunk: existsSync(join(dist, 'execa.cjs')) ? size(join(dist, 'execa.cjs')) : null,
    addon: size(join(dist, 'reaper.node')),
    bundleInputs: bundleInputs(join(dist, 'graceful-init.meta.json')),
    chunkInputs: bundleInputs(join(dist, 'execa.meta.json')),
    tarballs: tarballs.map((f) => ({ file: f.slice(ROOT.length + 1), bytes: size(f) })),
    recompressed: null,
  };
  if (!bytes.bundleInputs) notes.push('no dist/graceful-init.meta.json (an older build): the JS bundle is not broken down');
  const host = tarballs.find((f) => f.endsWith(`-linux-${arch()}.tar.gz`));
  if (host) {
    try {
      bytes.recompressed = recompress(host, progress, notes);
    } catch (err) {
      notes.push(`recompressing the tarball failed: ${err.message.split('\n')[0]}`);
    }
  }
  return bytes;
}
