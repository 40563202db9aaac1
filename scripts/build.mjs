// npm run build: esbuild bundle (CommonJS) -> SEA blob made by the pinned Node 24 -> injected with
// postject into a stripped copy of that same runtime -> dist/graceful-init.
//
//   node scripts/build.mjs [--test-hooks]
//
// --test-hooks: the test build, in dist/test-hooks/ (src/test-hooks.ts); the shipped one has none.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { dist, packageVersion, root, runtimeVersion, scriptsDir, x64Node, x64RuntimeDir } from './lib/paths.mjs';
import { fail, run, runScript } from './lib/run.mjs';
import { SEA_BUNDLE, SEA_BUNDLE_CACHE, injectSea, wrapAsCommonJs, writeSeaBlob } from './lib/sea.mjs';

const testHooks = process.argv.includes('--test-hooks');
// the name src/process/execa-chunk.ts loads
const EXECA_CHUNK = 'execa.cjs';
const outDir = testHooks ? join(dist, 'test-hooks') : dist;
const version = packageVersion();
// the addon is embedded as an asset and also shipped beside the binary (npm package, bundle)
const addon = join(dist, 'reaper.node');

/** execa stays out of the main bundle: src/process/execa-chunk.ts loads ./execa.cjs when needed. */
const execaAsChunk = {
  name: 'execa-as-chunk',
  setup(b) {
    b.onResolve({ filter: /^execa$/ }, () => ({ path: `./${EXECA_CHUNK}`, external: true }));
  },
};

/**
 * One minified CommonJS file for Node 24 and its metafile beside it (what each input weighs: npm
 * run bench lists the biggest). esbuild has printed its errors already; its exception would only
 * repeat them with a stack.
 */
async function bundle(what, outfile, options) {
  const result = await build({
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    ...options,
  }).catch(() => fail(`esbuild could not bundle ${what} (errors above)`));
  writeFileSync(outfile.replace(/\.cjs$/, '.meta.json'), JSON.stringify(result.metafile));
}

function bundleJs(outfile) {
  return bundle('src/main.ts', outfile, {
    entryPoints: [join(root, 'src', 'main.ts')],
    keepNames: false,
    define: {
      __GRACEFUL_INIT_VERSION__: JSON.stringify(version),
      __TEST_HOOKS__: JSON.stringify(testHooks),
      // CommonJS has no import.meta; the bundle's own directory is __dirname there
      'import.meta.dirname': '__dirname',
    },
    plugins: [execaAsChunk],
  });
}

/** execa and its dependencies, alone: CommonJS whose only requires are Node's own modules. */
function bundleExecaChunk(outfile) {
  return bundle('execa', outfile, { stdin: { contents: "export { execa } from 'execa';", resolveDir: root, loader: 'js' } });
}

// --disable-sigusr1: no inspector, ever (USR1 stays blocked until the addon hands it to our
// listener); --no-warnings: Node's warnings would write through process.stderr, which turns the
// app's shared stderr non-blocking
// --v8-pool-size=1: one V8 worker thread is plenty for a 64 MB heap, and each thread counts against RLIMIT_NPROC
// --jitless: no compiled code, no executable memory at run time: 2.6 MiB less peak RSS and a
// faster start; the init's JavaScript is never hot enough to want a JIT
// --expose-gc: the init asks for a memory-reducing collection when its private memory has grown
// (src/process/heap-floor.ts); nothing else runs in its isolate to call it
const SEA_FLAGS = ['--max-semi-space-size=1', '--max-old-space-size=64', '--v8-pool-size=1', '--disable-sigusr1', '--no-warnings', '--jitless', '--expose-gc'];

/** What the bundle reads through node:sea. */
function seaAssets() {
  return { [EXECA_CHUNK]: join(outDir, EXECA_CHUNK), ...(existsSync(addon) ? { 'reaper.node': addon } : {}) };
}

/**
 * The bundle as the single executable's asset: the CommonJS wrapper src/sea-entry.ts calls, and the
 * code cache made after one real start (scripts/lib/warm-cache.mjs) by the embedded runtime under
 * the executable's own flags: V8 rejects a cache made under other code-generation flags.
 */
function writeBundleAsset(bundle) {
  writeFileSync(join(outDir, SEA_BUNDLE), wrapAsCommonJs(readFileSync(bundle, 'utf8')));
  run(x64Node, [...SEA_FLAGS, join(scriptsDir, 'lib', 'warm-cache.mjs'), outDir, JSON.stringify(seaAssets())]);
  if (!existsSync(join(outDir, SEA_BUNDLE_CACHE))) fail('scripts/lib/warm-cache.mjs wrote no code cache (the init did not exit its usual way)');
}

/** Made by the same Node version it is injected into (the blob format is per version). */
function makeSeaBlob(main) {
  const config = {
    main,
    output: join(outDir, 'sea-prep.blob'),
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    useSnapshot: false,
    // NODE_OPTIONS belongs to the app: the init ignores it and passes it on untouched
    execArgvExtension: 'none',
    execArgv: SEA_FLAGS,
    assets: { ...seaAssets(), [SEA_BUNDLE]: join(outDir, SEA_BUNDLE), [SEA_BUNDLE_CACHE]: join(outDir, SEA_BUNDLE_CACHE) },
  };
  writeSeaBlob(x64Node, config, join(outDir, 'sea-config.json'), SEA_FLAGS);
  return config.output;
}

const started = Date.now();
mkdirSync(outDir, { recursive: true });
runScript(join(scriptsDir, 'build-addon.mjs'));
const jsBundle = join(outDir, 'graceful-init.cjs');
await bundleJs(jsBundle);
await bundleExecaChunk(join(outDir, EXECA_CHUNK));
const seaEntry = join(outDir, 'sea-entry.cjs');
await bundle('src/sea-entry.ts', seaEntry, { entryPoints: [join(root, 'src', 'sea-entry.ts')] });
writeBundleAsset(jsBundle);
const executable = join(outDir, 'graceful-init');
injectSea({ runtime: x64Node, blob: makeSeaBlob(seaEntry), out: executable, strip: 'strip' });

const size = `${(statSync(executable).size / 1048576).toFixed(1)} MiB`;
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`built ${testHooks ? 'dist/test-hooks' : 'dist'}/graceful-init ${version} on node ${runtimeVersion(x64RuntimeDir)}: ${size} in ${seconds}s`);
