// The single executable's entry point: a few lines, compiled at every start. Node makes the code
// cache of a SEA's main script before the script has run, so that cache holds its top level only,
// and the ~120 functions every start calls were compiled at every start (3-4 ms). The bundle comes
// instead as an asset (wrapped as a CommonJS function by the build) with a code cache the build made
// after a real start (scripts/lib/warm-cache.mjs), in which those functions are compiled already.
import { dirname } from 'node:path';
import { getAsset, getRawAsset } from 'node:sea';
import { Script } from 'node:vm';

// the names scripts/lib/sea.mjs gives the two assets (SEA_BUNDLE, SEA_BUNDLE_CACHE)
const BUNDLE = 'graceful-init.js';
const BUNDLE_CACHE = 'graceful-init.cache';

type CommonJsBody = (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;

// a cache V8 refuses (made under other flags) is only the compile time back, never an error
const script = new Script(getAsset(BUNDLE, 'utf8'), { filename: BUNDLE, cachedData: new Uint8Array(getRawAsset(BUNDLE_CACHE)) });
(script.runInThisContext() as CommonJsBody)(exports, require, module, process.execPath, dirname(process.execPath));
