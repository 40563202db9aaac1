import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODES, cleanEnv, killAll, pid1Available, run, tempDir } from './harness.js';

afterEach(killAll);

describe.each(MODES)('exit status (%s)', (mode) => {
  it.skipIf(mode === 'pid1' && !pid1Available())('passes on exit codes 0, 1, 42, 255', async () => {
    for (const code of [0, 1, 42, 255]) {
      const r = await run(mode, ['--', 'sh', '-c', `exit ${code}`]);
      expect(r.code, `exit ${code}`).toBe(code);
      expect(r.stderr).toBe('');
    }
  });

  it.skipIf(mode === 'pid1' && !pid1Available())('reports a death by signal N as 128+N', async () => {
    expect((await run(mode, ['sh', '-c', 'kill -KILL $$'])).code).toBe(137);
    expect((await run(mode, ['sh', '-c', 'kill -SEGV $$'])).code).toBe(139);
    expect((await run(mode, ['sh', '-c', 'kill -USR1 $$'])).code).toBe(138);
  });

  it.skipIf(mode === 'pid1' && !pid1Available())('127 for a missing app, 126 for one that cannot run', async () => {
    const dir = tempDir();
    try {
      const plain = join(dir.path, 'plain.txt');
      writeFileSync(plain, 'not a program');
      mkdirSync(join(dir.path, 'adir'));
      const missing = await run(mode, ['no-such-app-xyz']);
      expect(missing.code).toBe(127);
      expect(missing.stderr).toBe('graceful-init: cannot run "no-such-app-xyz": not found in PATH\n');
      const missingPath = await run(mode, [join(dir.path, 'nope')]);
      expect(missingPath.code).toBe(127);
      expect(missingPath.stderr).toMatch(/no such file\n$/);
      const notExec = await run(mode, [plain]);
      expect(notExec.code).toBe(126);
      expect(notExec.stderr).toMatch(/^graceful-init: cannot run ".*plain.txt": permission denied \(not executable\)\n$/);
      const directory = await run(mode, [join(dir.path, 'adir')]);
      expect(directory.code).toBe(126);
      expect(directory.stderr).toMatch(/is a directory\n$/);
      // found on PATH but not executable: 126, like a shell
      chmodSync(plain, 0o644);
      const onPath = await run(mode, ['plain.txt'], { env: cleanEnv({ PATH: dir.path }) });
      expect(onPath.code).toBe(126);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(mode === 'pid1' && !pid1Available())('--remap-exit and GRACEFUL_INIT_REMAP_EXIT map codes to 0', async () => {
    expect((await run(mode, ['-e', '143', '-e', '3', 'sh', '-c', 'exit 3'])).code).toBe(0);
    expect((await run(mode, ['-e', '143', 'sh', '-c', 'kill -TERM $$'])).code).toBe(0);
    expect((await run(mode, ['-e', '3', 'sh', '-c', 'exit 4'])).code).toBe(4);
    expect((await run(mode, ['sh', '-c', 'exit 7'], { env: cleanEnv({ GRACEFUL_INIT_REMAP_EXIT: '5,7' }) })).code).toBe(0);
    // the command line wins over the environment
    const cli = await run(mode, ['-e', '9', 'sh', '-c', 'exit 7'], { env: cleanEnv({ GRACEFUL_INIT_REMAP_EXIT: '7' }) });
    expect(cli.code).toBe(7);
  });
});

describe('usage errors', () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--bogus', 'true'], {}, /unknown option --bogus; try graceful-init --help/],
    [['-Z', 'true'], {}, /unknown option -Z/],
    [[], {}, /missing the command to run/],
    [['--'], {}, /missing the command to run/],
    [['-e', 'abc', 'true'], {}, /-e: "abc" is not an exit code; write a number from 0 to 255/],
    [['--drain-delay', '2x', 'true'], {}, /--drain-delay: "2x" is not a duration/],
    [['--stop-signal', 'NOPE', 'true'], {}, /--stop-signal: "NOPE" is not a signal/],
    [['--rewrite', 'TERM', 'true'], {}, /is not a rewrite rule/],
    [['--verbose=yes', 'true'], {}, /--verbose takes no value/],
    [['--drain-delay'], {}, /--drain-delay needs a value/],
    [['true'], { GRACEFUL_INIT_DRAIN_DELAY: 'soon' }, /GRACEFUL_INIT_DRAIN_DELAY: "soon" is not a duration/],
    [['true'], { GRACEFUL_INIT_VERBOSE: 'maybe' }, /GRACEFUL_INIT_VERBOSE: "maybe" is not a yes\/no value/],
    [['true'], { GRACEFUL_INIT_LOG_FORMAT: 'xml' }, /GRACEFUL_INIT_LOG_FORMAT: "xml" is not one of text, json/],
  ];
  it.each(cases)('%j %j → exit 2, one line', async (args, env, message) => {
    const r = await run('child', args, { env: cleanEnv(env) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--help and --version', async () => {
    const help = await run('child', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.toString()).toMatch(/Usage: graceful-init/);
    expect(help.stdout.toString()).toMatch(/GRACEFUL_INIT_DRAIN_DELAY/);
    const version = await run('child', ['--version']);
    expect(version.stdout.toString()).toMatch(/^graceful-init \d+\.\d+\.\d+ \(single executable, node v24\.\d+\.\d+\)\n$/);
  });

  it('the first non-option is the app, without --', async () => {
    const r = await run('child', ['-v', 'sh', '-c', 'echo "$0 $1"', '-e', '--x']);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('-e --x\n');
  });

  it('is quiet by default: nothing on stderr for a normal run', async () => {
    const r = await run('child', ['sh', '-c', 'echo out; echo err >&2']);
    expect(r.stderr).toBe('err\n');
  });
});
