// The native addon, as someone else in the container would attack it (issue 20 §3, issue 19): the
// init runs as root and loads code; no other user may choose that code. A swapper racing in a
// TMPDIR that everyone may write, a reaper.node that another user left beside the executable. And a
// PID 1 that cannot reap refuses to start instead of running on quietly; its name is graceful-init.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BINARY, MODES, childrenOf, cleanEnv, killAll, pid1Available, readText, start, tempDir, waitFor } from '../e2e/harness.js';
import { available } from '../native/helpers.js';
import { FAULT_FIXTURES } from './helpers.js';

const isRoot = process.getuid?.() === 0;
const CC = ['/usr/bin/cc', '/usr/bin/gcc'].find(existsSync);
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find(existsSync);
const canAttack = available('root, cc and setpriv', isRoot && Boolean(CC) && Boolean(SETPRIV));

// the attacker, and the unprivileged user an init may run as (USER nobody)
const ATTACKER = 65533;
const NOBODY = 65534;
const as = (uid: number) => [SETPRIV as string, `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'];

let work: { path: string; cleanup(): void };
let lone: string; // the executable alone in a directory of its own
let evilDir: string; // the attacker's: evil.so, and whatever names it plants
let mark: string; // evil.so's constructor appends "loaded" here

beforeAll(() => {
  if (!canAttack) return;
  work = tempDir();
  chmodSync(work.path, 0o755);
  mkdirSync(join(work.path, 'bin'), { mode: 0o755 });
  lone = join(work.path, 'bin', 'graceful-init');
  copyFileSync(BINARY, lone);
  chmodSync(lone, 0o755);
  const marks = join(work.path, 'marks');
  mkdirSync(marks, { mode: 0o777 });
  chmodSync(marks, 0o777);
  mark = join(marks, 'loaded');
  // writable by all: an init that checks the file it finds there and writes its own copy in (a
  // copy the swapper puts its library back over) takes longer to race than one that does not
  evilDir = join(work.path, 'evil');
  mkdirSync(evilDir, { mode: 0o777 });
  chmodSync(evilDir, 0o777);
  execFileSync(CC as string, ['-shared', '-fPIC', '-O2', `-DMARK="${mark}"`, '-o', join(evilDir, 'evil.so'), join(FAULT_FIXTURES, 'evil-library.c')]);
  execFileSync(CC as string, ['-O2', '-o', join(work.path, 'swapper'), join(FAULT_FIXTURES, 'swapper.c')]);
  chmodSync(join(evilDir, 'evil.so'), 0o755);
  execFileSync('chown', ['-R', `${ATTACKER}:${ATTACKER}`, evilDir]);
}, 60_000);

afterAll(() => work?.cleanup());
afterEach(() => killAll());

/** The init alone (`lone`), as `uid`, running `true`: its exit code and stderr. */
function startLone(uid: number, env: NodeJS.ProcessEnv, args: string[] = []): { status: number | null; stderr: string } {
  const argv = [...(uid === 0 ? [] : as(uid)), lone, ...args, '--', '/bin/true'];
  const r = spawnSync(argv[0] as string, argv.slice(1), { env: cleanEnv(env), encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
  return { status: r.status, stderr: r.stderr };
}

/** Every path the init leaves in `dir` when nothing attacks it: the names a swapper would plant. */
function namesItWrites(uid: number, dir: string): string[] {
  startLone(uid, { TMPDIR: dir });
  const names: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      names.push(relative(dir, join(d, entry.name)));
      if (entry.isDirectory()) walk(join(d, entry.name));
    }
  };
  walk(dir);
  return names;
}

describe.skipIf(!canAttack)('the addon: no other user chooses the code the init loads', () => {
  it.each([
    { who: 'root', uid: 0, starts: 150 },
    { who: 'an unprivileged user (USER nobody)', uid: NOBODY, starts: 150 },
  ])('a swapper racing in a 0777 TMPDIR without the sticky bit never gets its library loaded by an init running as $who ($starts starts)', async ({ uid, starts }) => {
    const dry = join(work.path, `dry-${uid}`);
    mkdirSync(dry, { mode: 0o777 });
    chmodSync(dry, 0o777);
    const planted = namesItWrites(uid, dry).map((n) => n.split('/').pop() as string);
    rmSync(dry, { recursive: true, force: true });

    const raceDir = join(work.path, `race-${uid}`);
    mkdirSync(raceDir, { mode: 0o777 });
    chmodSync(raceDir, 0o777); // an emptyDir: everyone may write, no sticky bit
    rmSync(mark, { force: true });
    const swapper = spawn(as(ATTACKER)[0] as string, [...as(ATTACKER).slice(1), join(work.path, 'swapper'), raceDir, evilDir, ...planted], { stdio: 'ignore' });
    try {
      const codes = new Map<number | null, number>();
      const until = Date.now() + 90_000;
      let done = 0;
      for (; done < starts && Date.now() < until && !existsSync(mark); done++) {
        const r = startLone(uid, { TMPDIR: raceDir });
        codes.set(r.status, (codes.get(r.status) ?? 0) + 1);
        for (const entry of readdirSync(raceDir)) rmSync(join(raceDir, entry), { recursive: true, force: true });
      }
      expect(readText(mark), `the attacker's library ran in the init after ${done} starts (the init wrote ${planted.join(', ') || 'nothing'} in TMPDIR)`).toBe('');
      expect(done).toBe(starts);
      expect(Object.fromEntries(codes)).toEqual({ 0: starts });
    } finally {
      swapper.kill('SIGKILL');
    }
  }, 120_000);

  it('a reaper.node beside the executable that another user put there (the directory is 0777), or a link there, is not loaded; the embedded copy is', () => {
    const dir = join(work.path, 'open-bin');
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
    const exe = join(dir, 'graceful-init');
    copyFileSync(lone, exe);
    chmodSync(exe, 0o755);
    const beside = join(dir, 'reaper.node');
    const variants: [string, () => void][] = [
      ['their own file', () => (copyFileSync(join(evilDir, 'evil.so'), beside), chownSync(beside, ATTACKER, ATTACKER))],
      ['a link to their file', () => symlinkSync(join(evilDir, 'evil.so'), beside)],
      ['a copy they may write', () => (copyFileSync(join(evilDir, 'evil.so'), beside), chmodSync(beside, 0o666))],
    ];
    rmSync(mark, { force: true });
    for (const [what, plant] of variants) {
      plant();
      const r = spawnSync(exe, ['-v', '--', '/bin/true'], { env: cleanEnv(), encoding: 'utf8', timeout: 20_000 });
      rmSync(beside, { force: true });
      expect(readText(mark), what).toBe('');
      expect(r.status, what).toBe(0);
      expect(r.stderr, what).toContain(`native reaper loaded (from=embedded copy in ${dir})`);
    }
    // asked for by --reaper-path, the same files are refused with the reason, and the run goes on
    copyFileSync(join(evilDir, 'evil.so'), beside);
    chownSync(beside, ATTACKER, ATTACKER);
    const r = spawnSync(exe, ['--reaper-path', beside, '--', '/bin/true'], { env: cleanEnv(), encoding: 'utf8', timeout: 20_000 });
    expect(readText(mark)).toBe('');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(`graceful-init: --reaper-path: ${beside}: owned by uid 65533: make it root's (or this user's) and not writable by others; loaded embedded copy in ${dir} instead\n`);
  });
});

