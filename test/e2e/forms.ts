// The forms a user installs graceful-init in, each set up as the user would and started through the
// harness (as PID 1 of a new PID namespace, or as a plain child):
//   single executable   dist/graceful-init, run from the host's root
//   bundle              the tarball unpacked into an otherwise empty root (plus a static busybox
//                       for the apps), entered read-only with chroot as a container would be
//   npm on node N       `npm pack`, `npm install -g` into a private prefix by npm running on that
//                       node with --engine-strict, started by name through PATH with that node first
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BINARY, ROOT, cleanEnv, ensureBundle, readText, start, tempDir, waitFor, type Mode, type RunOptions, type Started } from './harness.js';

export const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find(existsSync);
export const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find(existsSync) ?? 'unshare';
export const BUNDLE_INIT = '/opt/graceful-init/bin/graceful-init';
/** What a scratch image gets from Docker: a PATH, a HOME, nothing else; no TMPDIR. */
export const IMAGE_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/' };
export const PACKAGE_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** An app that says which signals it gets (USR1, HUP, TERM), and exits 42 on TERM. */
export const SIGNAL_APP = [
  "trap 'echo got=USR1' USR1",
  "trap 'echo got=HUP' HUP",
  "trap 'echo got=TERM; exit 42' TERM",
  'echo ready',
  'while :; do sleep 0.05; done',
].join('; ');

/**
 * SIGNAL_APP under `init`, once ready: USR1, then HUP once the app has it, then TERM once it has
 * that; how the init ended.
 */
export async function usr1HupTerm<R>(init: { initPid(): Promise<number>; stdout(): string; result: Promise<R> }): Promise<R> {
  const pid = await init.initPid();
  await waitFor('the app to be ready', () => init.stdout().includes('ready'));
  for (const [signal, got] of [['SIGUSR1', 'got=USR1'], ['SIGHUP', 'got=HUP']] as const) {
    process.kill(pid, signal);
    await waitFor(`${signal} to reach the app`, () => init.stdout().includes(got));
  }
  process.kill(pid, 'SIGTERM');
  return init.result;
}

export interface Form {
  /** what --version calls it (the npm form adds the node version) */
  name: string;
  /** the environment an app of this form sees when the test adds nothing */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  start(mode: Mode, args: string[], opts?: RunOptions): Started;
  cleanup(): void;
}

/** Children of every thread of `pid` (an orphan is reparented to one thread of the reaper). */
export function childrenOfAllThreads(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((tid) => readText(`/proc/${pid}/task/${tid}/children`).trim().split(/\s+/).filter(Boolean).map(Number));
}

const isStatic = (file: string) => !spawnSync('readelf', ['-lW', file], { encoding: 'utf8' }).stdout.includes('INTERP');

/** Why the bundle root cannot be made here (null: it can): a static busybox, patchelf, chroot. */
export function bundleRootMissing(): string | null {
  const tools = spawnSync('sh', ['-c', 'command -v patchelf && command -v chroot'], { stdio: 'ignore' }).status === 0;
  return BUSYBOX !== undefined && isStatic(BUSYBOX) && tools ? null : 'a static /bin/busybox (busybox-static), patchelf and chroot';
}

// Runs as the first process of new namespaces (host tools, before chroot): bind the root onto itself,
// make that read-only, mount /proc and /dev/null only when asked, then become the init inside it.
export const ENTER = [
  'set -e',
  'root=$1; proc=$2; devnull=$3; user=$4; shift 4',
  'mount --bind "$root" "$root"',
  'mount -o remount,bind,ro "$root"',
  'if [ "$devnull" = 1 ]; then mount --bind /dev/null "$root/dev/null"; fi',
  'if [ "$proc" = 1 ]; then mount -t proc proc "$root/proc"; fi',
  'exec chroot ${user:+--userspec=$user} "$root" "$@"',
].join('\n');

export interface ScratchRoot {
  /** the root directory */
  path: string;
  /** `sh <enter> ROOT PROC DEVNULL USER cmd...`, to run in a new mount namespace */
  enter: string;
  cleanup(): void;
}

/** A root holding only the unpacked tarball and a static busybox with `applets`, as a scratch image. */
export function makeScratchRoot(tarball: string, applets: string[], extra: Record<string, string> = {}): ScratchRoot {
  const dir = tempDir();
  const root = join(dir.path, 'root');
  for (const d of ['bin', 'proc', 'dev']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'dev', 'null'), ''); // a mount point, for the tests that need /dev/null
  const untar = spawnSync('tar', ['-xzf', tarball, '-C', root], { encoding: 'utf8' });
  if (untar.status !== 0) throw new Error(`tar: ${untar.stderr}`);
  copyFileSync(BUSYBOX as string, join(root, 'bin', 'busybox'));
  for (const applet of applets) symlinkSync('busybox', join(root, 'bin', applet));
  for (const [inRoot, source] of Object.entries(extra)) copyFileSync(source, join(root, inRoot));
  const enter = join(dir.path, 'enter.sh');
  writeFileSync(enter, `${ENTER}\n`);
  return {
    path: root,
    enter,
    cleanup: () => {
      // the mounts lived in private mount namespaces, gone with their processes; a lazy unmount
      // first in case one is still on its way out
      spawnSync('umount', ['-R', '-l', root], { stdio: 'ignore' });
      dir.cleanup();
    },
  };
}

