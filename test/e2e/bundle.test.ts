// The portable bundle (npm run bundle) as PID 1 of a scratch-like container: a root that holds only
// the unpacked tarball and a static busybox, mounted read-only, with and without /proc, no /tmp.
// What every form must do (exit codes, forwarding, reaping, the shutdown sequence) runs in
// test/e2e/forms.test.ts, the bundle included; here, what is the bundle's own: its layout, no /proc,
// a non-root user, no reaper, arm64. Runs on the real tarball; needs root, unshare and Debian's
// busybox-static (in CI: must run).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBundle, killTree, type Bundle, pid1Available, readText, sleep, waitFor } from './harness.js';
import { BUNDLE_INIT as INIT, ENTER, IMAGE_ENV, PACKAGE_VERSION, SIGNAL_APP, UNSHARE, bundleRootMissing, childrenOfAllThreads, makeScratchRoot, usr1HupTerm, type ScratchRoot } from './forms.js';

function requirements(): boolean {
  if (!pid1Available()) return false; // throws under CI
  const missing = bundleRootMissing();
  if (missing && process.env.CI === 'true') throw new Error(`CI=true but the bundle tests cannot run: they need ${missing}`);
  return missing === null;
}
const canRun = requirements();

let bundle: Bundle;
let scratch: ScratchRoot;
let rootDir: string;
const running = new Set<ChildProcess>();

interface InRoot {
  child: ChildProcess;
  /** the init's pid on the host (inside it is 1) */
  initPid(): Promise<number>;
  stdout(): string;
  result: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; timedOut: boolean }>;
}

interface RootOptions {
  devNull?: boolean;
  timeoutMs?: number;
  /** another root than the x64 one */
  root?: ScratchRoot;
  /** what runs the init: [] natively, [qemu] for another architecture */
  runner?: string[];
  /** uid:gid to run as (as a distroless :nonroot image does) */
  user?: string;
}

function startInRoot(withProc: boolean, initArgs: string[], opts: RootOptions = {}): InRoot {
  const child = spawn(
    UNSHARE,
    [
      ...['--pid', '--fork', '--mount', '--propagation', 'private', '--kill-child', '--', '/bin/sh', (opts.root ?? scratch).enter],
      ...[(opts.root ?? scratch).path, withProc ? '1' : '0', opts.devNull ? '1' : '0', opts.user ?? '', ...(opts.runner ?? []), INIT, ...initArgs],
    ],
    { env: IMAGE_ENV, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  running.add(child);
  child.stdin?.end();
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killTree(child);
  }, opts.timeoutMs ?? 15_000);
  const result = new Promise<Awaited<InRoot['result']>>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
  const initPid = () =>
    waitFor('the init to start under unshare', () => {
      const kids = readText(`/proc/${child.pid}/task/${child.pid}/children`).trim().split(/\s+/).filter(Boolean).map(Number);
      const kid = kids[0];
      // until chroot has exec'd the init (or qemu running it), the child is still the entering shell
      const argv0 = readText(`/proc/${kid}/cmdline`).split('\0')[0] ?? '';
      return kid !== undefined && (argv0 === INIT || argv0 === (opts.runner ?? [])[0]) ? kid : undefined;
    });
  return { child, initPid, stdout: () => stdout, result };
}

