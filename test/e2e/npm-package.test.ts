// The npm package (npm install -g graceful-init / npx): `npm pack`, installed into a private prefix,
// run by the system `node` (here the pinned Node 24, first in PATH) through bin/graceful-init.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appEnvironment, APP_NODE_OPTIONS } from '../../src/process/app-env.js';
import { ROOT, cleanEnv, descendantsOf, readText, tempDir, waitFor } from './harness.js';

const NODE_BIN = join(ROOT, 'node_modules', '.bin');

let tmp: { path: string; cleanup(): void };
let prefix: string;
let installed: string; // <prefix>/bin/graceful-init, the link npm made
let packageDir: string;
const running = new Set<ChildProcess>();

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const base = cleanEnv();
  return { ...base, PATH: `${NODE_BIN}:${join(prefix ?? '', 'bin')}:${base.PATH ?? '/usr/bin:/bin'}`, ...extra };
}

interface Run {
  child: ChildProcess;
  stdout(): string;
  result: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; timedOut: boolean }>;
}

function start(args: string[], environment: NodeJS.ProcessEnv, timeoutMs = 15_000): Run {
  // started by name, through PATH, as an image's ENTRYPOINT ["graceful-init", ...] would be
  const child = spawn('graceful-init', args, { env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill(child);
  }, timeoutMs);
  const result = new Promise<Awaited<Run['result']>>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
  return { child, stdout: () => stdout, result };
}

