#!/usr/bin/env node
// npm run release: every artifact of a release, built afresh, into dist/release/:
//
//   graceful-init-<v>-linux-x64            the single executable (reaper embedded)
//   graceful-init-<v>-linux-arm64          the same for arm64 (cross-built)
//   graceful-init-<v>-linux-x64.tar.gz     the portable bundle (/opt/graceful-init), with its SBOM inside
//   graceful-init-<v>-linux-arm64.tar.gz
//   graceful-init-<v>.tgz                  the npm package (npm install -g ./graceful-init-<v>.tgz)
//   graceful-init-<v>.cdx.json             CycloneDX SBOM: each artifact, its hash and what it holds
//   SHA256SUMS                             `sha256sum -c SHA256SUMS` checks all of the above
//
//   node scripts/release.mjs [--no-build] [--out DIR]
//
//   --no-build   use the executables already in dist/ (the test setup builds them) instead of
//                building them again; the bundles are then reused when made from the same inputs
//   --out DIR    write the artifacts there instead of dist/release
//
// Needs what the builds need: gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, libstdc++6-arm64-cross
// (arm64), patchelf and binutils (bundles); qemu-user-static to smoke-test the arm64 builds.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { dist, packageVersion, readJson, root, runtimeVersion, scriptsDir, x64RuntimeDir } from './lib/paths.mjs';
import { fail, run, runScript } from './lib/run.mjs';
import { ComponentType, artifactComponents, bomJson, component, graceful } from './lib/sbom.mjs';

const args = process.argv.slice(2);
for (const a of args) if (a.startsWith('--') && !['--no-build', '--out'].includes(a)) fail(`unknown option ${a}`);
const build = !args.includes('--no-build');
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 ? resolve(args[outIndex + 1] ?? fail('--out needs a directory')) : join(dist, 'release');
const version = packageVersion();
const nodeVersion = runtimeVersion(x64RuntimeDir);
const started = Date.now();

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Makes every input; with --no-build only the bundles that are missing or stale. */
function buildAll() {
  if (build) {
    runScript(join(scriptsDir, 'build.mjs'));
    runScript(join(scriptsDir, 'build-arm64.mjs'), ['--no-x64-build']);
  }
  const bundles = {};
  for (const arch of ['x64', 'arm64']) {
    // --json: the summary (with the libraries' Debian packages) on stdout, the progress on stderr
    const flags = build ? ['--no-build', '--json'] : ['--no-build', '--if-stale', '--json'];
    bundles[arch] = JSON.parse(run(process.execPath, [join(scriptsDir, 'bundle.mjs'), '--arch', arch, ...flags], { stdio: ['ignore', 'pipe', 'inherit'] }));
  }
  return bundles;
}

/** npm pack of what was just built (--ignore-scripts: prepack would build once more). */
function npmPack() {
  const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out, '--loglevel=error'], { cwd: root }));
  return join(out, packed[0].filename);
}

function copyInto(source, name) {
  const dest = join(out, name);
  copyFileSync(source, dest);
  return dest;
}

/** One component per artifact: its hash, and what it holds nested inside it. */
function artifact(file, type, description, contents) {
  const name = basename(file);
  const c = component(type, name, { version, bomRef: `artifact:${name}`, description, hashes: { 'SHA-256': sha256(file) } });
  for (const inner of contents(`${name}/`)) c.components.add(inner);
  return c;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const bundles = buildAll();
const files = {
  x64: copyInto(join(dist, 'graceful-init'), `graceful-init-${version}-linux-x64`),
  arm64: copyInto(join(dist, 'linux-arm64', 'graceful-init'), `graceful-init-${version}-linux-arm64`),
  bundleX64: copyInto(join(root, bundles.x64.tarball), basename(bundles.x64.tarball)),
  bundleArm64: copyInto(join(root, bundles.arm64.tarball), basename(bundles.arm64.tarball)),
  npm: npmPack(),
};
for (const arch of ['x64', 'arm64']) {
  if (bundles[arch].version !== version || bundles[arch].node !== nodeVersion) fail(`the ${arch} bundle is ${bundles[arch].version} on node ${bundles[arch].node}, not ${version} on ${nodeVersion}`);
}

const sbomFile = join(out, `graceful-init-${version}.cdx.json`);
const exe = (arch) => (prefix) => artifactComponents({ form: 'executable', arch, nodeVersion, refPrefix: prefix });
const bundle = (arch) => (prefix) => artifactComponents({ form: 'bundle', arch, nodeVersion, libraries: bundles[arch].libraries, refPrefix: prefix });
const components = [
  artifact(files.x64, ComponentType.Application, 'single executable, linux-x64 (Node.js single executable application)', exe('x64')),
  artifact(files.arm64, ComponentType.Application, 'single executable, linux-arm64 (Node.js single executable application)', exe('arm64')),
  artifact(files.bundleX64, ComponentType.File, 'portable bundle, linux-x64: tar -xzf … -C / gives /opt/graceful-init', bundle('x64')),
  artifact(files.bundleArm64, ComponentType.File, 'portable bundle, linux-arm64: tar -xzf … -C / gives /opt/graceful-init', bundle('arm64')),
  artifact(files.npm, ComponentType.File, `npm package, for Node.js ${readJson(join(root, 'package.json')).engines.node}`, (prefix) => artifactComponents({ form: 'npm', refPrefix: prefix })),
];
writeFileSync(sbomFile, bomJson(graceful(version), components));

// every artifact, the SBOM included, in `sha256sum` format
const sums = readdirSync(out).sort().map((name) => `${sha256(join(out, name))}  ${name}\n`).join('');
writeFileSync(join(out, 'SHA256SUMS'), sums);

const mib = (file) => `${(statSync(file).size / 1048576).toFixed(1)} MiB`;
console.log(`release ${version} (node ${nodeVersion}) in ${((Date.now() - started) / 1000).toFixed(1)}s: ${out}`);
for (const name of readdirSync(out).sort()) console.log(`  ${name.padEnd(42)} ${mib(join(out, name))}`);
