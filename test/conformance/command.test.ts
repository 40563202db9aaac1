import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODES, cleanEnv, pid1Available, run, tempDir, type Mode } from '../e2e/harness.js';
import { DOCUMENTED, FLAVOUR, TARGET, killEverything, runInit, startInit, startWrapped } from './target.js';

afterEach(killEverything);

/** Runs the init through `wrapper` to its end. */
const wrappedOutput = (mode: Mode, wrapper: string[], command: string[]) => startWrapped(mode, wrapper, [], command).result;

describe.each(MODES)('running the command, like tini (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('a command that does not exist: 127', async () => {
    expect((await runInit(mode, [], ['no-such-command-xyz'])).code).toBe(127);
    expect((await runInit(mode, [], ['/no/such/file'])).code).toBe(127);
  });

  it.skipIf(skip)('a file that is not executable, or a directory: 126', async () => {
    const dir = tempDir();
    try {
      const plain = join(dir.path, 'plain');
      writeFileSync(plain, 'echo hi\n');
      chmodSync(plain, 0o644);
      mkdirSync(join(dir.path, 'adir'));
      expect((await runInit(mode, [], [plain])).code).toBe(126);
      expect((await runInit(mode, [], [join(dir.path, 'adir')])).code).toBe(126);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('an executable script without #! runs under /bin/sh (execvp)', async () => {
    const dir = tempDir();
    try {
      const script = join(dir.path, 'no-shebang');
      writeFileSync(script, 'echo "ran as a shell script: $1"\nexit 3\n');
      chmodSync(script, 0o755);
      const r = await runInit(mode, [], [script, 'arg']);
      expect(r.stdout.toString()).toBe('ran as a shell script: arg\n');
      expect(r.code).toBe(3);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('argv exactly as given, argv[0] included (not the resolved path)', async () => {
    const args = ['a b', '', "it's", '"q"', 'ünïcødé ✓', '-v', '--', '$HOME', 'back\\slash', ' ', '-e', '1'];
    const command = ['sh', '-c', 'cat /proc/$$/cmdline', ...args];
    const r = await runInit(mode, [], command);
    expect(r.stdout.toString()).toBe(command.map((a) => `${a}\0`).join(''));
  });

  it.skipIf(skip)('the environment exactly as given: same entries, same order, nothing added', async () => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', Z_LAST: 'z', A_FIRST: 'a', EMPTY: '', SPACES: ' x = y ', UNI: 'ü✓', NODE_OPTIONS: '--no-warnings' };
    const r = await runInit(mode, [], ['cat', '/proc/self/environ'], { env });
    expect(r.stdout.toString()).toBe(Object.entries(env).map(([k, v]) => `${k}=${v}\0`).join(''));
  });

  it.skipIf(skip)('the working directory as given', async () => {
    const dir = tempDir();
    try {
      const r = await runInit(mode, [], ['sh', '-c', 'pwd; readlink /proc/self/cwd'], { cwd: dir.path });
      expect(r.stdout.toString()).toBe(`${dir.path}\n${dir.path}\n`);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('stdin, stdout and stderr are the very files the init was given, not copies', async () => {
    const dir = tempDir();
    try {
      const report = join(dir.path, 'fds');
      const init = startInit(mode, [], ['sh', '-c', `fds=$(readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2); echo "$fds" > ${report}; cat; echo to-err >&2`], { stdin: 'from stdin\n' });
      const pid = await init.initPid();
      const initFds = [0, 1, 2].map((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return 'gone';
        }
      });
      const r = await init.result;
      const appFds = readFileSync(report, 'utf8').trim().split('\n');
      expect(r.stdout.toString()).toBe('from stdin\n');
      // tini as a plain child without -s first warns that it is no subreaper
      if (mode === 'child' && FLAVOUR === 'tini') expect(r.stderr).toMatch(/to-err\n$/);
      else expect(r.stderr).toBe('to-err\n');
      if (!initFds.includes('gone')) expect(appFds).toEqual(initFds);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('inherited descriptors 3 and up are passed on to the app', async () => {
    const dir = tempDir();
    try {
      const out = join(dir.path, 'fd3');
      const r = await wrappedOutput(mode, ['/bin/sh', '-c', `exec 3>${out} 7<&0; exec "$0" "$@"`], ['sh', '-c', 'echo via-fd3 >&3 && test -e /proc/self/fd/7 && echo fd7-open']);
      expect(readFileSync(out, 'utf8')).toBe('via-fd3\n');
      expect(r.stdout.toString()).toBe('fd7-open\n');
      expect(r.code).toBe(0);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('argv bytes that are not UTF-8 reach the app unchanged', async () => {
    const r = await wrappedOutput(mode, ['/bin/sh', '-c', 'exec "$0" "$@" "$(printf "\\377\\376a\\200")"'], ['sh', '-c', 'printf %s "$1" | od -An -tx1 | tr -d " \\n"', 'sh']);
    expect(r.stdout.toString()).toBe('fffe6180');
  });

  it.skipIf(skip)('environment bytes that are not UTF-8 reach the app unchanged', async () => {
    const r = await wrappedOutput(mode, ['/bin/sh', '-c', 'BAD="$(printf "\\377x\\300")" exec "$0" "$@"'], ['sh', '-c', 'printf %s "$BAD" | od -An -tx1 | tr -d " \\n"']);
    expect(r.stdout.toString()).toBe('ff78c0');
  });

  it.skipIf(skip)('signals ignored when the init started stay ignored for the app (tini restores them)', async () => {
    // INT and QUIT ignored, as a shell does for a background job; TTOU ignored too
    const r = await wrappedOutput(mode, ['/bin/sh', '-c', 'trap "" INT QUIT TTOU; exec "$0" "$@"'], ['grep', '^SigIgn', '/proc/self/status']);
    const ignored = BigInt(`0x${r.stdout.toString().split(/\s+/)[1] ?? '0'}`);
    const bit = (sig: number) => (ignored >> BigInt(sig - 1)) & 1n;
    const want = DOCUMENTED.keepsInheritedSignalState ? 1n : 0n;
    expect([bit(2), bit(3), bit(22)], 'INT, QUIT, TTOU ignored').toEqual([want, want, want]);
  });

  it.skipIf(skip)('the signal mask the init started with is the app\'s too (tini restores it)', async () => {
    // TTIN and TERM blocked; perl sets the mask and execs, which keeps it
    const blockAndExec = ['/usr/bin/perl', '-MPOSIX', '-e', 'sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGTTIN, SIGUSR2)) or die; exec @ARGV or die'];
    const r = await wrappedOutput(mode, blockAndExec, ['grep', '^SigBlk', '/proc/self/status']);
    const blocked = BigInt(`0x${r.stdout.toString().split(/\s+/)[1] ?? '0'}`);
    const bit = (sig: number) => (blocked >> BigInt(sig - 1)) & 1n;
    const want = DOCUMENTED.keepsInheritedSignalState ? 1n : 0n;
    expect([bit(21), bit(12)], 'TTIN, USR2 blocked').toEqual([want, want]);
  });
});

describe('usage, like tini', () => {
  it('no command: a usage error', async () => {
    const r = await run('child', [], { binary: TARGET });
    expect(r.code).toBe(DOCUMENTED.usageExit);
    expect(r.stderr).not.toBe('');
  });

  it('an unknown option: a usage error, the command does not run', async () => {
    const dir = tempDir();
    try {
      const marker = join(dir.path, 'ran');
      const r = await run('child', ['-Z', '--', 'touch', marker], { binary: TARGET });
      expect(r.code).toBe(DOCUMENTED.usageExit);
      expect(() => readFileSync(marker)).toThrow();
    } finally {
      dir.cleanup();
    }
  });

  it('-h prints the usage and exits 0; --version exits 0', async () => {
    const help = await run('child', ['-h'], { binary: TARGET });
    expect(help.code).toBe(0);
    expect(help.stdout.toString()).toMatch(/usage/i);
    expect((await run('child', ['--version'], { binary: TARGET })).code).toBe(0);
  });

  it('options before -- are the init\'s, everything after it the app\'s', async () => {
    const r = await run('child', ['-e', '5', '--', 'sh', '-c', 'echo "$@"; exit 5', 'sh', '-e', '5', '--', '-g'], { binary: TARGET, env: cleanEnv() });
    expect(r.stdout.toString()).toBe('-e 5 -- -g\n');
    expect(r.code).toBe(0);
  });
});
