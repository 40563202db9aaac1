import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BINARY, MODES, cleanEnv, killAll, killMarked, markedEnv, pid1Available, run, tempDir } from './harness.js';

afterEach(killAll);

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe.each(MODES)('stdio, argv, env, cwd (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('passes 10 MB of binary output through unchanged, stdout and stderr apart', async () => {
    const dir = tempDir();
    try {
      const data = randomBytes(10 * 1024 * 1024);
      const file = join(dir.path, 'blob');
      writeFileSync(file, data);
      const r = await run(mode, ['sh', '-c', `cat "${file}"; echo to-stderr >&2`], { timeoutMs: 20_000 });
      expect(r.code).toBe(0);
      expect(r.stdout.length).toBe(data.length);
      expect(sha(r.stdout)).toBe(sha(data));
      expect(r.stderr).toBe('to-stderr\n');
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('gives the app our stdin', async () => {
    const input = Buffer.concat([Buffer.from('line one\n'), randomBytes(100_000)]);
    const r = await run(mode, ['cat'], { stdin: input });
    expect(sha(r.stdout)).toBe(sha(input));
  });

  it.skipIf(skip)('passes argv exactly: spaces, quotes, unicode, empty strings', async () => {
    const args = ['a b', '', "it's", '"quoted"', 'ünïcødé ✓', '-v', '--', '$HOME', 'back\\slash', ' '];
    const r = await run(mode, ['--', 'sh', '-c', 'for a; do printf "[%s]\\n" "$a"; done', 'sh', ...args]);
    expect(r.stdout.toString()).toBe(args.map((a) => `[${a}]\n`).join(''));
  });

  it.skipIf(skip)('inherits env (NODE_OPTIONS and GRACEFUL_INIT_* included) and cwd', async () => {
    const dir = tempDir();
    try {
      const env = cleanEnv({ MY_VAR: 'x y=z', EMPTY: '', GRACEFUL_INIT_QUIET: '1', NODE_OPTIONS: '--max-old-space-size=100' });
      const r = await run(mode, ['sh', '-c', 'echo "$MY_VAR|${EMPTY-unset}|$GRACEFUL_INIT_QUIET|$NODE_OPTIONS"; pwd'], { env, cwd: dir.path });
      expect(r.stdout.toString()).toBe(`x y=z||1|--max-old-space-size=100\n${dir.path}\n`);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('ignores NODE_OPTIONS itself: a --require meant for the app does not run in the init', async () => {
    const dir = tempDir();
    try {
      const marker = join(dir.path, 'ran-in-init');
      const hook = join(dir.path, 'hook.cjs');
      writeFileSync(hook, `require('fs').writeFileSync(${JSON.stringify(marker)}, String(process.pid));`);
      const nodeOptions = `--require ${hook}`;
      const r = await run(mode, ['sh', '-c', 'printf "%s" "$NODE_OPTIONS"'], { env: cleanEnv({ NODE_OPTIONS: nodeOptions }) });
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe(nodeOptions);
      expect(existsSync(marker), 'the --require hook ran inside the init').toBe(false);
    } finally {
      dir.cleanup();
    }
  });
});

describe('terminal', () => {
  it('a terminal stays a terminal for the app', () => {
    // script(1) gives the init a pseudo-terminal on stdin/stdout/stderr
    const r = spawnSync('script', ['-qec', `${BINARY} -- sh -c 'test -t 0 && test -t 1 && test -t 2 && echo IS-A-TTY'`, '/dev/null'], {
      env: markedEnv('tty'),
      timeout: 10_000,
      encoding: 'utf8',
    });
    killMarked('tty');
    expect(r.stdout).toContain('IS-A-TTY');
    expect(r.status).toBe(0);
  });
});
