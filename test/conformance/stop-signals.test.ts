import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { MODES, isAlive, pid1Available, sleep, tempDir, waitFor, childrenOf } from '../e2e/harness.js';
import { sendEach, startLogger } from './logger.js';
import { DOCUMENTED, IS_GRACEFUL_INIT, killEverything, lines, startInit } from './target.js';

afterEach(killEverything);

const TERM = 15;
const INT = 2;
const QUIT = 3;
const USR1 = 10;
const HUP = 1;

// With no graceful-init option set, TERM and INT start graceful-init's shutdown sequence, whose
// default (no drain, no pre-stop) sends the same signal to the app at once: from the outside it must
// look exactly like tini passing the signal on. Its own addition is the kill deadline, 28 s after
// the first stop signal (grace period 30 s - margin 2 s); these tests stay well inside it.
describe.each(MODES)('stop signals, like tini (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip).each([TERM, INT, QUIT])('signal %i reaches an app that handles it once; app and init run on', async (sig) => {
    const dir = tempDir();
    try {
      const l = await startLogger(mode, dir.path, [sig, USR1]);
      await sendEach(l, [sig]);
      await sleep(1500);
      expect(lines(l.log)).toEqual(['ready', String(sig)]);
      expect(isAlive(l.appPid), 'the app runs on').toBe(true);
      expect(isAlive(l.pid), 'the init waits for the app').toBe(true);
      // and other signals are still passed on
      await sendEach(l, [USR1, HUP].filter((s) => s !== sig));
      expect(lines(l.log)).toEqual(['ready', String(sig), String(USR1)]);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip).each([TERM, INT, QUIT])('a second and a third signal %i are forwarded too, never turned into SIGKILL', async (sig) => {
    const dir = tempDir();
    try {
      const l = await startLogger(mode, dir.path, [sig]);
      await sendEach(l, [sig, sig, sig]);
      await sleep(500);
      expect(lines(l.log)).toEqual(['ready', String(sig), String(sig), String(sig)]);
      expect(isAlive(l.appPid), 'the app was killed').toBe(true);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('TERM, INT and QUIT in turn: each forwarded once, nothing killed', async () => {
    const dir = tempDir();
    try {
      const l = await startLogger(mode, dir.path, [TERM, INT, QUIT]);
      await sendEach(l, [TERM, INT, QUIT, TERM]);
      expect(lines(l.log)).toEqual(['ready', '15', '2', '3', '15']);
      expect(isAlive(l.appPid), 'the app was killed').toBe(true);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('an app that ignores TERM: the init passes it on and waits (no escalation)', async () => {
    const dir = tempDir();
    const ready = `${dir.path}/ready`;
    const init = startInit(mode, [], ['sh', '-c', `trap "" TERM; touch ${ready}; while :; do sleep 0.05; done`], { timeoutMs: 25_000 });
    const pid = await init.initPid();
    await waitFor('the app to be ready', () => existsSync(ready), 15_000).finally(dir.cleanup);
    process.kill(pid, 'SIGTERM');
    await sleep(4000);
    expect(isAlive(pid), 'the init gave up on the app').toBe(true);
    process.kill(pid, 'SIGTERM');
    await sleep(500);
    expect(isAlive(pid)).toBe(true);
  });

  it.skipIf(skip).each([TERM, INT, QUIT])('the app exits on signal %i: the init exits with 128+N', async (sig) => {
    const init = startInit(mode, [], ['sleep', '30']);
    const pid = await init.initPid();
    await waitFor('the app', () => childrenOf(pid)[0], 15_000);
    process.kill(pid, sig);
    const r = await init.result;
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(128 + sig);
  });

  it.skipIf(skip).each([TERM, INT, QUIT])('after signal %i the app exits 0 by itself: the init exits 0', async (sig) => {
    const dir = tempDir();
    try {
      const log = `${dir.path}/signals`;
      const init = startInit(mode, mode === 'child' ? ['-s'] : [], ['sh', '-c', `trap "echo got >> ${log}; exit 0" ${sig}; echo ready >> ${log}; while :; do sleep 0.05; done`]);
      const pid = await init.initPid();
      await waitFor('the app to be ready', () => lines(log).includes('ready'), 15_000);
      process.kill(pid, sig);
      const r = await init.result;
      expect(lines(log)).toEqual(['ready', 'got']);
      expect(r.code).toBe(0);
      // tini prints nothing; graceful-init's summary line after a shutdown is documented, but QUIT
      // is only forwarded and starts no shutdown
      const summary = DOCUMENTED.summaryAfterStop && sig !== QUIT;
      expect(r.stderr.trimEnd().split('\n').filter(Boolean)).toHaveLength(summary ? 1 : 0);
      if (summary) expect(r.stderr).toMatch(/^graceful-init: shutdown on SIG(TERM|INT)/);
    } finally {
      dir.cleanup();
    }
  });
});

describe('documented graceful-init addition', () => {
  it.skipIf(!IS_GRACEFUL_INIT)('names its default kill deadline: 28 s after the first stop signal', async () => {
    const r = await startInit('child', ['--check'], ['true']).result;
    expect(r.stdout.toString()).toMatch(/t=28s\s+deadline: SIGKILL/);
  });
});