export function singleExecutable(): Form {
  return {
    name: 'single executable',
    env: (extra = {}) => cleanEnv(extra),
    start: (mode, args, opts = {}) => start(mode, args, { ...opts, binary: BINARY }),
    cleanup: () => {},
  };
}

/**
 * The x64 bundle in a read-only scratch root with /proc and /dev/null, as `docker run --read-only`
 * gives one: a host script enters it (new mount namespace, chroot) and execs the init, so the
 * harness starts it like any binary, as PID 1 or as a plain child.
 */
export function bundleInScratchRoot(): Form {
  const root = makeScratchRoot(join(ROOT, ensureBundle().tarball), ['sh', 'sleep', 'echo', 'cat', 'kill', 'true']);
  const launcher = join(dirname(root.path), 'graceful-init');
  writeFileSync(launcher, `#!/bin/sh\nexec ${UNSHARE} --mount --propagation private -- /bin/sh ${root.enter} ${root.path} 1 1 '' ${BUNDLE_INIT} "$@"\n`);
  chmodSync(launcher, 0o755);
  return {
    name: 'bundle',
    env: (extra = {}) => ({ ...IMAGE_ENV, ...extra }),
    start: (mode, args, opts = {}) => start(mode, args, { ...opts, env: opts.env ?? IMAGE_ENV, binary: launcher }),
    cleanup: root.cleanup,
  };
}

/** The node binary of the runtime the npm package is tested on for `major` (scripts/node-runtimes.mjs). */
function testedNode(major: number): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'node-runtimes.mjs'), String(major)], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`scripts/node-runtimes.mjs ${major} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout.trim();
}

/** The Node majors package.json's engines admit: each range must be a caret range (no open end). */
export function admittedMajors(): number[] {
  const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  return engines.split('||').map((range) => {
    const caret = /^\^(\d+)\.\d+\.\d+$/.exec(range.trim());
    if (!caret) throw new Error(`engines.node range "${range.trim()}" is not a caret range: every admitted major must be a tested one`);
    return Number(caret[1]);
  });
}

/** The npm tarball made from this checkout, as a user makes it (without rebuilding: dist/ is current). */
function packTarball(into: string): string {
  for (const f of ['dist/graceful-init.cjs', 'dist/execa.cjs', 'dist/reaper.node']) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: npm run build first`);
  }
  // --ignore-scripts: prepack would rebuild the binary that the other tests are running
  const r = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', into, '--loglevel=error'], { cwd: ROOT, encoding: 'utf8', timeout: 90_000 });
  if (r.status !== 0) throw new Error(`npm pack failed (${r.status ?? r.signal}): ${r.stderr}`);
  return join(into, (JSON.parse(r.stdout) as { filename: string }[])[0]?.filename as string);
}

/** npm itself, pinned (scripts/lib/npm-fetch.mjs), so that each node runs the same npm. */
function npmCli(): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'node-runtimes.mjs'), 'npm'], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`scripts/node-runtimes.mjs npm failed: ${r.stderr}`);
  return join(r.stdout.trim(), 'bin', 'npm-cli.js');
}

export interface NpmInstall {
  prefix: string;
  /** <prefix>/lib/node_modules/graceful-init */
  packageDir: string;
  /** the directory of the node that runs it: first on PATH */
  nodeBin: string;
}

/** `npm install -g --engine-strict` of the tarball into `prefix`, by npm running on `node`. */
function npmInstall(tarball: string, node: string, prefix: string): NpmInstall {
  const nodeBin = dirname(realpathSync(node));
  const r = spawnSync(node, [npmCli(), 'install', '-g', '--prefix', prefix, '--engine-strict', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], {
    cwd: dirname(tarball),
    env: { ...cleanEnv({ npm_config_update_notifier: 'false' }), PATH: `${nodeBin}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`npm install -g on node ${nodeBin} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return { prefix, packageDir: join(prefix, 'lib', 'node_modules', 'graceful-init'), nodeBin };
}

/** The PATH of an image with that node and the package installed: the init found by name. */
function npmPath(install: NpmInstall): string {
  return `${install.nodeBin}:${join(install.prefix, 'bin')}:/usr/local/bin:/usr/bin:/bin`;
}

/** The npm package installed on the node of `major`. */
export function npmOnNode(major: number): Form & { install: NpmInstall } {
  const dir = tempDir();
  const install = npmInstall(packTarball(dir.path), testedNode(major), join(dir.path, 'prefix'));
  const env = (extra: NodeJS.ProcessEnv = {}) => ({ ...cleanEnv(), PATH: npmPath(install), ...extra });
  const version = spawnSync(join(install.nodeBin, 'node'), ['--version'], { encoding: 'utf8' }).stdout.trim();
  return {
    name: `npm on node ${version}`,
    install,
    env,
    // started by name, through PATH, as an image's ENTRYPOINT ["graceful-init", ...] would be
    start: (mode, args, opts = {}) => start(mode, args, { ...opts, env: opts.env ?? env(), binary: 'graceful-init' }),
    cleanup: dir.cleanup,
  };
}
