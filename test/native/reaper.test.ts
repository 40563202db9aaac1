// The native reaper against real processes. The vitest worker (pool: forks) is the
// parent of everything spawned here; tests that need a child subreaper or a PID
// namespace run a fixture in a separate Node process so this worker never becomes one.
import { execFile, execFileSync, spawn as cpSpawn } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromWaitStatus } from '../../src/process/exit-status.js';
import { loadNative } from '../../src/reaper/load.js';
import { REAP_OUT } from '../../src/reaper/native-api.js';
import type { Native, SpawnRequest } from '../../src/reaper/native.js';
import { decodeWaitStatus, exitStatusFromWait } from './wait-status.js';
import {
  ADDON,
  EMPTY,
  FIXTURES,
  PINNED_NODE,
  available,
  bundleLoader,
  collected as decoded,
  hasSignal,
  killQuietly,
  myChildren,
  procStat,
  reapUntil,
  signalMasks,
  sleep,
  toolExists,
  within,
} from './helpers.js';

let reaper: Native;
let scratch: string;
let loaderBundle: string; // loadNative() for the Node processes started here (fixtures/native.mjs)
let baselineBlocked: bigint; // our signal mask before the first spawn()
const started: number[] = []; // every native pid, killed in afterAll if still there

function spawnNative(req: Partial<SpawnRequest> & Pick<SpawnRequest, 'file' | 'argv'>): number {
  const pid = reaper.spawn({ env: ['PATH=/usr/bin:/bin'], newProcessGroup: false, foreground: false, ...req });
  started.push(pid);
  return pid;
}
function sh(script: string, extra: Partial<SpawnRequest> = {}): number {
  return spawnNative({ file: '/bin/sh', argv: ['sh', '-c', script], ...extra });
}

beforeAll(() => {
  baselineBlocked = signalMasks('self').blocked;
  const res = loadNative(ADDON);
  if (!res.native) throw new Error(`reaper did not load: ${res.reasons.join('; ')}`);
  expect(res.from).toBe(ADDON);
  reaper = res.native;
  scratch = mkdtempSync(join(tmpdir(), 'reaper-test-'));
  loaderBundle = bundleLoader(join(scratch, 'load.mjs'));
}, 180_000);

