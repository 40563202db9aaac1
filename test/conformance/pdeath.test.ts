import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { killMarked, markedEnv, pid1Available, readText, start, tempDir, waitFor } from '../e2e/harness.js';
import { TARGET, initArgs, killEverything } from './target.js';

afterEach(killEverything);

// tini's parent-death test: with -p SIGUSR1 the kernel sends the init USR1 when its parent dies, and
// the init passes it on like any other signal; the app records it. tini spells the signal SIGUSR1.
const app = (okFile: string, ready: string) => ['sh', '-c', `trap "echo ok > ${okFile}; exit 0" USR1; touch ${ready}; while :; do sleep 0.05; done`];

describe('-p SIGNAL, like tini', () => {
  it('as a plain child: the parent dies, the app gets the signal', async () => {
    const dir = tempDir();
    const mark = `pdeath-${process.pid}`;
    try {
      const ok = join(dir.path, 'ok');
      const ready = join(dir.path, 'ready');
      // a parent shell that can die while the init lives on
      const parent = start('child', ['-c', '"$0" "$@" & wait', TARGET, ...initArgs(['-p', 'SIGUSR1'], app(ok, ready))], {
        binary: '/bin/sh',
        env: markedEnv(mark),
      });
      await waitFor('the app to be ready', () => existsSync(ready));
      parent.child.kill('SIGKILL');
      await waitFor('the app to get USR1', () => readText(ok).trim() === 'ok', 5000);
    } finally {
      killMarked(mark);
      dir.cleanup();
    }
  });

  it.skipIf(!pid1Available())('as PID 1: the parent (unshare) dies, the app gets the signal', async () => {
    const dir = tempDir();
    const mark = `pdeath1-${process.pid}`;
    try {
      const ok = join(dir.path, 'ok');
      const ready = join(dir.path, 'ready');
      const init = start('pid1', initArgs(['-p', 'SIGUSR1'], app(ok, ready)), { binary: TARGET, env: markedEnv(mark) });
      await init.initPid();
      await waitFor('the app to be ready', () => existsSync(ready));
      init.child.kill('SIGKILL');
      await waitFor('the app to get USR1', () => readText(ok).trim() === 'ok', 5000);
    } finally {
      killMarked(mark);
      dir.cleanup();
    }
  });
});

describe('-p with an unknown signal', () => {
  it('is a usage error', async () => {
    const r = await start('child', initArgs(['-p', 'SIGNOPE'], ['true']), { binary: TARGET }).result;
    expect(r.code).not.toBe(0);
  });
});