describe.skipIf(!canRun)('portable bundle in an empty read-only root (scratch)', () => {
  beforeAll(() => {
    // made before the run (test/global-setup.ts) from the build the other tests use
    bundle = ensureBundle();
    scratch = makeScratchRoot(join(ROOT, bundle.tarball), ['sh', 'sleep', 'touch', 'echo', 'cat', 'kill', 'id']);
    rootDir = scratch.path;
  }, 180_000);

  afterEach(() => {
    for (const child of running) killTree(child);
    running.clear();
  });

  afterAll(() => scratch?.cleanup());

  it('holds only the bundle and busybox, and the tarball unpacks under /opt/graceful-init', () => {
    expect(readdirSync(rootDir).sort()).toEqual(['bin', 'dev', 'opt', 'proc']);
    expect(bundle.files.every((f) => f.path.startsWith('opt/graceful-init/'))).toBe(true);
    const paths = bundle.files.map((f) => f.path);
    for (const p of ['bin/graceful-init', 'lib/reaper.node', 'lib/ld-linux-x86-64.so.2', 'lib/libc.so.6', 'lib/libstdc++.so.6']) {
      expect(paths).toContain(`opt/graceful-init/${p}`);
    }
    const interp = spawnSync('readelf', ['-lW', join(rootDir, INIT)], { encoding: 'utf8' }).stdout;
    expect(interp).toContain('[Requesting program interpreter: /opt/graceful-init/lib/ld-linux-x86-64.so.2]');
  });

  describe.each([
    ['with /proc', true],
    ['without /proc', false],
  ] as const)('%s', (_label, withProc) => {
    it('passes the exit code on, loads the reaper from ../lib and runs on a read-only root', async () => {
      const app = [
        'if touch /probe 2>/dev/null; then echo root=writable; else echo root=read-only; fi',
        `if [ -e /proc/self ]; then echo proc=yes; else echo proc=no; fi`,
        'echo pid=$$ ppid=$PPID',
        'exit 3',
      ].join('; ');
      const r = await startInRoot(withProc, ['-v', '--require-reaper', '--', '/bin/sh', '-c', app]).result;
      expect(r.timedOut).toBe(false);
      expect(r.stderr).toContain('native reaper loaded (from=/opt/graceful-init/lib/reaper.node)');
      expect(r.stdout).toContain('root=read-only');
      expect(r.stdout).toContain(`proc=${withProc ? 'yes' : 'no'}`);
      expect(r.stdout).toMatch(/ppid=1\b/); // the init is PID 1
      expect(r.code).toBe(3);
    });

    it('says it is the bundle in --version', async () => {
      const r = await startInRoot(withProc, ['--version']).result;
      expect(r.stdout).toMatch(new RegExp(`^graceful-init ${PACKAGE_VERSION.replaceAll('.', '\\.')} \\(bundle, node v24\\.[\\d.]+\\)\n$`));
    });

    // with /proc: in the suite every form runs (test/e2e/forms.test.ts)
    it.skipIf(withProc)('reports a death by signal as 128+N', async () => {
      const r = await startInRoot(withProc, ['--', '/bin/sh', '-c', 'kill -KILL $$']).result;
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(137);
    });

    it.skipIf(withProc)('forwards signals to the app and stops it with the received stop signal', async () => {
      const r = await usr1HupTerm(startInRoot(withProc, ['--', '/bin/sh', '-c', SIGNAL_APP]));
      expect(r.timedOut).toBe(false);
      expect(r.stdout.split('\n').filter(Boolean)).toEqual(['ready', 'got=USR1', 'got=HUP', 'got=TERM']);
      expect(r.code).toBe(42);
    });

    it.skipIf(withProc)('reaps the orphans the app leaves behind while the app runs', async () => {
      // Each inner shell starts a sleep in the background and exits: the sleep is reparented to
      // PID 1 (the init) and, when it ends, stays a zombie unless the init collects it. (busybox sh
      // needs /dev/null for a background job, as any image has.)
      const app = [
        "for i in 1 2 3 4 5; do sh -c 'sleep 0.77 &'; done",
        'echo orphans',
        'sleep 6',
      ].join('; ');
      const init = startInRoot(withProc, ['--', '/bin/sh', '-c', app], { devNull: true });
      const pid = await init.initPid();
      await waitFor('the orphans', () => init.stdout().includes('orphans'));
      // busybox may run the applet in the forked shell without exec: argv stays sh -c 'sleep 0.77 &'
      const isOrphan = (p: number) => {
        const argv = readText(`/proc/${p}/cmdline`).split('\0');
        return argv[2] === 'sleep 0.77 &' || (argv.includes('sleep') && argv.includes('0.77'));
      };
      const orphans = await waitFor('the orphans to be reparented to the init', () => {
        const found = childrenOfAllThreads(pid).filter(isOrphan);
        return found.length > 0 ? found : undefined;
      });
      expect(orphans.length).toBeGreaterThanOrEqual(1);
      // every one of them disappears entirely (no zombie left) while the app is still running
      await waitFor('the orphans to be reaped', () => orphans.every((p) => !existsSync(`/proc/${p}`)), 4000);
      const others = childrenOfAllThreads(pid).filter((p) => !isOrphan(p));
      expect(others.length).toBe(1); // the app, still running
      expect(childrenOfAllThreads(pid).filter((p) => readText(`/proc/${p}/stat`).includes(') Z'))).toEqual([]);
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(143); // sh has no TERM trap: killed by the forwarded TERM
    });
  });

  it('runs as a non-root PID 1 (distroless :nonroot), reaper included', async () => {
    const r = await startInRoot(false, ['-v', '--require-reaper', '--', '/bin/sh', '-c', 'echo uid=$(id -u); exit 4'], { user: '65532:65532' }).result;
    expect(r.timedOut).toBe(false);
    expect(r.stdout).toContain('uid=65532');
    expect(r.stderr).toContain('native reaper loaded (from=/opt/graceful-init/lib/reaper.node)');
    expect(r.code).toBe(4);
  });

  it('refuses to start as PID 1 when no reaper can be loaded, in one line that names the fix', async () => {
    // Sanity check of the test itself: with the addon hidden and a read-only root, the embedded copy
    // cannot be loaded either, so "native reaper loaded" above really came from ../lib.
    const enter = `${scratch.enter}.no-reaper`;
    writeFileSync(enter, ENTER.replace('if [ "$proc" = 1 ]', 'mount --bind /dev/null "$root/opt/graceful-init/lib/reaper.node"; if [ "$proc" = 1 ]'));
    const child = spawn(
      UNSHARE,
      ['--pid', '--fork', '--mount', '--propagation', 'private', '--kill-child', '--', '/bin/sh', enter, rootDir, '1', '0', '', INIT, '-q', '--', '/bin/sh', '-c', 'echo app ran; exit 5'],
      { env: IMAGE_ENV, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.add(child);
    let [stdout, stderr] = ['', ''];
    child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await Promise.race([new Promise<number | null>((r) => child.on('close', r)), sleep(15_000).then(() => 'timeout')]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^graceful-init: PID 1 must reap zombies, but cannot load the native reaper \(.*\/opt\/graceful-init\/lib\/reaper\.node: not a regular file.*embedded copy in \/opt\/graceful-init\/bin: read-only.*\); put reaper\.node in \/opt\/graceful-init\/bin or give --reaper-path FILE\n$/);
  });

});

// Optional, after `npm run build:arm64`: the arm64 bundle in the same kind of root, run by
// qemu-user (Debian's qemu-user-static, copied into the root: no binfmt_misc needed). The app
// (busybox) stays x64: qemu hands execve to the host kernel.
const QEMU = ['/usr/bin/qemu-aarch64-static'].find(existsSync);
const ARM64_BUILT = existsSync(join(ROOT, 'dist', 'linux-arm64', 'graceful-init'));

describe.skipIf(!canRun || !QEMU || !ARM64_BUILT)('arm64 bundle under qemu-user (optional: npm run build:arm64)', () => {
  let arm64Root: ScratchRoot | undefined;
  const runner = ['/bin/qemu-aarch64-static'];

  beforeAll(() => {
    arm64Root = makeScratchRoot(join(ROOT, ensureBundle('arm64').tarball), ['sh', 'sleep'], { 'bin/qemu-aarch64-static': QEMU as string });
  }, 180_000);

  afterEach(() => {
    for (const child of running) killTree(child);
    running.clear();
  });

  afterAll(() => arm64Root?.cleanup());

  it('is an arm64 executable with its own arm64 loader', () => {
    const header = spawnSync('readelf', ['-hlW', join((arm64Root as ScratchRoot).path, INIT)], { encoding: 'utf8' }).stdout;
    expect(header).toMatch(/Machine:\s+AArch64/);
    expect(header).toContain('[Requesting program interpreter: /opt/graceful-init/lib/ld-linux-aarch64.so.1]');
  });

  it('without /proc, read-only: exit code, reaper from ../lib, signal forwarding', async () => {
    const init = startInRoot(false, ['-v', '--require-reaper', '--', '/bin/sh', '-c', SIGNAL_APP], { root: arm64Root as ScratchRoot, runner, timeoutMs: 30_000 });
    const pid = await init.initPid();
    await waitFor('the app to be ready', () => init.stdout().includes('ready'), 20_000);
    process.kill(pid, 'SIGUSR1');
    await waitFor('USR1 to reach the app', () => init.stdout().includes('got=USR1'));
    process.kill(pid, 'SIGTERM');
    const r = await init.result;
    expect(r.timedOut).toBe(false);
    expect(r.stderr).toContain('native reaper loaded (from=/opt/graceful-init/lib/reaper.node)');
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['ready', 'got=USR1', 'got=TERM']);
    expect(r.code).toBe(42);
  }, 40_000);
});