afterAll(async () => {
  for (const pid of started) killQuietly(pid);
  if (reaper) {
    // collect whatever is left of ours (nothing libuv owns is alive by now)
    const deadline = Date.now() + 2000;
    while (started.some((p) => procStat(p)?.ppid === process.pid) && Date.now() < deadline) {
      reaper.reap(EMPTY, new Int32Array(REAP_OUT.length));
      await sleep(10);
    }
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('spawn()', () => {
  it('passes argv and env byte for byte (spaces, empty strings, unicode, no env)', async () => {
    const outFile = join(scratch, 'argv');
    const argv = [
      'custom argv0 ✓',
      '-c',
      '/bin/cat /proc/$$/cmdline > "$1"; /bin/cat /proc/$$/environ > "$1.env"',
      'name',
      outFile,
      'a b',
      '',
      'ünïcødé ✓ 日本語 🚀',
      '  leading and trailing  ',
      'tab\there',
      'new\nline',
      '$HOME',
      '*',
      '"quoted" \'single\'',
    ];
    const env = ['A=1', 'EMPTY=', 'SPACES=a b  c', 'UNI=ß∂ƒ✓🚀', 'EQ=x=y=z', 'NOEQUALS', 'PATH=/usr/bin:/bin'];
    const pid = spawnNative({ file: '/bin/sh', argv, env });
    expect(await reapUntil(reaper, pid)).toMatchObject({ signaled: 0, code: 0 });
    expect(readFileSync(outFile)).toEqual(Buffer.from(`${argv.join('\0')}\0`));
    expect(readFileSync(`${outFile}.env`)).toEqual(Buffer.from(`${env.join('\0')}\0`));

    const pid2 = spawnNative({ file: '/bin/sh', argv: argv.slice(0, 5), env: [] });
    expect(await reapUntil(reaper, pid2)).toMatchObject({ signaled: 0, code: 0 });
    expect(readFileSync(`${outFile}.env`).length).toBe(0);
  });

  it.each([
    ['ENOENT', '/nonexistent/graceful-init-test'],
    ['ENOTDIR', '/etc/passwd/child'],
    ['EACCES', '/etc'],
  ])('reports %s from execve with code, errno, syscall and path', (code, file) => {
    let err: (Error & { code?: string; errno?: number; syscall?: string; path?: string }) | undefined;
    try {
      spawnNative({ file, argv: ['x'] });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err?.code).toBe(code);
    expect(err?.errno).toBe(-constants.errno[code as keyof typeof constants.errno]);
    expect(err?.syscall).toBe('execve');
    expect(err?.path).toBe(file);
    expect(err?.message).toContain(code);
  });

  it('reports EACCES for a file without execute bits and E2BIG for a huge argument; hands what the kernel cannot execute to /bin/sh, as execvp does', async () => {
    const noExec = join(scratch, 'no-exec.sh');
    writeFileSync(noExec, '#!/bin/sh\nexit 0\n');
    chmodSync(noExec, 0o644);
    const garbage = join(scratch, 'garbage');
    writeFileSync(garbage, Buffer.from([0x00, 0x01, 0x02, 0x03, 0xff, 0xfe]));
    chmodSync(garbage, 0o755);
    const codeOf = (req: Partial<SpawnRequest> & Pick<SpawnRequest, 'file' | 'argv'>): string | undefined => {
      try {
        spawnNative(req);
        return 'no error';
      } catch (e) {
        return (e as { code?: string }).code;
      }
    };
    expect(codeOf({ file: noExec, argv: ['x'] })).toBe('EACCES');
    // ENOEXEC: a script without #! runs under /bin/sh with the file as $0 (execvp(3), tini)
    const noShebang = join(scratch, 'no-shebang');
    writeFileSync(noShebang, `echo "$0 $1" > ${noShebang}.out\n`);
    chmodSync(noShebang, 0o755);
    const pid = spawnNative({ file: noShebang, argv: ['ignored', 'arg'] });
    expect(await reapUntil(reaper, pid)).toMatchObject({ signaled: 0, code: 0 });
    expect(readFileSync(`${noShebang}.out`, 'utf8')).toBe(`${noShebang} arg\n`);
    const garbageRun = spawnNative({ file: garbage, argv: ['x'] }); // to /bin/sh too, which refuses it
    expect((await reapUntil(reaper, garbageRun)).code).not.toBe(0);
    expect(codeOf({ file: '/bin/true', argv: ['true', 'x'.repeat(200_000)] })).toBe('E2BIG');
    // the failed children were collected by spawn() itself
    expect(myChildren().filter((c) => c.state === 'Z')).toEqual([]);
  });

  it('rejects malformed requests with a TypeError before forking', () => {
    const bad: unknown[] = [
      undefined,
      { file: '', argv: [], env: [] },
      { file: '/bin/true', argv: 'true', env: [] },
      { file: '/bin/true', argv: ['true', 1], env: [] },
      { file: '/bin/true', argv: ['tr\0ue'], env: [] },
      { file: '/bin/true', argv: ['true'], env: ['A=\0'] },
      { file: '/bin/tr\0ue', argv: ['true'], env: [] },
    ];
    for (const req of bad) expect(() => reaper.spawn(req as SpawnRequest)).toThrow(TypeError);
  });

  it('gives the child default signal dispositions and an empty mask, and leaves ours as it was', async () => {
    const mine = signalMasks('self');
    // the control: Node ignores SIGPIPE, which execve would pass on
    expect(hasSignal(mine.ignored, constants.signals.SIGPIPE)).toBe(true);

    const pid = spawnNative({ file: '/bin/sleep', argv: ['sleep', '10'] });
    // spawn() returns at the exec's point of no return (the child shared our memory until then);
    // the kernel resets the handlers libc keeps for itself a moment later
    const until = Date.now() + 2000;
    let child = signalMasks(pid);
    while (child.caught !== 0n && Date.now() < until) child = signalMasks(pid);
    expect(child).toEqual({ blocked: 0n, ignored: 0n, caught: 0n });
    // spawn() blocks everything around fork() and must restore our mask exactly
    expect(mine.blocked).toBe(baselineBlocked);
    expect(signalMasks('self').blocked).toBe(baselineBlocked);

    process.kill(pid, 'SIGTERM');
    expect(await reapUntil(reaper, pid)).toMatchObject({ signaled: 1, code: constants.signals.SIGTERM });

    // SIGPIPE is not ignored any more: the shell dies of it
    const pipe = sh('kill -PIPE $$; exit 0');
    expect(await reapUntil(reaper, pipe)).toMatchObject({ signaled: 1, code: constants.signals.SIGPIPE });
  });

  it('newProcessGroup puts the child in its own group (pgid == pid), otherwise it shares ours', async () => {
    const selfStat = procStat('self');
    expect(reaper.getProcessGroup()).toBe(selfStat?.pgrp);

    const grouped = spawnNative({ file: '/bin/sleep', argv: ['sleep', '10'], newProcessGroup: true });
    const plain = spawnNative({ file: '/bin/sleep', argv: ['sleep', '10'] });
    expect(procStat(grouped)?.pgrp).toBe(grouped);
    expect(procStat(plain)?.pgrp).toBe(reaper.getProcessGroup());

    // a signal to the new group reaches the child
    process.kill(-grouped, 'SIGTERM');
    expect(await reapUntil(reaper, grouped)).toMatchObject({ signaled: 1, code: constants.signals.SIGTERM });
    process.kill(plain, 'SIGKILL');
    expect(await reapUntil(reaper, plain)).toMatchObject({ signaled: 1, code: constants.signals.SIGKILL });
  });
});

describe('reap()', () => {
  it('decodes exit codes 0/1/42/255 and signal deaths of the watched pid', async () => {
    for (const code of [0, 1, 42, 255]) {
      const pid = sh(`exit ${code}`);
      const got = await reapUntil(reaper, pid);
      expect(got).toMatchObject({ signaled: 0, code });
      expect(decodeWaitStatus(got.status)).toEqual({ kind: 'exited', code });
      expect(exitStatusFromWait(got.status)).toBe(code);
      expect(fromWaitStatus(got.status)).toEqual({ status: code, code, signal: null });
    }
    for (const name of ['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGQUIT'] as const) {
      const signo = constants.signals[name];
      const pid = sh(`ulimit -c 0; kill -${name.slice(3)} $$; exit 0`);
      const got = await reapUntil(reaper, pid);
      expect(got).toMatchObject({ signaled: 1, code: signo });
      expect(decodeWaitStatus(got.status)).toMatchObject({ kind: 'signaled', signal: signo });
      expect(exitStatusFromWait(got.status)).toBe(128 + signo);
      expect(fromWaitStatus(got.status)).toEqual({ status: 128 + signo, code: null, signal: name });
    }
  });

  it('returns 0 with nothing to collect and resets the out slots (keeping watchedPid)', () => {
    const out = Int32Array.from([12345, 7, 7, 7]);
    expect(out.length).toBe(REAP_OUT.length);
    expect(reaper.reap(EMPTY, out)).toBe(0);
    expect([...out]).toEqual([12345, 0, 0, 0]);
  });

  it('rejects wrong argument types and a short out array', () => {
    expect(() => reaper.reap(new Uint32Array(0) as unknown as Int32Array, new Int32Array(REAP_OUT.length))).toThrow(TypeError);
    expect(() => reaper.reap(EMPTY, [0, 0, 0, 0] as unknown as Int32Array)).toThrow(TypeError);
    expect(() => reaper.reap(EMPTY, new Int32Array(REAP_OUT.length - 1))).toThrow(RangeError);
  });

  it('collects every exited child in one call and counts them', async () => {
    const pids = Array.from({ length: 25 }, (_, i) => sh(`exit ${i}`));
    const deadline = Date.now() + 5000;
    while (pids.some((p) => procStat(p)?.state !== 'Z') && Date.now() < deadline) await sleep(10);
    expect(pids.every((p) => procStat(p)?.state === 'Z')).toBe(true);
    expect(reaper.reap(EMPTY, new Int32Array(REAP_OUT.length))).toBe(25);
    expect(pids.map((p) => procStat(p))).toEqual(pids.map(() => null));
  });

  it('stops at an owned zombie and reports it in blockedBy without collecting it', async () => {
    const ownedPid = sh('exit 3');
    const other = sh('exit 4');
    const deadline = Date.now() + 5000;
    while ([ownedPid, other].some((p) => procStat(p)?.state !== 'Z') && Date.now() < deadline) await sleep(10);

    const out = new Int32Array(REAP_OUT.length);
    out[REAP_OUT.watchedPid] = ownedPid;
    const n = reaper.reap(Int32Array.of(ownedPid), out);
    expect(out[REAP_OUT.blockedBy]).toBe(ownedPid);
    expect(out[REAP_OUT.watchedDone]).toBe(0);
    expect(n).toBeLessThanOrEqual(1); // `other` only if the kernel listed it first
    expect(procStat(ownedPid)?.state).toBe('Z'); // still there for its owner

    // once it is not owned any more it is collected with its status
    expect(await reapUntil(reaper, ownedPid)).toMatchObject({ signaled: 0, code: 3 });
    expect(procStat(other)).toBeNull();
  });

  it('finds owned pids in large sorted arrays (binary search)', async () => {
    const pid = sh('exit 5');
    const deadline = Date.now() + 5000;
    while (procStat(pid)?.state !== 'Z' && Date.now() < deadline) await sleep(10);
    // 1000 sorted decoys around the real pid
    const owned = Int32Array.from({ length: 1000 }, (_, i) => (i < 500 ? i + 2 : pid + i)).map((v, i) =>
      i === 700 ? pid : v,
    );
    owned.sort();
    const out = new Int32Array(REAP_OUT.length);
    reaper.reap(owned, out);
    expect(out[REAP_OUT.blockedBy]).toBe(pid);
    expect(await reapUntil(reaper, pid)).toMatchObject({ code: 5 });
  });

  it('never steals a node:child_process child listed in owned (50 children, distinct codes)', async () => {
    const kids = Array.from({ length: 50 }, (_, i) => {
      const code = 100 + i;
      const cp = cpSpawn('/bin/sh', ['-c', `sleep 0.0${i % 10}; exit ${code}`], { stdio: 'ignore' });
      const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        cp.on('exit', (c, s) => resolve([c, s])),
      );
      return { cp, code, exit };
    });
    const owned = Int32Array.from(kids.map((k) => k.cp.pid ?? 0)).sort();
    expect(owned.includes(0)).toBe(false);
    // native children exiting at the same time: reap() must take these
    const natives = Array.from({ length: 20 }, (_, i) => sh(`sleep 0.0${i % 10}; exit 1`));

    let settled = 0;
    for (const k of kids) void k.exit.then(() => settled++);
    let collected = 0;
    let blocked = 0;
    const out = new Int32Array(REAP_OUT.length);
    const deadline = Date.now() + 10_000;
    while ((settled < kids.length || natives.some((p) => procStat(p))) && Date.now() < deadline) {
      // tight loop: libuv cannot run while we spin, so exited libuv children pile up in front of us
      const spinUntil = Date.now() + 15;
      while (Date.now() < spinUntil) {
        collected += reaper.reap(owned, out);
        if (out[REAP_OUT.blockedBy] !== 0) blocked++;
      }
      await new Promise((r) => setImmediate(r));
      await sleep(1);
    }
    try {
      const results = await within(Promise.all(kids.map((k) => k.exit)), 3000, 'child_process exit events');
      expect(results).toEqual(kids.map((k) => [k.code, null]));
    } finally {
      for (const k of kids) k.cp.kill('SIGKILL');
    }
    expect(blocked).toBeGreaterThan(0); // the race really happened
    expect(collected).toBe(natives.length);
  });

  it('works as a process.on("SIGCHLD") listener while libuv reaps its own children', async () => {
    const ownedSet = new Set<number>();
    let owned = new Int32Array(0);
    const sync = (): void => {
      owned = Int32Array.from(ownedSet).sort();
    };
    const out = new Int32Array(REAP_OUT.length);
    let collected = 0;
    let retry: NodeJS.Immediate | undefined;
    const onChld = (): void => {
      out[REAP_OUT.watchedPid] = 0;
      collected += reaper.reap(owned, out);
      if (out[REAP_OUT.blockedBy] !== 0 && !retry) {
        retry = setImmediate(() => {
          retry = undefined;
          onChld();
        });
      }
    };
    process.on('SIGCHLD', onChld);
    try {
      const exits: Promise<[number, number | null, NodeJS.Signals | null]>[] = [];
      const natives: number[] = [];
      for (let i = 0; i < 30; i++) {
        const code = 20 + i;
        const cp = cpSpawn('/bin/sh', ['-c', `exit ${code}`], { stdio: 'ignore' });
        const pid = cp.pid ?? 0;
        ownedSet.add(pid);
        sync();
        exits.push(
          new Promise((resolve) =>
            cp.on('exit', (c, s) => {
              ownedSet.delete(pid);
              sync();
              resolve([code, c, s]);
            }),
          ),
        );
        natives.push(sh(`exit ${i % 3}`));
      }
      const results = await within(Promise.all(exits), 10_000, 'child_process exit events');
      for (const [want, got, signal] of results) expect([got, signal]).toEqual([want, null]);
      const deadline = Date.now() + 5000;
      while (natives.some((p) => procStat(p)) && Date.now() < deadline) await sleep(10);
      expect(natives.filter((p) => procStat(p))).toEqual([]);
      expect(collected).toBe(natives.length);
    } finally {
      process.removeListener('SIGCHLD', onChld);
      if (retry) clearImmediate(retry);
    }
  });
});

/** What a fixture needs to load the addon through the typed wrapper (fixtures/native.mjs). */
const fixtureEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  GRACEFUL_INIT_LOADER: loaderBundle,
  GRACEFUL_INIT_REAPER_PATH: ADDON,
});

