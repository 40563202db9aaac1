// Builds once, before any test file runs: the shipped executable (dist/graceful-init), the test
// build (dist/test-hooks/, src/test-hooks.ts), the portable bundle, and the same two for arm64
// (cross-built; the tests run them under qemu-user). No test builds anything, so no test can catch
// a file of dist/ half-written by another one.
//
// Nothing is rebuilt when every output is newer than every input, so a second `npx vitest run
// test/unit` starts at once; a fresh clone, or any edit under src/ or scripts/, rebuilds.
// (A deleted source file goes unnoticed: `npm run build` then.) GI_SKIP_BUILD=1 skips the build
// altogether, for a developer running unit tests between edits of src/; `npm test` never sets it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const SCRIPTS = join(ROOT, 'scripts');

const INPUT_DIRS = ['src', 'scripts/lib'];
// npm ci rewrites node_modules/.package-lock.json: a new esbuild, node-gyp or pinned Node rebuilds
const INPUT_FILES = ['scripts/build.mjs', 'scripts/build-addon.mjs', 'package.json', 'package-lock.json', 'tsconfig.json', 'node_modules/.package-lock.json'];
const OUTPUTS = ['dist/reaper.node', 'dist/graceful-init.cjs', 'dist/execa.cjs', 'dist/graceful-init', 'dist/test-hooks/graceful-init'];

/** Newest mtime below `dir`, leaving out node-gyp's build/ directory (written by the build itself). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name === 'build') continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function buildIsCurrent(): boolean {
  const outputs = OUTPUTS.map((file) => join(ROOT, file));
  if (!outputs.every(existsSync)) return false;
  const oldestOutput = Math.min(...outputs.map((file) => statSync(file).mtimeMs));
  const inputs = [
    ...INPUT_DIRS.map((dir) => newestMtime(join(ROOT, dir))),
    ...INPUT_FILES.map((file) => join(ROOT, file)).filter(existsSync).map((file) => statSync(file).mtimeMs),
  ];
  return Math.max(...inputs) < oldestOutput;
}

function runScript(script: string, args: string[], stdout: 'inherit' | 'ignore' = 'inherit'): void {
  const result = spawnSync(process.execPath, [join(SCRIPTS, script), ...args], { cwd: ROOT, stdio: ['ignore', stdout, 'inherit'] });
  if (result.status !== 0) throw new Error(`scripts/${[script, ...args].join(' ')} failed (${result.status ?? result.signal ?? result.error?.message})`);
}

export default function buildOnce(): void {
  if (process.env.GI_SKIP_BUILD === '1') return;
  if (!buildIsCurrent()) {
    runScript('build.mjs', []);
    runScript('build.mjs', ['--test-hooks']);
  }
  // remade only when the executable, the addon or bundle.mjs changed; --json keeps its file list
  // (the summary on stdout) out of the test output
  runScript('bundle.mjs', ['--no-build', '--if-stale', '--json'], 'ignore');
  buildArm64();
}

const ARM64_EXE = join(ROOT, 'dist', 'linux-arm64', 'graceful-init');
const haveCrossCompiler = () => spawnSync('sh', ['-c', 'command -v aarch64-linux-gnu-gcc'], { stdio: 'ignore' }).status === 0;

/** The arm64 executable, made from the x64 build's bundle whenever that is newer, and its bundle. */
function buildArm64(): void {
  if (!haveCrossCompiler()) {
    const why = 'the arm64 build needs gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and libstdc++6-arm64-cross (.ci/run installs them)';
    if (process.env.CI === 'true') throw new Error(`CI=true but ${why}`);
    console.warn(`global setup: arm64 not built: ${why}`);
    return;
  }
  if (!existsSync(ARM64_EXE) || statSync(ARM64_EXE).mtimeMs < statSync(join(ROOT, 'dist', 'graceful-init')).mtimeMs) {
    runScript('build-arm64.mjs', ['--no-x64-build'], 'ignore');
  }
  runScript('bundle.mjs', ['--arch', 'arm64', '--no-build', '--if-stale', '--json'], 'ignore');
}
