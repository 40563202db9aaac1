// What an artifact really contains, as CycloneDX components (made and serialized with OWASP's
// @cyclonedx/cyclonedx-library):
//   - the npm packages esbuild put into the JavaScript: from the build's metafiles, only the inputs
//     with bytes in the output (a devDependency the bundle does not use is not there);
//   - the Node.js runtime the single executable is made of;
//   - the Debian packages the bundle's loader and libraries come from, as dpkg records them, with
//     their source package (glibc, gcc-12): what image scanners match advisories against.
// Purls and CPEs are the ones Syft and Trivy give these components when they find them themselves.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Enums, Models, Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import { PackageURL } from 'packageurl-js';
import { dist, readJson, root } from './paths.mjs';

// the metafiles scripts/build.mjs writes beside the two bundles
const METAFILES = ['graceful-init.meta.json', 'execa.meta.json'];

function component(type, name, { version, purl, cpe, licenses = [], properties = {}, bomRef, hashes = {}, description }) {
  const c = new Models.Component(type, name, { version, purl, bomRef, description });
  if (cpe) c.cpe = cpe;
  for (const l of licenses) c.licenses.add(new Models.LicenseExpression(l));
  for (const [k, v] of Object.entries(properties)) c.properties.add(new Models.Property(k, v));
  for (const [alg, value] of Object.entries(hashes)) c.hashes.set(alg, value);
  return c;
}

/** node_modules/<name> or node_modules/@scope/<name> (nested ones too) of an esbuild input path. */
function packageDirOf(input) {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  return m ? join(root, m[1]) : null;
}

/** The npm packages with code in the built JavaScript: [{ name, version, license, dir }]. */
export function bundledNpmPackages(metafiles = METAFILES.map((f) => join(dist, f))) {
  const dirs = new Set();
  for (const file of metafiles) {
    for (const output of Object.values(readJson(file).outputs)) {
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        const dir = bytesInOutput > 0 ? packageDirOf(input) : null;
        if (dir) dirs.add(dir);
      }
    }
  }
  return [...dirs].sort().map((dir) => {
    const pkg = readJson(join(dir, 'package.json'));
    return { name: pkg.name, version: pkg.version, license: typeof pkg.license === 'string' ? pkg.license : undefined, dir: relative(root, dir) };
  });
}

function npmComponents(packages, refPrefix) {
  return packages.map(({ name, version, license }) => {
    const [namespace, bare] = name.startsWith('@') ? name.split('/') : [undefined, name];
    return component(Enums.ComponentType.Library, name, {
      version,
      bomRef: `${refPrefix}npm:${name}@${version}`,
      purl: new PackageURL('npm', namespace, bare, version).toString(),
      licenses: license ? [license] : [],
      properties: { 'graceful-init:included-in': 'the JavaScript bundle (esbuild)' },
    });
  });
}

/** The Node.js runtime a single executable is made of. */
function nodeRuntimeComponent(version, arch, refPrefix) {
  return component(Enums.ComponentType.Platform, 'node', {
    version,
    bomRef: `${refPrefix}node@${version}`,
    description: `Node.js runtime (single executable application), linux-${arch}, from the npm package node-linux-${arch}`,
    purl: new PackageURL('generic', undefined, 'node', version, { arch }).toString(),
    cpe: `cpe:2.3:a:nodejs:node.js:${version}:*:*:*:*:*:*:*`,
    licenses: ['MIT'],
  });
}

/** The glibc version a libc.so.6 names itself with ("... stable release version 2.36."). */
function glibcVersion(file) {
  if (!file || !existsSync(file)) return null;
  return /GNU C Library[^\n]*? release version (\d+\.\d+)/.exec(readFileSync(file, 'latin1'))?.[1] ?? null;
}

/** One component per Debian package the bundle's libraries come from (see bundle.mjs: libraries). */
function debianComponents(libraries, distro, refPrefix) {
  const byPackage = new Map();
  for (const lib of libraries) {
    if (!lib.package) throw new Error(`bundle library ${lib.name} has no Debian package recorded (dpkg -S ${lib.source})`);
    const entry = byPackage.get(lib.package.name) ?? { ...lib.package, files: [] };
    entry.files.push(lib);
    byPackage.set(lib.package.name, entry);
  }
  return [...byPackage.values()].map((p) => {
    const libc = p.files.find((f) => f.name === 'libc.so.6');
    const glibc = libc ? glibcVersion(libc.source) : null;
    return component(Enums.ComponentType.Library, p.name, {
      version: p.version,
      bomRef: `${refPrefix}deb:${p.name}@${p.version}`,
      description: glibc ? `GNU C Library ${glibc} (glibc), Debian package ${p.name}` : undefined,
      purl: new PackageURL('deb', 'debian', p.name, p.version, { arch: p.arch, distro, ...(p.source && p.source !== p.name ? { upstream: p.sourceVersion && p.sourceVersion !== p.version ? `${p.source}@${p.sourceVersion}` : p.source } : {}) }).toString(),
      cpe: glibc ? `cpe:2.3:a:gnu:glibc:${glibc}:*:*:*:*:*:*:*` : undefined,
      properties: { 'graceful-init:files': p.files.map((f) => `lib/${f.name}`).join(' '), ...(glibc ? { 'graceful-init:glibc-version': glibc } : {}) },
    });
  });
}

/** The distro qualifier of Debian purls: debian-<VERSION_ID> of the machine that made the bundle. */
export function debianDistro() {
  const id = /^VERSION_ID="?([^"\n]+)"?/m.exec(existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '')?.[1];
  return id ? `debian-${id}` : 'debian';
}

/**
 * The components of one artifact. `form`: 'executable' (Node runtime + npm packages), 'bundle'
 * (the same + Debian packages; `libraries` from bundle.mjs), 'npm' (npm packages only).
 */
export function artifactComponents({ form, arch, nodeVersion, libraries = [], distro = debianDistro(), refPrefix = '' }) {
  const list = [];
  if (form !== 'npm') list.push(nodeRuntimeComponent(nodeVersion, arch, refPrefix));
  if (form === 'bundle') list.push(...debianComponents(libraries, distro, refPrefix));
  list.push(...npmComponents(bundledNpmPackages(), refPrefix));
  return list;
}

export const ComponentType = Enums.ComponentType;
export { component };

/** A CycloneDX 1.6 JSON document about `subject` (a Models.Component) made of `components`. */
export function bomJson(subject, components, { serialNumber } = {}) {
  const bom = new Models.Bom();
  if (serialNumber) bom.serialNumber = serialNumber;
  bom.metadata.component = subject;
  const library = readJson(join(root, 'node_modules', '@cyclonedx', 'cyclonedx-library', 'package.json'));
  bom.metadata.tools.components.add(component(Enums.ComponentType.Library, library.name, { version: library.version, bomRef: `tool:${library.name}` }));
  for (const c of components) bom.components.add(c);
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return `${serializer.serialize(bom, { sortLists: true, space: 2 })}\n`;
}

/** graceful-init itself, as the subject of a BOM or an artifact's parent. */
export function graceful(version, extra = {}) {
  return component(Enums.ComponentType.Application, 'graceful-init', {
    version,
    bomRef: `graceful-init@${version}`,
    purl: new PackageURL('npm', undefined, 'graceful-init', version).toString(),
    licenses: [readJson(join(root, 'package.json')).license],
    ...extra,
  });
}