/** Runs a fixture in the pinned Node 24; its last stdout line, parsed. */
const runFixture = (
  fixture: string,
  args: string[],
  opts: { prefix?: string[]; nodeFlags?: string[] } = {},
): Promise<Record<string, unknown>> =>
  new Promise((resolve, reject) => {
    const [cmd, ...rest] = [...(opts.prefix ?? []), PINNED_NODE, ...(opts.nodeFlags ?? []), join(FIXTURES, fixture), ...args];
    execFile(
      cmd ?? PINNED_NODE,
      rest,
      { env: fixtureEnv(), timeout: 30_000, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stderr}`));
        try {
          resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>);
        } catch {
          reject(new Error(`bad fixture output: ${stdout}\n${stderr}`));
        }
      },
    );
  });

describe('orphans (fixture process as subreaper / PID 1)', () => {
  const runOrphans = (args: string[], prefix: string[] = []): Promise<Record<string, unknown>> =>
    runFixture('orphans.mjs', args, { prefix }).then((r) => ({
      ...r,
      // the app's raw wait status, decoded as { signaled, code }
      watched: r.watched ? decoded((r.watched as { status: number }).status) : r.watched,
    }));

  it('collects 200 orphans of a shell (sleep &) and the app status, leaving no zombie', async () => {
    const r = await runOrphans(['sh']);
    expect(r).toMatchObject({
      subreaper: 'set',
      watched: { signaled: 0, code: 7 },
      remainingZombies: 0,
      remainingAlive: 0,
      timedOut: false,
    });
    // the fixture started only the app, and reap() collects only its own children: all 200
    // sleeps came to it (how many a 20 ms /proc poll catches alive depends on the machine's load)
    expect(r.collected).toBe(201);
    expect(r.orphansSeen as number).toBeGreaterThan(0);
    expect(r.collected as number).toBeGreaterThan(r.orphansSeen as number);
  });

  it('collects exactly 200 orphans of a parent that never waits (+ the app)', async () => {
    const r = await runOrphans(['perl']);
    expect(r).toMatchObject({
      subreaper: 'set',
      collected: 201,
      watched: { signaled: 0, code: 7 },
      remainingZombies: 0,
      remainingAlive: 0,
      timedOut: false,
    });
  });

  const canUnshare =
    process.getuid?.() === 0 &&
    toolExists('/usr/bin/unshare') &&
    (() => {
      try {
        execFileSync('/usr/bin/unshare', ['-fp', '--mount-proc', '/bin/true'], { stdio: 'ignore', timeout: 5000 });
        return true;
      } catch {
        return false;
      }
    })();

  it.skipIf(!available('unshare -fp (root)', canUnshare))(
    'as PID 1 of a new PID namespace (no subreaper needed) collects them too',
    async () => {
      const r = await runOrphans(['perl', '--no-subreaper'], ['/usr/bin/unshare', '-fp', '--mount-proc']);
      expect(r).toMatchObject({
        pid: 1,
        subreaper: 'not asked',
        collected: 201,
        watched: { signaled: 0, code: 7 },
        remainingZombies: 0,
        remainingAlive: 0,
      });
    },
  );
});

describe('process attributes', () => {
  const hasScript = toolExists('/usr/bin/script');

  function onPty(foreground: 0 | 1): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      execFile(
        '/usr/bin/script',
        ['-qec', `${PINNED_NODE} ${join(FIXTURES, 'foreground.mjs')} ${foreground}`, '/dev/null'],
        {
          env: fixtureEnv(),
          timeout: 20_000,
          killSignal: 'SIGKILL',
        },
        (err, stdout, stderr) => {
          if (err) return reject(new Error(`${err.message}\n${stdout}\n${stderr}`));
          const line = stdout.split(/\r?\n/).find((l) => l.startsWith('{'));
          try {
            resolve(JSON.parse(line ?? '') as Record<string, unknown>);
          } catch {
            reject(new Error(`bad fixture output: ${stdout}\n${stderr}`));
          }
        },
      );
    });
  }

  it.skipIf(!available('util-linux script', hasScript))(
    'foreground gives the child the terminal; setForeground() takes it back without being stopped',
    async () => {
      const r = await onPty(1);
      expect(r.tpgidBefore).toBe(r.myGroup);
      // restored: null is success (else the errno name)
      expect(r).toMatchObject({ childDone: true, restored: null });
      expect(decoded(r.childStatus as number)).toMatchObject({ signaled: 0, code: 0 });
      expect(r.tpgidWhileChild).toBe(r.childPid);
      expect(r.tpgidAfter).toBe(r.myGroup);

      const control = await onPty(0);
      expect(control).toMatchObject({ childDone: true, restored: null });
      expect(decoded(control.childStatus as number)).toMatchObject({ signaled: 0, code: 3 });
      expect(control.tpgidWhileChild).toBe(control.myGroup);
    },
  );

  it('setForeground() on a non-terminal returns ENOTTY', () => {
    const fd = openSync('/dev/null', 'r');
    try {
      expect(reaper.setForeground(fd, reaper.getProcessGroup())).toBe('ENOTTY');
    } finally {
      closeSync(fd);
    }
  });

  it('setParentDeathSignal() rejects an invalid signal with EINVAL', () => {
    expect(reaper.setParentDeathSignal(1000)).toBe('EINVAL');
  });

  it('setParentDeathSignal() kills a process when its parent dies', async () => {
    // middle (sh) starts a Node child that asks for SIGTERM on parent death, then the middle is killed
    const code = `import { native } from ${JSON.stringify(join(FIXTURES, 'native.mjs'))};
      if (native.setParentDeathSignal(15) !== null) process.exit(3);
      console.log(process.pid); setInterval(() => {}, 1000);`;
    for (const armed of [true, false]) {
      const script = armed ? code : code.replace('setParentDeathSignal(15)', 'setParentDeathSignal(0)');
      const middle = cpSpawn('/bin/sh', ['-c', '"$0" --input-type=module -e "$1"; exit 0', PINNED_NODE, script], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: fixtureEnv(),
      });
      let grandchild = 0;
      try {
        const line = await within(
          new Promise<string>((resolve) => middle.stdout.once('data', (d: Buffer) => resolve(d.toString()))),
          10_000,
          'grandchild start',
        );
        grandchild = Number(line.trim());
        expect(grandchild).toBeGreaterThan(0);
        middle.kill('SIGKILL');
        const deadline = Date.now() + (armed ? 5000 : 700);
        while (Date.now() < deadline && procStat(grandchild) && procStat(grandchild)?.state !== 'Z') await sleep(20);
        const gone = !procStat(grandchild) || procStat(grandchild)?.state === 'Z';
        expect(gone).toBe(armed);
      } finally {
        middle.kill('SIGKILL');
        if (grandchild) killQuietly(grandchild);
      }
    }
  });
});

describe('loadNative() from a bundled copy, as an installed package runs it', () => {
  it('returns reasons instead of throwing when nothing loads, loads an explicit path, then reaper.node beside the main script', () => {
    // `main` is the main script (process.argv[1]); it imports the bundled loader
    const run = (explicit: string, cwd: string, main: string): Record<string, unknown> => {
      writeFileSync(
        main,
        `import { loadNative } from ${JSON.stringify(loaderBundle)};
        const r = loadNative(${JSON.stringify(explicit)});
        console.log(JSON.stringify(r.native ? { from: r.from, pgrp: r.native.getProcessGroup() } : { reasons: r.reasons }));`,
      );
      const out = execFileSync(PINNED_NODE, ['--no-warnings', main], { cwd, encoding: 'utf8', timeout: 20_000 });
      return JSON.parse(out.trim()) as Record<string, unknown>;
    };
    const app = join(scratch, 'app');
    mkdirSync(app);
    const main = join(app, 'main.mjs');
    const fails = run('/etc/passwd', scratch, main);
    expect(fails.reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/etc\/passwd: /),
        expect.stringMatching(/not found$/),
        `${join(app, 'reaper.node')}: not found`,
      ]),
    );
    expect(run(ADDON, scratch, main)).toMatchObject({ from: ADDON });

    // a working directory laid out like a checkout is never a place to dlopen from
    const rogue = join(scratch, 'rogue');
    mkdirSync(join(rogue, 'src', 'reaper', 'build', 'Release'), { recursive: true });
    mkdirSync(join(rogue, 'dist'));
    writeFileSync(join(rogue, 'src', 'reaper', 'binding.gyp'), '{}');
    for (const file of ['dist/reaper.node', 'src/reaper/build/Release/reaper.node', 'reaper.node']) {
      copyFileSync(ADDON, join(rogue, file));
    }
    const fromRogue = run(join(scratch, 'missing.node'), rogue, main);
    expect(fromRogue).toHaveProperty('reasons');
    expect(JSON.stringify(fromRogue)).not.toContain(rogue);

    // reaper.node beside the main script (the npm package: dist/graceful-init.cjs + dist/reaper.node)
    copyFileSync(ADDON, join(app, 'reaper.node'));
    const beside = run(join(scratch, 'missing.node'), rogue, main);
    expect(beside).toMatchObject({ from: join(app, 'reaper.node') });
    expect(beside.pgrp).toBeGreaterThan(0);
    // the explicit path still comes first
    expect(run(ADDON, rogue, main)).toMatchObject({ from: ADDON });
  });
});

describe('signals (fixture processes: handlers and masks change there, not here)', () => {
  const hasPython = toolExists('/usr/bin/python3');

  it('realtimeRange() is glibc\'s [SIGRTMIN, SIGRTMAX]', () => {
    expect(reaper.realtimeRange()).toEqual([34, 64]);
  });

  it('routeSignals() refuses signals it cannot handle or send, installing nothing', () => {
    const { SIGKILL, SIGSTOP, SIGSEGV, SIGHUP } = constants.signals;
    for (const bad of [[0, 1], [65, 1], [SIGKILL, SIGKILL], [SIGSTOP, SIGSTOP], [SIGSEGV, SIGSEGV], [SIGHUP, 65], [SIGHUP, -1]]) {
      expect(reaper.routeSignals(new Map([bad as [number, number]]))).toBe('EINVAL');
    }
    expect(reaper.forwardedCounts()).toEqual(new Int32Array(65));
    expect(reaper.claimRouted(SIGHUP)).toBe(false);
  });

  it.skipIf(!available('/usr/bin/python3', hasPython))(
    'routeSignals() sends HUP as USR2 from the handler while the event loop is blocked, then the listener hears of it and claims it once',
    async () => {
      const dir = mkdtempSync(join(scratch, 'route-'));
      const r = await runFixture('signals.mjs', ['route', dir]);
      const { SIGUSR2, SIGWINCH } = constants.signals;
      expect(r).toMatchObject({
        refused: 'EINVAL',
        usr2CaughtAfterRefusal: false, // the valid entry of a refused table was not installed
        appReady: true,
        routeError: null,
        atAppWhileBlocked: [String(SIGUSR2)], // forwarded before JavaScript could run
        claimsWhileBlocked: 1,
        rerouteError: null,
        claims: [false, true, true], // the one before the routing was Node's alone
        claimAgain: false,
        forwarded: 2,
        atApp: [String(SIGUSR2), String(SIGUSR2), String(SIGWINCH)],
      });
      expect(decoded(r.appStatus as number)).toMatchObject({ signaled: 0, code: 0 });
    },
  );

  it.skipIf(!available('/usr/bin/python3', hasPython))(
    'routeSignals() + setSignalTarget() forward SIGRTMIN+3 to the app exactly as often as sent, the early ones once the target is set',
    async () => {
      const r = await runFixture('signals.mjs', ['forward', join(scratch, 'counter-ready'), '5', '20']);
      expect(r).toMatchObject({
        range: [34, 64],
        sig: 37,
        forwardError: null,
        appReady: true,
        forwardedBeforeTarget: 0, // held while there was no target
        forwardedAtTarget: 5, // sent by setSignalTarget() itself
        forwarded: 25,
      });
      // the app counted what it received and exited with the count
      expect(decoded(r.appStatus as number)).toMatchObject({ signaled: 0, code: 25 });
    },
  );

  interface FaultsFixture {
    /** the fixture's pid and its app's */
    pid: number;
    app: number;
    /** tells the fixture to report and end */
    finish(): void;
    /** exit code, signal, all of stdout */
    exit: Promise<[number | null, NodeJS.Signals | null, string]>;
  }
  const faultsFixture = async (guard: 0 | 1): Promise<FaultsFixture> => {
    const child = cpSpawn(PINNED_NODE, [join(FIXTURES, 'signals.mjs'), 'faults', String(guard)], {
      env: fixtureEnv(),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exit = new Promise<[number | null, NodeJS.Signals | null, string]>((resolve) =>
      child.on('exit', (code, signal) => resolve([code, signal, stdout])),
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    void exit.finally(() => clearTimeout(timer));
    const line = await within(
      new Promise<string>((resolve, reject) => {
        child.stdout.on('data', () => {
          const first = stdout.split('\n')[0];
          if (stdout.includes('\n') && first) resolve(first);
        });
        void exit.then(() => reject(new Error(`faults fixture ended before it was ready: ${stdout}`)));
      }),
      15_000,
      'faults fixture start',
    );
    const ready = JSON.parse(line) as { pid: number; app: number };
    return { pid: ready.pid, app: ready.app, finish: () => child.stdin.end('done\n'), exit };
  };

  it('guardFaults() makes SEGV, BUS, FPE and ILL sent from outside harmless, to the init and to its app', async () => {
    const faults = ['SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL'] as const;
    const guarded = await faultsFixture(1);
    try {
      for (const name of [...faults, ...faults, 'SIGSEGV'] as const) {
        process.kill(guarded.pid, name);
        await sleep(20);
      }
      await sleep(100);
      guarded.finish();
      const [code, signal, stdout] = await within(guarded.exit, 15_000, 'faults fixture end');
      expect([code, signal]).toEqual([0, null]);
      const r = JSON.parse(stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;
      expect(r).toMatchObject({ guardError: null, appAlive: true });
      expect(decoded(r.appStatus as number)).toMatchObject({ signaled: 1, code: constants.signals.SIGKILL });
    } finally {
      killQuietly(guarded.pid);
      killQuietly(guarded.app);
    }

    // the control: without the guard the first kill -SEGV ends the process
    const control = await faultsFixture(0);
    try {
      process.kill(control.pid, 'SIGSEGV');
      const [code, signal] = await within(control.exit, 15_000, 'unguarded fixture end');
      expect([code, signal]).toEqual([null, 'SIGSEGV']);
    } finally {
      killQuietly(control.pid);
      killQuietly(control.app);
    }
  });

  it('unblockSignal() hands a SIGUSR1 held by --disable-sigusr1 to the listener', async () => {
    const r = await runFixture('signals.mjs', ['usr1'], { nodeFlags: ['--disable-sigusr1'] });
    expect(r).toEqual({
      blockedBefore: true, // Node keeps it blocked: no inspector
      receivedWhileBlocked: 0,
      unblockError: null,
      blockedAfter: false,
      received: 1, // the one sent while blocked was pending, not lost
    });
  });
});