function kill(child: ChildProcess): void {
  if (!child.pid) return;
  for (const pid of [...descendantsOf(child.pid).reverse(), child.pid]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

function npm(args: string[], cwd: string): string {
  const r = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    env: env({ npm_config_update_notifier: 'false' }),
    encoding: 'utf8',
    timeout: 90_000,
  });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

describe('npm package: bin/graceful-init on the system node', () => {
  beforeAll(() => {
    for (const f of ['dist/graceful-init.cjs', 'dist/reaper.node']) {
      if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: npm run build first`);
    }
    tmp = tempDir();
    prefix = join(tmp.path, 'prefix');
    // --ignore-scripts: prepack would rebuild the binary that the other tests are running
    const packed = npm(['pack', '--ignore-scripts', '--pack-destination', tmp.path], ROOT).trim().split('\n').pop() as string;
    npm(['install', '-g', '--prefix', prefix, '--prefer-offline', join(tmp.path, packed)], tmp.path);
    installed = join(prefix, 'bin', 'graceful-init');
    packageDir = join(prefix, 'lib', 'node_modules', 'graceful-init');
  }, 120_000);

  afterEach(() => {
    for (const child of running) kill(child);
    running.clear();
  });

  afterAll(() => tmp?.cleanup());

  it('installs a linked entry and ships only what it needs (not the 100 MB executable)', () => {
    expect(realpathSync(installed)).toBe(realpathSync(join(packageDir, 'bin', 'graceful-init')));
    expect(readdirSync(join(packageDir, 'dist')).sort()).toEqual(['graceful-init.cjs', 'reaper.node']);
    expect(readFileSync(join(packageDir, 'bin', 'graceful-init'), 'utf8').startsWith('#!/bin/sh\n')).toBe(true);
  });

  it('runs the app, passes its exit code on and loads the reaper shipped in the package', async () => {
    const r = await start(['-v', '--require-reaper', '--', 'sh', '-c', 'exit 7'], env()).result;
    expect(r.timedOut).toBe(false);
    expect(r.stderr).toContain(`native reaper loaded (from=${realpathSync(join(packageDir, 'dist', 'reaper.node'))})`);
    expect(r.code).toBe(7);
  });

  it('forwards signals (USR1 too: no inspector starts in the init) and stops the app', async () => {
    const app = [
      "trap 'echo got=USR1' USR1",
      "trap 'echo got=TERM; exit 42' TERM",
      'echo ready',
      'while :; do sleep 0.05; done',
    ].join('; ');
    const run = start(['--', 'sh', '-c', app], env());
    await waitFor('the app to be ready', () => run.stdout().includes('ready'));
    // the entry exec'd node: the process we started is the init itself
    expect(readText(`/proc/${run.child.pid}/cmdline`)).toContain('graceful-init.cjs');
    process.kill(run.child.pid as number, 'SIGUSR1');
    await waitFor('USR1 to reach the app', () => run.stdout().includes('got=USR1'));
    process.kill(run.child.pid as number, 'SIGTERM');
    const r = await run.result;
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['ready', 'got=USR1', 'got=TERM']);
    expect(r.stderr).not.toMatch(/Debugger listening|inspector/i);
    expect(r.code).toBe(42);
  });

  describe('NODE_OPTIONS belongs to the app', () => {
    // The app is a node script that reports what it got; the hook, required through NODE_OPTIONS,
    // logs the pid of every process that runs it.
    const APP = `console.log(JSON.stringify({ pid: process.pid, NODE_OPTIONS: process.env.NODE_OPTIONS ?? null, handoff: process.env.${APP_NODE_OPTIONS} ?? null }))`;

    async function runWith(nodeOptions: string | undefined) {
      const dir = join(tmp.path, 'dir with spaces');
      mkdirSync(dir, { recursive: true });
      const hookLog = join(dir, `hook-${Date.now()}-${Math.random()}.log`);
      writeFileSync(join(dir, 'hook.cjs'), 'require("node:fs").appendFileSync(process.env.HOOK_LOG, process.pid + "\\n");\n');
      const extra: NodeJS.ProcessEnv = { HOOK_LOG: hookLog };
      if (nodeOptions !== undefined) extra.NODE_OPTIONS = nodeOptions.replace('HOOK', join(dir, 'hook.cjs'));
      const run = start(['--', 'node', '-e', APP], env(extra));
      const r = await run.result;
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(0);
      const seen = JSON.parse(r.stdout.trim()) as { pid: number; NODE_OPTIONS: string | null; handoff: string | null };
      return { seen, initPid: run.child.pid as number, hookPids: readText(hookLog).split('\n').filter(Boolean).map(Number), expected: extra.NODE_OPTIONS };
    }

    it('a --require hook runs in the app, never in the init, and the app sees NODE_OPTIONS unchanged', async () => {
      const { seen, initPid, hookPids, expected } = await runWith('--require "HOOK" --max-old-space-size=100');
      expect(hookPids).toEqual([seen.pid]);
      expect(hookPids).not.toContain(initPid);
      expect(seen.NODE_OPTIONS).toBe(expected);
      expect(seen.handoff).toBeNull();
    });

    it('unset stays unset, empty stays empty', async () => {
      const unset = await runWith(undefined);
      expect(unset.seen.NODE_OPTIONS).toBeNull();
      expect(unset.seen.handoff).toBeNull();
      const empty = await runWith('');
      expect(empty.seen.NODE_OPTIONS).toBe('');
      expect(empty.seen.handoff).toBeNull();
    });

    it('a stale hand-over variable without NODE_OPTIONS is not turned into one', async () => {
      const run = start(['--', 'node', '-e', APP], env({ [APP_NODE_OPTIONS]: '--require /nonexistent.cjs' }));
      const r = await run.result;
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout.trim())).toMatchObject({ NODE_OPTIONS: null, handoff: null });
    });
  });

  it('appEnvironment: passes the environment through untouched unless the entry handed NODE_OPTIONS over', () => {
    const plain = { PATH: '/bin', NODE_OPTIONS: '--x', GRACEFUL_INIT_DRAIN_DELAY: '1s' };
    expect(appEnvironment(plain)).toBe(plain);
    expect(appEnvironment({ PATH: '/bin', [APP_NODE_OPTIONS]: '--require a b' })).toEqual({ PATH: '/bin', NODE_OPTIONS: '--require a b' });
    expect(appEnvironment({ PATH: '/bin', [APP_NODE_OPTIONS]: '' })).toEqual({ PATH: '/bin', NODE_OPTIONS: '' });
  });
});
