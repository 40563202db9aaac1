// Signals that used to crash, hang or enter the init: USR1 (the inspector), real-time signals, fault
// signals sent from outside, and what the app's environment carries for Node (NODE_*).
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BINARY, MODES, ROOT, cleanEnv, isAlive, killAll, pid1Available, readText, run, sleep, start, tempDir, waitFor, lines } from '../e2e/harness.js';

afterEach(killAll);

/** Is anything listening on 127.0.0.1:9229 (Node's inspector) in the network namespace of `pid`? */
function inspectorOpen(pid: number): boolean {
  const table = readText(`/proc/${pid}/net/tcp`) + readText(`/proc/${pid}/net/tcp6`);
  return table.split('\n').some((l) => / [0-9A-F]+:2405 [0-9A-F]+:0000 0A /.test(l));
}

/** USR1 blocked or caught by `pid`: from then on a USR1 does not have its default (fatal) action. */
function holdsUsr1(pid: number): boolean {
  const status = readText(`/proc/${pid}/status`);
  const mask = (key: string) => BigInt(`0x${new RegExp(`^${key}:\\s*([0-9a-f]+)`, 'm').exec(status)?.[1] ?? '0'}`);
  return ((mask('SigBlk') | mask('SigCgt')) & (1n << 9n)) !== 0n;
}

/** bash traps by number, RT signals included, logging each to $1; exits 0 on USR2. */
const TRAPPER = [
  'bash', '-c',
  'for s in 10 34 37 40 64 11 7 8 4; do trap "echo $s >> $0" $s; done; trap "exit 0" USR2; echo ready >> $0; while :; do sleep 0.05; done',
];

describe.each(MODES)('signals the init cannot be crashed or entered by (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('SIGUSR1 early and late never opens the inspector, and reaches the app', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'log');
      const init = start(mode, ['--', ...TRAPPER, log]);
      const pid = await init.initPid();
      // as soon as Node holds USR1 (blocked, or caught as the old binary's inspector did): before
      // that, in the first milliseconds of Node's own start, it has its default action
      await waitFor('Node to hold USR1', () => holdsUsr1(pid));
      // the first held USR1 may end the app before its trap exists (138), and with it the init
      for (let i = 0; i < 8 && isAlive(pid); i++) {
        try {
          process.kill(pid, 'SIGUSR1');
        } catch {
          break; // gone with its app
        }
        await sleep(10);
        if (isAlive(pid)) expect(inspectorOpen(pid)).toBe(false);
      }
      await waitFor('the app', () => lines(log).includes('ready') || init.child.exitCode !== null);
      if (init.child.exitCode === null) {
        process.kill(pid, 'SIGUSR1');
        await waitFor('USR1 at the app', () => lines(log).includes('10'));
        expect(inspectorOpen(pid)).toBe(false);
        process.kill(pid, 'SIGUSR2');
      }
      const r = await init.result;
      // early ones were held and reached the app before its trap (default action: 138), or after
      expect([0, 138]).toContain(r.code);
      expect(r.stderr).not.toMatch(/Debugger|inspector/i);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('real-time signals are forwarded, each as often as sent, and do not hurt the init', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'log');
      const init = start(mode, ['--', ...TRAPPER, log]);
      const pid = await init.initPid();
      await waitFor('ready', () => lines(log).includes('ready'));
      for (const sig of [34, 37, 40, 64]) {
        process.kill(pid, sig);
        await waitFor(`signal ${sig}`, () => lines(log).includes(String(sig)));
      }
      expect(isAlive(pid)).toBe(true);
      process.kill(pid, 'SIGUSR2');
      const r = await init.result;
      expect(r.code).toBe(0);
      expect(lines(log)).toEqual(['ready', '34', '37', '40', '64']);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('SEGV, BUS, FPE and ILL sent from outside are ignored: the app is neither signalled nor orphaned', async () => {
    const dir = tempDir();
    try {
      const log = join(dir.path, 'log');
      const init = start(mode, ['--', ...TRAPPER, log]);
      const pid = await init.initPid();
      await waitFor('ready', () => lines(log).includes('ready'));
      for (const sig of ['SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL'] as const) process.kill(pid, sig);
      await sleep(300);
      expect(isAlive(pid)).toBe(true);
      process.kill(pid, 'SIGUSR2');
      const r = await init.result;
      expect(r.code).toBe(0);
      expect(lines(log)).toEqual(['ready']);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('an app killed by a real-time signal is summarised by name', async () => {
    const dir = tempDir();
    const ready = join(dir.path, 'ready');
    const app = ['bash', '-c', `trap "trap - 37; kill -37 $$" TERM; touch ${ready}; while :; do sleep 0.05; done`];
    const init = start(mode, ['--', ...app]);
    const pid = await init.initPid();
    await waitFor('the trap', () => existsSync(ready));
    dir.cleanup();
    process.kill(pid, 'SIGTERM');
    const r = await init.result;
    expect(r.code).toBe(128 + 37);
    expect(r.stderr).toMatch(/app killed by SIGRTMIN\+3 at .*, exit 165\n$/);
  });

  it.skipIf(skip)('NODE_* variables meant for the app do not act on the init, and reach the app unchanged', async () => {
    const dir = tempDir();
    try {
      const coverage = join(dir.path, 'coverage');
      const warnings = join(dir.path, 'warnings.txt');
      const seen = join(dir.path, 'env');
      const env = cleanEnv({ NODE_V8_COVERAGE: coverage, NODE_REDIRECT_WARNINGS: warnings, NODE_DEBUG: 'timer,net,http,child_process,fs', NODE_PENDING_DEPRECATION: '1' });
      const r = await run(mode, ['--', 'sh', '-c', `env > ${seen}; exec sleep 1.2`], { env });
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(readdirSync(dir.path).sort()).toEqual(['env']);
      const appEnv = readText(seen);
      expect(appEnv).toContain(`NODE_V8_COVERAGE=${coverage}\n`);
      expect(appEnv).toContain(`NODE_REDIRECT_WARNINGS=${warnings}\n`);
      expect(appEnv).toContain('NODE_DEBUG=timer,net,http,child_process,fs\n');
    } finally {
      dir.cleanup();
    }
  });
});

describe('nothing test-only in the product', () => {
  it('the shipped bundle and binary carry no test hook', () => {
    const bundle = readFileSync(join(ROOT, 'dist', 'graceful-init.cjs'), 'utf8');
    for (const needle of ['GI_TEST_', 'GRACEFUL_INIT_TESTING', 'crash requested']) {
      expect(bundle).not.toContain(needle);
      expect(readFileSync(BINARY).includes(Buffer.from(needle))).toBe(false);
    }
  });
});
