// The arm64 bundle's libraries from Debian's own arm64 packages (libc6, libstdc++6, libgcc-s1 of the
// host's release, security updates included), not from the cross toolchain's *-arm64-cross copies:
// those follow the toolchain, not Debian's security updates (libc6-arm64-cross 2.36-8cross1 while
// libc6 is 2.36-9+deb12u14 in bookworm). apt fetches them from the mirrors this machine's apt
// sources name, with a state of its own: the host's dpkg architectures and package lists stay as
// they are. Unpacked into node_modules/.cache/graceful-init/debian-arm64/root.
import { existsSync, mkdirSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from './npm-fetch.mjs';
import { run } from './run.mjs';

const PACKAGES = ['libc6', 'libstdc++6', 'libgcc-s1'];

/** apt-get with a private state and cache, for arm64 only. */
function apt(dir, args, cwd) {
  const state = join(dir, 'apt');
  for (const d of ['lists/partial', 'archives/partial']) mkdirSync(join(state, d), { recursive: true });
  if (!existsSync(join(state, 'status'))) writeFileSync(join(state, 'status'), '');
  const options = {
    'Dir::State': state,
    'Dir::State::Lists': join(state, 'lists'),
    'Dir::State::status': join(state, 'status'),
    'Dir::Cache': state,
    'Dir::Cache::Archives': join(state, 'archives'),
    'APT::Architecture': 'arm64',
    'APT::Architectures::': 'arm64',
    'APT::Sandbox::User': 'root',
    'Debug::NoLocking': '1',
  };
  return run('apt-get', [...Object.entries(options).flatMap(([k, v]) => ['-o', `${k}=${v}`]), '-qq', ...args], { cwd, timeout: 300_000 });
}

/** { name, version, arch, source, sourceVersion } from a .deb's control file, as debianPackage() gives for the host. */
function control(deb) {
  const [name, version, arch, sourceField] = run('dpkg-deb', ['-f', deb, 'Package', 'Version', 'Architecture', 'Source'])
    .split('\n')
    .map((line) => line.replace(/^[^:]+:\s*/, '').trim());
  const source = /^(\S+)(?:\s+\(([^)]+)\))?/.exec(sourceField ?? '');
  return { name, version, arch, source: source?.[1] ?? name, sourceVersion: source?.[2] ?? version };
}

/**
 * Fetches and unpacks the packages afresh (a release gets the mirror's latest); returns the library
 * directories to search and the package each file came from.
 */
export function debianArm64Libraries() {
  const dir = join(cacheRoot, 'debian-arm64');
  const debs = join(dir, 'debs');
  const root = join(dir, 'root');
  rmSync(debs, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
  mkdirSync(debs, { recursive: true });
  apt(dir, ['update']);
  apt(dir, ['download', ...PACKAGES.map((p) => `${p}:arm64`)], debs);
  const owners = new Map();
  const packages = [];
  for (const file of readdirSync(debs).filter((f) => f.endsWith('.deb'))) {
    const deb = join(debs, file);
    const pkg = control(deb);
    packages.push(pkg);
    run('dpkg-deb', ['-x', deb, root]);
    for (const line of run('dpkg-deb', ['-c', deb]).split('\n')) {
      const path = /\s\.(\/\S+)(?: -> .*)?$/.exec(line)?.[1];
      if (path && existsSync(join(root, path))) owners.set(realpathSync(join(root, path)), pkg);
    }
  }
  return {
    root,
    packages,
    libDirs: [join(root, 'lib', 'aarch64-linux-gnu'), join(root, 'usr', 'lib', 'aarch64-linux-gnu')],
    packageOf: (file) => owners.get(realpathSync(file)) ?? null,
  };
}
