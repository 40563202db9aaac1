// Fault cases for the init's output (issue 10, items 6 and 7): a stderr nobody reads must not hang
// the init, and the init must never make the stdout/stderr it shares with the app non-blocking.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MODES, childrenOf, cleanEnv, killAll, pid1Available, readText, start, tempDir, waitFor, type Mode, lines } from '../e2e/harness.js';
import { FAULT_FIXTURES, STOPPABLE, killStarted, startWithStdio } from './helpers.js';

afterEach(() => {
  killAll();
  killStarted();
});

const O_NONBLOCK = 0o4000;

/** The flags of the open file description behind /proc/<pid>/fd/<fd>. */
function descriptionFlags(pid: number, fd: number): number {
  const m = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
  if (!m?.[1]) throw new Error(`no flags for ${pid}/${fd}`);
  return parseInt(m[1], 8);
}

/** A FIFO that is open for reading (so writers do not get EPIPE) but never read, and already full. */
function fullFifo(dir: string): { writeEnd: number; close(): void } {
  const path = join(dir, 'stderr.fifo');
  expect(spawnSync('mkfifo', [path]).status).toBe(0);
  const holder = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const chunk = Buffer.alloc(65536, 0x2e);
  for (;;) {
    try {
      if (writeSync(holder, chunk) === 0) break;
    } catch {
      break; // EAGAIN: full
    }
  }
  // a description of its own, blocking, as a container runtime would hand it over
  const writeEnd = openSync(path, constants.O_WRONLY);
  return { writeEnd, close: () => closeSync(holder) };
}

const noprocAvailable = () => pid1Available();
const STDERR_MODES: Mode[] = [...MODES, 'pid1-noproc'];

describe.each(STDERR_MODES)('stderr nobody reads (%s)', (mode) => {
  const skip = mode !== 'child' && !noprocAvailable();

  // without a pre-stop: the landed binary's pre-stop made the shared description non-blocking, which
  // hid this hang behind another bug
  for (const verbose of [true, false]) {
    const preStop = verbose ? ['--pre-stop', 'echo from-pre-stop', '--pre-stop-wait', '0'] : [];
    it.skipIf(skip)(`${verbose ? 'with -v and a pre-stop' : 'no pre-stop'}: the app is started, gets its TERM and the init exits with its status`, async () => {
      const dir = tempDir();
      const fifo = fullFifo(dir.path);
      try {
        const marker = join(dir.path, 'app');
        const init = startWithStdio(
          mode,
          [...(verbose ? ['-v'] : []), ...preStop, '--', STOPPABLE, '7', marker],
          ['ignore', 'pipe', fifo.writeEnd],
          cleanEnv(),
        );
        closeSync(fifo.writeEnd);
        const stdout: Buffer[] = [];
        init.child.stdout?.on('data', (b: Buffer) => stdout.push(b));
        const pid = await init.initPid();
        await waitFor('app ready', () => lines(marker).includes('ready'));
        process.kill(pid, 'SIGTERM');
        await waitFor('the app gets its TERM', () => lines(marker).includes('TERM'), 5000);
        const exit = await Promise.race([init.exited, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
        expect(exit, 'the init hangs writing to stderr').not.toBeNull();
        expect(exit?.code).toBe(7);
        expect(Buffer.concat(stdout).toString()).toBe(verbose ? 'graceful-init: pre-stop 1: from-pre-stop\n' : '');
      } finally {
        fifo.close();
        dir.cleanup();
      }
    });
  }

  it.skipIf(skip)('the shared stderr stays blocking for the app', async () => {
    const dir = tempDir();
    const fifo = fullFifo(dir.path);
    try {
      const marker = join(dir.path, 'app');
      const init = startWithStdio(mode, ['-v', '--', 'sh', '-c', `echo $$ > ${marker}; exec sleep 30`], ['ignore', 'ignore', fifo.writeEnd], cleanEnv());
      closeSync(fifo.writeEnd);
      const initPid = await init.initPid();
      await waitFor('app started', () => lines(marker).length > 0);
      // the init has written (or dropped) several lines by now
      await new Promise((r) => setTimeout(r, 300));
      const app = childrenOf(initPid)[0] as number;
      expect(app).toBeGreaterThan(0);
      expect(descriptionFlags(app, 2) & O_NONBLOCK).toBe(0);
    } finally {
      fifo.close();
      dir.cleanup();
    }
  });
});

describe.each(MODES)('stdout and stderr shared with the app (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('after a pre-stop and with NODE_DEBUG set, the app flushing 1 MB to each at shutdown delivers every byte', async () => {
    const dir = tempDir();
    try {
      const flags = join(dir.path, 'flags');
      const init = start(
        mode,
        ['--pre-stop', 'sh -c "echo pre-stop-out; echo pre-stop-err >&2"', '--pre-stop-wait', '0', '--', join(FAULT_FIXTURES, 'flush-at-term.sh'), flags],
        { env: cleanEnv({ NODE_DEBUG: '*' }), timeoutMs: 20_000 },
      );
      const pid = await init.initPid();
      await waitFor('app started', () => childrenOf(pid).length > 0);
      await new Promise((r) => setTimeout(r, 300)); // its trap is set
      process.kill(pid, 'SIGTERM');
      const r = await init.result;
      const count = (b: Buffer, byte: number) => b.reduce((n, x) => (x === byte ? n + 1 : n), 0);
      const flagLines = readText(flags);
      for (const m of flagLines.matchAll(/flags:\s+([0-7]+)/g)) expect(parseInt(m[1] as string, 8) & O_NONBLOCK, flagLines).toBe(0);
      expect(flagLines.match(/flags:/g)).toHaveLength(2);
      expect(count(r.stdout, 1)).toBe(1_000_000);
      expect(count(Buffer.from(r.stderr, 'latin1'), 2)).toBe(1_000_000);
      expect(r.code).toBe(0);
      expect(r.stdout.toString('latin1')).toContain('graceful-init: pre-stop 1: pre-stop-out\n');
      expect(r.stderr).toContain('graceful-init: pre-stop 1: pre-stop-err\n');
    } finally {
      dir.cleanup();
    }
  });
});