describe('a PID 1 that cannot reap does not start', () => {
  // The executable alone, and every directory it could copy its addon to read-only or noexec
  // (Docker's /dev/shm is noexec; a read-only root): opened before the mounts, run through that
  // descriptor, since the checkout itself may live under /tmp.
  function withoutAddon(pid1: boolean, args: string[]) {
    const dir = tempDir();
    const alone = join(dir.path, 'graceful-init');
    copyFileSync(BINARY, alone);
    const mounts = [`mount --bind ${dir.path} ${dir.path}`, `mount -o remount,bind,ro ${dir.path}`, ...['/tmp', '/dev/shm', '/run', '/var/tmp'].map((d) => `mount -t tmpfs -o noexec tmpfs ${d}`)];
    const ns = pid1 ? ['--pid', '--fork', '--mount-proc'] : [];
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', ...ns, 'sh', '-c', `exec 3<"$0" && ${mounts.join(' && ')} && exec /proc/self/fd/3 "$@"`, alone, ...args], {
      env: cleanEnv(),
      timeout: 15_000,
      encoding: 'utf8',
    });
    dir.cleanup();
    return r;
  }

  it.skipIf(!pid1Available())('as PID 1: exit 1 before the app starts, with one line that names the fix, even with -q', () => {
    for (const args of [[], ['-q'], ['--require-reaper']]) {
      const r = withoutAddon(true, [...args, '--', 'sh', '-c', 'echo app ran; exit 3']);
      expect(r.stdout).toBe('');
      expect(r.status).toBe(1);
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^graceful-init: PID 1 must reap zombies, but cannot load the native reaper \(.*noexec mount.*\); put reaper\.node in \/\S+ or give --reaper-path FILE$/);
    }
  });

  it.skipIf(!pid1Available())('as a plain child: runs the app with a warning (the namespace has its own PID 1); --require-reaper: exit 1, naming the fix, not removing the flag', () => {
    const runs = withoutAddon(false, ['--', 'sh', '-c', 'exit 3']);
    expect(runs.status).toBe(3);
    expect(runs.stderr).toMatch(/^graceful-init: zombie reaping is OFF: cannot load the native reaper \(.*noexec mount.*\); put reaper\.node in /m);
    const strict = withoutAddon(false, ['--require-reaper', '--', 'sh', '-c', 'exit 3']);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(/^graceful-init: --require-reaper: cannot load the native reaper \(.*\); put reaper\.node in \S+ or give --reaper-path FILE\n$/);
    expect(strict.stderr).not.toContain('remove');
  });
});

describe.each(MODES)('the process name (%s)', (mode) => {
  it.skipIf(mode === 'pid1' && !pid1Available())('is graceful-init in /proc/PID/comm, which ps and pgrep -x read; the command line is untouched', async () => {
    const init = start(mode, ['--', 'sleep', '30']);
    const pid = await init.initPid();
    try {
      // the name exec gives it is graceful-init already; Node then calls its main thread MainThread
      await waitFor('the app', () => childrenOf(pid).length > 0);
      expect(readText(`/proc/${pid}/comm`)).toBe('graceful-init\n');
      expect(readText(`/proc/${pid}/cmdline`).split('\0')).toEqual([BINARY, '--', 'sleep', '30', '']);
      expect(spawnSync('pgrep', ['-x', 'graceful-init'], { encoding: 'utf8' }).stdout.split('\n')).toContain(String(pid));
    } finally {
      process.kill(pid, 'SIGTERM');
      await init.result;
    }
  });
});
