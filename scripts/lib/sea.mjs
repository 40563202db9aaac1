// The two halves of a single executable application: the blob (bundle, code cache, assets) made by
// a Node of the same version as the runtime it goes into, and that runtime with the blob injected.
import { chmodSync, copyFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './paths.mjs';
import { run } from './run.mjs';

const postject = join(root, 'node_modules', 'postject', 'dist', 'cli.js');

// The bundle as the executable's asset and its code cache: the names src/sea-entry.ts reads.
export const SEA_BUNDLE = 'graceful-init.js';
export const SEA_BUNDLE_CACHE = 'graceful-init.cache';

/** The bundle as the function src/sea-entry.ts calls, with the arguments Node gives a CommonJS module. */
export const wrapAsCommonJs = (source) => `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * Writes `config` to `configFile` (kept: build-arm64.mjs derives its own from the x64 one) and makes
 * config.output, with `v8Flags` in force while the code cache is made.
 */
export function writeSeaBlob(node, config, configFile, v8Flags = []) {
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  run(node, [...v8Flags, '--experimental-sea-config', configFile]);
}

/**
 * `out` = a stripped copy of `runtime` with `blob` injected. Stripped before injecting: stripping
 * afterwards drops the blob. Made beside `out` and renamed into place, so that a running copy of
 * `out` (a test, a benchmark) is never rewritten under it.
 */
export function injectSea({ runtime, blob, out, strip }) {
  const partial = `${out}.${process.pid}.tmp`;
  copyFileSync(runtime, partial);
  chmodSync(partial, 0o755);
  run(strip, ['--strip-all', partial]);
  run(process.execPath, [postject, partial, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);
  renameSync(partial, out);
}
