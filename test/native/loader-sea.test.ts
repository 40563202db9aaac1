// loadNative() inside a real Single Executable Application: a tiny SEA (esbuild CJS
// bundle of an entry that calls loadNative) with reaper.node embedded as an asset,
// injected into a copy of the pinned Node 24, as scripts/build.mjs builds ours. Mount-namespace
// tests (root) give the SEA private /tmp-like directories, some of them noexec or read-only.
import { execFile, execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDON, PINNED_NODE, ROOT, available, toolExists } from './helpers.js';

let work: string;
let app: string;
const uid = process.getuid?.() ?? 0;

interface Report {
  from?: string;
  pgrp?: number;
  reasons?: string[];
  ms: number;
}

function runApp(env: NodeJS.ProcessEnv, prefix: string[] = [], sink?: (stdout: string) => void): Promise<Report> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = [...prefix, app];
    execFile(
      cmd ?? app,
      args,
      { env: { PATH: '/usr/bin:/bin', ...env }, timeout: 20_000, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stdout}\n${stderr}`));
        sink?.(stdout);
        try {
          resolve(JSON.parse(stdout.split('\n').findLast((l) => l.startsWith('{')) ?? '') as Report);
        } catch {
          reject(new Error(`bad output: ${stdout}\n${stderr}`));
        }
      },
    );
  });
}

beforeAll(async () => {
  // as root, outside every directory the tests below mount over (/tmp, /dev/shm, /run, /var/tmp):
  // a checkout may itself live under /tmp
  const cache = process.getuid?.() === 0 ? '/var/cache/graceful-init-test' : join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  work = mkdtempSync(join(cache, 'reaper-sea-'));
  const entry = join(work, 'entry.ts');
  writeFileSync(
    entry,
    `import { loadNative } from ${JSON.stringify(join(ROOT, 'src', 'reaper', 'load.ts'))};
const t0 = process.hrtime.bigint();
const r = loadNative(process.env.REAPER_EXPLICIT || null);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
console.log(JSON.stringify(r.native ? { from: r.from, pgrp: r.native.getProcessGroup(), reasons: r.reasons, ms } : { reasons: r.reasons, ms }));
`,
  );
  await build({
    entryPoints: [entry],
    outfile: join(work, 'entry.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    logLevel: 'error',
  });
  const config = join(work, 'sea-config.json');
  writeFileSync(
    config,
    JSON.stringify({
      main: join(work, 'entry.cjs'),
      output: join(work, 'sea.blob'),
      disableExperimentalSEAWarning: true,
      assets: { 'reaper.node': ADDON },
    }),
  );
  execFileSync(PINNED_NODE, ['--experimental-sea-config', config], { stdio: 'ignore', timeout: 60_000 });
  mkdirSync(join(work, 'bin'));
  app = join(work, 'bin', 'app');
  copyFileSync(PINNED_NODE, app);
  chmodSync(app, 0o755);
  execFileSync(
    PINNED_NODE,
    [
      join(ROOT, 'node_modules', 'postject', 'dist', 'cli.js'),
      app,
      'NODE_SEA_BLOB',
      join(work, 'sea.blob'),
      '--sentinel-fuse',
      'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
    ],
    { stdio: 'ignore', timeout: 120_000 },
  );
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});


describe('loadNative() in a SEA', () => {
  const bin = () => join(work, 'bin');
  const listing = (dir: string) => readdirSync(dir).sort();

  it("loads the embedded asset through an unnamed file in the executable's directory, and leaves nothing anywhere", async () => {
    const tmp = join(work, 't1');
    mkdirSync(tmp);
    const before = listing(bin());
    const r = await runApp({ TMPDIR: tmp });
    expect(r.from).toBe(`embedded copy in ${bin()}`);
    expect(r.pgrp).toBeGreaterThan(0);
    expect(listing(bin())).toEqual(before);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('concurrent starts each load their own copy and leave nothing behind', async () => {
    const before = listing(bin());
    const results = await Promise.all(Array.from({ length: 6 }, () => runApp({})));
    expect(new Set(results.map((r) => r.from))).toEqual(new Set([`embedded copy in ${bin()}`]));
    expect(listing(bin())).toEqual(before);
  });

  it('prefers an explicit path, then reaper.node beside the executable, then ../lib', async () => {
    const explicit = join(work, 'explicit.node');
    copyFileSync(ADDON, explicit);
    expect((await runApp({ REAPER_EXPLICIT: explicit })).from).toBe(explicit);

    const lib = join(work, 'lib');
    mkdirSync(lib);
    copyFileSync(ADDON, join(lib, 'reaper.node'));
    expect((await runApp({})).from).toBe(join(lib, 'reaper.node'));
    copyFileSync(ADDON, join(bin(), 'reaper.node'));
    expect((await runApp({})).from).toBe(join(bin(), 'reaper.node'));
    rmSync(join(bin(), 'reaper.node'));
    rmSync(lib, { recursive: true });
  });

  it('refuses a file that another user could change, a link and a directory, says why, and loads the embedded copy instead', async () => {
    const dir = join(work, 't3');
    mkdirSync(dir);
    const cases: [string, (file: string) => void, RegExp][] = [
      ['group-writable.node', (f) => chmodSync(f, 0o664), /: writable by its group \(mode 664\): make it root's/],
      ['world-writable.node', (f) => chmodSync(f, 0o646), /: writable by everyone \(mode 646\)/],
      ['foreign.node', (f) => execFileSync('chown', ['4242', f]), /: owned by uid 4242/],
      ['link.node', (f) => (rmSync(f), symlinkSync(ADDON, f)), /: a symbolic link: give the file it points to$/],
      ['a-dir.node', (f) => (rmSync(f), mkdirSync(f)), /: not a regular file$/],
    ];
    for (const [name, spoil, why] of cases) {
      const file = join(dir, name);
      copyFileSync(ADDON, file);
      chmodSync(file, 0o755);
      spoil(file);
      const r = await runApp({ REAPER_EXPLICIT: file });
      expect(r.from, name).toBe(`embedded copy in ${bin()}`);
      expect(r.reasons?.[0], name).toMatch(new RegExp(`^${file}${why.source}`));
    }
  });

  const canMount =
    uid === 0 &&
    toolExists('/usr/bin/unshare') &&
    (() => {
      try {
        execFileSync('/usr/bin/unshare', ['-m', '/bin/sh', '-c', 'mount -t tmpfs -o noexec tmpfs /mnt'], {
          stdio: 'ignore',
          timeout: 5000,
        });
        return true;
      } catch {
        return false;
      }
    })();

  // Runs the SEA in a private mount namespace after `setup` (shell commands: fresh tmpfs
  // mounts, ...). The binary is opened before the mounts and run through /proc/self/fd,
  // so this works wherever the checkout lives (even under /tmp); `direct` runs it by its path
  // instead (without /proc). `after` runs once the app has finished; its output is returned as `after`.
  const inMountNs = async (setup: string[], env: NodeJS.ProcessEnv, after = '', direct = false): Promise<Report & { after: string }> => {
    const script = ['exec 9<"$0"', ...setup.map((cmd) => `${cmd} || exit 90`), direct ? '"$0"' : '/proc/self/fd/9', `echo "AFTER:$(${after || 'true'})"`].join('\n');
    let stdout = '';
    const report = await runApp(env, ['/usr/bin/unshare', '-m', '--propagation', 'private', '/bin/sh', '-c', script], (out) => {
      stdout = out;
    });
    const line = stdout.split('\n').find((l) => l.startsWith('AFTER:')) ?? 'AFTER:';
    return { ...report, after: line.slice('AFTER:'.length).trim() };
  };
  const readOnlyBin = () => `mount --bind ${bin()} ${bin()} && mount -o remount,bind,ro ${bin()}`;

  it.skipIf(!available('unshare -m and tmpfs mounts (root)', canMount))(
    "skips a read-only executable's directory and noexec directories; as root, never TMPDIR",
    async () => {
      const r = await inMountNs(
        [readOnlyBin(), 'mount -t tmpfs tmpfs /tmp', 'mkdir -m 777 /tmp/tmpdir', 'mount -t tmpfs -o noexec tmpfs /dev/shm', 'mount -t tmpfs -o noexec tmpfs /run'],
        { TMPDIR: '/tmp/tmpdir' },
        "find /tmp -mindepth 1 | tr '\\n' ' '",
      );
      expect(r.from).toBe('embedded copy in /tmp');
      expect(r.reasons).toEqual([
        `${join(bin(), 'reaper.node')}: not found`,
        `${join(work, 'lib', 'reaper.node')}: not found`,
        `embedded copy in ${bin()}: read-only`,
        'embedded copy in /dev/shm: noexec mount',
        'embedded copy in /run: noexec mount',
      ]);
      expect(r.after).toBe('/tmp/tmpdir'); // nothing written that outlives the load
    },
  );

  it.skipIf(!available('unshare -m and tmpfs mounts (root)', canMount))(
    'returns one reason per unusable directory when none works (never throws)',
    async () => {
      const dirs = ['/dev/shm', '/run', '/tmp', '/var/tmp'];
      const r = await inMountNs([readOnlyBin(), ...dirs.map((d) => `mount -t tmpfs -o noexec tmpfs ${d}`)], {});
      expect(r.from).toBeUndefined();
      expect(r.reasons).toEqual(expect.arrayContaining([`embedded copy in ${bin()}: read-only`, ...dirs.map((d) => `embedded copy in ${d}: noexec mount`)]));
    },
  );

  const canSetpriv = canMount && toolExists('/usr/bin/setpriv');

  it.skipIf(!available('setpriv (root)', canSetpriv))(
    "as another user, whose executable's directory is not writable: an unnamed copy in TMPDIR, even a directory everyone may change",
    async () => {
      chmodSync(work, 0o755);
      const tmp = join(work, 't5');
      mkdirSync(tmp, { mode: 0o777 });
      chmodSync(tmp, 0o777);
      const r = await runApp({ TMPDIR: tmp }, ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
      expect(r.from).toBe(`embedded copy in ${tmp}`);
      expect(r.reasons).toContain(`embedded copy in ${bin()}: permission denied`);
      expect(readdirSync(tmp)).toEqual([]);
    },
  );

  it.skipIf(!available('unshare -m and tmpfs mounts (root)', canMount))(
    'without /proc: reaper.node beside the executable loads by its path when no other user can change it; the embedded copy cannot load',
    async () => {
      copyFileSync(ADDON, join(bin(), 'reaper.node'));
      try {
        const beside = await inMountNs(['umount -l /proc'], {}, '', true);
        expect(beside.from).toBe(join(bin(), 'reaper.node'));
        // an explicit path in a directory that everyone may change (no sticky bit) is refused
        const open = join(work, 't6');
        mkdirSync(open);
        chmodSync(open, 0o777);
        copyFileSync(ADDON, join(open, 'reaper.node'));
        const r = await inMountNs(['umount -l /proc'], { REAPER_EXPLICIT: join(open, 'reaper.node') }, '', true);
        expect(r.from).toBe(join(bin(), 'reaper.node'));
        expect(r.reasons).toEqual([`${join(open, 'reaper.node')}: no /proc, and ${open} is writable by everyone (mode 777)`]);
      } finally {
        rmSync(join(bin(), 'reaper.node'));
      }
      const none = await inMountNs(['umount -l /proc'], {}, '', true);
      expect(none.from).toBeUndefined();
      expect(none.reasons).toContain('embedded copy: needs /proc (it is loaded through /proc/self/fd)');
    },
  );

  it('stays cheap at start-up', async () => {
    await runApp({});
    const warm = await runApp({});
    expect(warm.from).toMatch(/^embedded copy in /);
    expect(warm.ms).toBeLessThan(50);
  });
});
