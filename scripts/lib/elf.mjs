// What an ELF file asks of the dynamic loader, and where those libraries are on this machine.
// readelf reads any architecture; ldd only runs for the host's own.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fail, have, run } from './run.mjs';

export function elfInfo(file) {
  const header = run('readelf', ['-h', file]);
  const machine = /Machine:\s+(.+)/.exec(header)?.[1]?.trim() ?? '?';
  const dynamic = run('readelf', ['-dW', file]);
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const programHeaders = run('readelf', ['-lW', file]);
  const interpreter = /Requesting program interpreter: ([^\]]+)\]/.exec(programHeaders)?.[1] ?? null;
  return { machine, needed, interpreter };
}

export function findInLibDirs(name, libDirs) {
  return libDirs.map((dir) => join(dir, name)).find((path) => existsSync(path)) ?? null;
}

/** name => path for every library ldd resolves: the choice the system's own loader makes. */
function lddLibraries(file) {
  const libs = new Map();
  for (const line of run('ldd', [file]).split('\n')) {
    const resolved = /^\s*(\S+)\s+=>\s+(.+?)\s+\(0x[0-9a-f]+\)\s*$/.exec(line);
    if (resolved) libs.set(resolved[1], resolved[2]);
    else if (/=>\s+not found/.test(line)) fail(`ldd ${file}: ${line.trim()}`);
  }
  return libs;
}

/**
 * The libraries `files` need, transitively, by the name they are asked for (soname) → source file.
 * On the host architecture ldd decides first; walking NEEDED entries through `libDirs` completes
 * it, and is the only way for a foreign architecture.
 */
export function collectLibraries(files, { libDirs, hostArchitecture }) {
  const libs = new Map();
  if (hostArchitecture) {
    for (const file of files) for (const [name, path] of lddLibraries(file)) libs.set(name, path);
  }
  const queue = [...files];
  const seen = new Set();
  while (queue.length) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const name of elfInfo(file).needed) {
      let path = libs.get(name);
      if (!path) {
        path = findInLibDirs(name, libDirs);
        if (!path) fail(`${basename(file)} needs ${name}, not found in ${libDirs.join(', ')}`);
        libs.set(name, path);
      }
      queue.push(path);
    }
  }
  return libs;
}

/**
 * The Debian package that owns a file (dpkg records /lib or /usr/lib, whichever the package shipped):
 * { name, version, arch, source, sourceVersion } as dpkg-query reports them.
 */
export function debianPackage(file) {
  if (!have('dpkg')) return null;
  const candidates = new Set([file, realpathSync(file)]);
  for (const candidate of [...candidates]) {
    if (candidate.startsWith('/usr/lib/')) candidates.add(candidate.slice(4));
    else if (candidate.startsWith('/lib')) candidates.add(`/usr${candidate}`);
  }
  for (const candidate of candidates) {
    const owner = spawnSync('dpkg', ['-S', candidate], { encoding: 'utf8' });
    if (owner.status !== 0) continue;
    const name = owner.stdout.split(':')[0]?.trim();
    if (!name) continue;
    const fields = spawnSync('dpkg-query', ['-W', '-f', '${Version}\t${Architecture}\t${source:Package}\t${source:Version}', name], { encoding: 'utf8' }).stdout?.trim().split('\t') ?? [];
    const [version, arch, source, sourceVersion] = fields;
    return { name, version: version || '?', arch: arch || undefined, source: source || undefined, sourceVersion: sourceVersion || undefined };
  }
  return null;
}
