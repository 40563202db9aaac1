// node <the SEA's flags> scripts/lib/warm-cache.mjs DIR ASSETS: runs DIR/graceful-init.js (the
// bundle as the single executable's asset, scripts/lib/sea.mjs) as the executable would, for one
// start that runs /bin/true, and writes the code cache of that script as it stands when the init
// exits: DIR/graceful-init.cache. Made by the runtime that is embedded, under its flags: V8 refuses a
// cache made under others.
//
// The bundle is told it is the single executable (node:sea answers from ASSETS, a JSON object of
// asset name → file). The quick exit is never armed, so the init always leaves through the addon's
// _exit, which first writes the cache.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { SEA_BUNDLE, SEA_BUNDLE_CACHE } from './sea.mjs';

const dir = process.argv[2];
const assets = JSON.parse(process.argv[3]);
const out = join(dir, SEA_BUNDLE_CACHE);
const script = new Script(readFileSync(join(dir, SEA_BUNDLE), 'utf8'), { filename: SEA_BUNDLE });

const rawAsset = (key) => {
  const bytes = readFileSync(assets[key]);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
};
const sea = { isSea: () => true, getRawAsset: rawAsset, getAsset: (key, encoding) => (encoding ? readFileSync(assets[key], encoding) : rawAsset(key)) };
const builtin = process.getBuiltinModule.bind(process);
process.getBuiltinModule = (id) => (id === 'node:sea' || id === 'sea' ? sea : builtin(id));

const scratch = mkdtempSync(join(tmpdir(), 'gi-warm-cache-'));
const dlopen = process.dlopen.bind(process);
process.dlopen = (module, file, ...flags) => {
  dlopen(module, file, ...flags);
  const addon = module.exports;
  module.exports = Object.assign(Object.create(addon), {
    armQuickExit: () => 0,
    exitNow: (code) => {
      writeFileSync(out, script.createCachedData());
      rmSync(scratch, { recursive: true, force: true });
      addon.exitNow(code);
    },
  });
};

// the embedded addon goes into an unnamed file beside the runtime (src/reaper/sea-asset.ts); TMPDIR,
// which it would use when not root, is a directory of our own
process.env.TMPDIR = scratch;
process.argv = [process.execPath, process.execPath, '--', '/bin/true'];
script.runInThisContext()({}, createRequire(import.meta.url), { exports: {} }, process.execPath, dirname(process.execPath));
