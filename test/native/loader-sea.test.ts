// loadNative() inside a real Single Executable Application: a tiny SEA (esbuild CJS
// bundle of an entry that calls loadNative) with reaper.node embedded as an asset,
// injected into a copy of the pinned Node 24; built like scripts/build.mjs builds ours (the
// asset's hash, which names the extracted file, defined at build time). Mount-namespace tests (root) give the
// SEA private /tmp-like directories, some of them noexec.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDON, PINNED_NODE, ROOT, available, toolExists } from './helpers.js';

let work: string;
let app: string;
let assetName: string; // reaper-<first 20 hex digits of the addon's sha256>.node
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
  const cache = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  work = mkdtempSync(join(cache, 'reaper-sea-'));
  const entry = join(work, 'entry.ts');
  writeFileSync(
    entry,
    `import { loadNative } from ${JSON.stringify(join(ROOT, 'src', 'reaper', 'load.ts'))};
const t0 = process.hrtime.bigint();
const r = loadNative(process.env.REAPER_EXPLICIT || null);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
console.log(JSON.stringify(r.native ? { from: r.from, pgrp: r.native.getProcessGroup(), ms } : { reasons: r.reasons, ms }));
`,
  );
  const hash = createHash('sha256').update(readFileSync(ADDON)).digest('hex').slice(0, 20);
  assetName = `reaper-${hash}.node`;
  await build({
    entryPoints: [entry],
    outfile: join(work, 'entry.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    define: { __REAPER_ASSET_SHA256__: JSON.stringify(hash) },
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
  it('extracts the embedded asset to a private content-addressed file, then reuses it', async () => {
    const tmp = join(work, 't1');
    mkdirSync(tmp);
    const first = await runApp({ TMPDIR: tmp });
    expect(first.from).toBe(`sea-asset:${tmp}/graceful-init-${uid}/${assetName}`);
    const file = (first.from ?? '').slice('sea-asset:'.length);
    expect(readFileSync(file).equals(readFileSync(ADDON))).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o700);
    expect(statSync(join(tmp, `graceful-init-${uid}`)).mode & 0o777).toBe(0o700);
    expect(first.pgrp).toBeGreaterThan(0);

    const before = statSync(file);
    const second = await runApp({ TMPDIR: tmp });
    expect(second.from).toBe(first.from);
    const after = statSync(file);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);

    // a damaged file of the right size is replaced, not loaded
    writeFileSync(file, Buffer.alloc(before.size, 0x41));
    const third = await runApp({ TMPDIR: tmp });
    expect(third.from).toBe(first.from);
    expect(readFileSync(file).equals(readFileSync(ADDON))).toBe(true);
    expect(readdirSync(join(tmp, `graceful-init-${uid}`))).toEqual([file.split('/').pop()]);
  });

  it('concurrent starts share one file and leave no temp files behind', async () => {
    const tmp = join(work, 't2');
    mkdirSync(tmp);
    const results = await Promise.all(Array.from({ length: 6 }, () => runApp({ TMPDIR: tmp })));
    const froms = new Set(results.map((r) => r.from));
    expect(froms.size).toBe(1);
    expect([...froms][0]).toMatch(/^sea-asset:/);
    expect(readdirSync(join(tmp, `graceful-init-${uid}`))).toHaveLength(1);
  });

  it('prefers an explicit path, then reaper.node beside the executable, then ../lib', async () => {
    const tmp = join(work, 't3');
    mkdirSync(tmp);
    const explicit = join(work, 'explicit.node');
    copyFileSync(ADDON, explicit);
    expect((await runApp({ TMPDIR: tmp, REAPER_EXPLICIT: explicit })).from).toBe(explicit);

    const lib = join(work, 'lib');
    mkdirSync(lib);
    copyFileSync(ADDON, join(lib, 'reaper.node'));
    expect((await runApp({ TMPDIR: tmp })).from).toBe(join(lib, 'reaper.node'));
    copyFileSync(ADDON, join(work, 'bin', 'reaper.node'));
    expect((await runApp({ TMPDIR: tmp })).from).toBe(join(work, 'bin', 'reaper.node'));
    rmSync(join(work, 'bin', 'reaper.node'));
    rmSync(lib, { recursive: true });
    // nothing was extracted while a file beside the binary was found
    expect(readdirSync(tmp)).toEqual([]);
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
  // so this works wherever the checkout lives (even under /tmp). `after` runs once the
  // app has finished; its output is returned as `after`.
  const inMountNs = async (setup: string[], env: NodeJS.ProcessEnv, after = ''): Promise<Report & { after: string }> => {
    const script = [
      'exec 9<"$0"',
      ...setup.map((cmd) => `${cmd} || exit 90`),
      '/proc/self/fd/9',
      `echo "AFTER:$(${after || 'true'})"`,
    ].join('\n');
    let stdout = '';
    const report = await runApp(env, ['/usr/bin/unshare', '-m', '--propagation', 'private', '/bin/sh', '-c', script], (out) => {
      stdout = out;
    });
    const line = stdout.split('\n').find((l) => l.startsWith('AFTER:')) ?? 'AFTER:';
    return { ...report, after: line.slice('AFTER:'.length).trim() };
  };

  it.skipIf(!available('unshare -m and tmpfs mounts (root)', canMount))(
    'skips a noexec directory and a directory owned by someone else',
    async () => {
      const fresh = 'mount -t tmpfs tmpfs /tmp';
      const r = await inMountNs(
        [fresh, 'mkdir /tmp/noexec', 'mount -t tmpfs -o noexec tmpfs /tmp/noexec'],
        { TMPDIR: '/tmp/noexec' },
        'ls -A /tmp/noexec',
      );
      expect(r.from).toBe(`sea-asset:/tmp/graceful-init-${uid}/${assetName}`);
      expect(r.after).toBe(`graceful-init-${uid}`); // it was written there, but could not be mapped

      const foreign = `/tmp/foreign/graceful-init-${uid}`;
      const r2 = await inMountNs(
        [fresh, `mkdir -p ${foreign}`, `chown 4242:4242 ${foreign}`],
        { TMPDIR: '/tmp/foreign' },
        `ls -A ${foreign}; stat -c %u ${foreign}`,
      );
      expect(r2.from).toMatch(new RegExp(`^sea-asset:/tmp/graceful-init-${uid}/`));
      expect(r2.after).toBe('4242'); // left empty and untouched
    },
  );

  it.skipIf(!available('unshare -m and tmpfs mounts (root)', canMount))(
    'returns one reason per unusable directory when none works (never throws)',
    async () => {
      const dirs = ['/tmp', '/dev/shm', '/run', '/var/tmp'];
      const r = await inMountNs(
        dirs.map((d) => `mount -t tmpfs -o noexec tmpfs ${d}`),
        {},
      );
      expect(r.from).toBeUndefined();
      for (const d of dirs) {
        expect(r.reasons).toEqual(expect.arrayContaining([expect.stringContaining(`${d}/graceful-init-${uid}`)]));
      }
      expect(r.reasons?.join('\n')).toMatch(/failed to map segment|operation not permitted/i);
    },
  );

  it('stays cheap at start-up', async () => {
    const tmp = join(work, 't4');
    mkdirSync(tmp);
    await runApp({ TMPDIR: tmp });
    const warm = await runApp({ TMPDIR: tmp });
    expect(warm.from).toMatch(/^sea-asset:/);
    expect(warm.ms).toBeLessThan(50);
  });
});
