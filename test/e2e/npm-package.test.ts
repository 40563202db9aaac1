// The npm package (npm install -g graceful-init / npx): `npm pack`, installed into a private prefix,
// run by the image's `node` (here the pinned Node 24, first in PATH) through bin/graceful-init. What
// every form must do runs on each admitted Node major in test/e2e/forms.test.ts; here, what is the
// npm package's own: what it ships, the entry script, NODE_OPTIONS, a node too old.
import { chmodSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appEnvironment, APP_NODE_OPTIONS } from '../../src/process/app-env.js';
import { killAll, lines, readText, tempDir, waitFor } from './harness.js';
import { npmOnNode } from './forms.js';

let tmp: { path: string; cleanup(): void };
let npm: ReturnType<typeof npmOnNode>;
let installed: string; // <prefix>/bin/graceful-init, the link npm made

/** The installed package started by name, through PATH, with the node it was installed on first. */
const start = (args: string[], env = npm.env()) => npm.start('child', args, { env });

describe('npm package: bin/graceful-init on the system node', () => {
  beforeAll(() => {
    tmp = tempDir();
    npm = npmOnNode(24);
    installed = join(npm.install.prefix, 'bin', 'graceful-init');
  }, 300_000);

  afterEach(killAll);

  afterAll(() => {
    npm?.cleanup();
    tmp?.cleanup();
  });

  it('installs a linked entry and ships only what it needs (not the 100 MB executable)', () => {
    expect(realpathSync(installed)).toBe(realpathSync(join(npm.install.packageDir, 'bin', 'graceful-init')));
    expect(readdirSync(join(npm.install.packageDir, 'dist')).sort()).toEqual(['execa.cjs', 'graceful-init.cjs', 'reaper.node']);
    expect(readdirSync(npm.install.packageDir).sort()).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'bin', 'dist', 'package.json']);
    expect(readFileSync(join(npm.install.packageDir, 'bin', 'graceful-init'), 'utf8').startsWith('#!/bin/sh\n')).toBe(true);
  });

  it('loads the reaper shipped in the package; the process started is node itself, with no inspector on USR1', async () => {
    const run = start(['-v', '--require-reaper', '--', 'sh', '-c', "trap 'echo got=USR1' USR1; echo ready; while :; do sleep 0.05; done"]);
    await waitFor('the app to be ready', () => run.stdout().includes('ready'));
    // the entry exec'd node: the process we started is the init itself
    expect(readText(`/proc/${run.child.pid}/cmdline`)).toContain('graceful-init.cjs');
    process.kill(run.child.pid as number, 'SIGUSR1');
    await waitFor('USR1 to reach the app', () => run.stdout().includes('got=USR1'));
    process.kill(run.child.pid as number, 'SIGTERM');
    const r = await run.result;
    expect(r.stderr).toContain(`native reaper loaded (from=${realpathSync(join(npm.install.packageDir, 'dist', 'reaper.node'))})`);
    expect(r.stderr).not.toMatch(/Debugger listening|inspector/i);
    expect(r.code).toBe(143);
  });

  it.each(['v20.20.2', 'v22.13.1', 'v18.20.8'])('on node %s (no --disable-sigusr1): one line naming the versions it needs, exit 2, no app', async (version) => {
    // a node that answers --version and fails as that node fails on the init's flags
    const fakeBin = join(tmp.path, `fake-${version}`);
    mkdirSync(fakeBin, { recursive: true });
    writeFileSync(join(fakeBin, 'node'), `#!/bin/sh\n[ "$1" = --version ] && { echo ${version}; exit 0; }\necho "$0: bad option: --disable-sigusr1" >&2; exit 9\n`);
    chmodSync(join(fakeBin, 'node'), 0o755);
    const r = await start(['--', 'sh', '-c', 'echo app-started'], npm.env({ PATH: `${fakeBin}:${join(npm.install.prefix, 'bin')}:/usr/bin:/bin` })).result;
    expect(r.code).toBe(2);
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr).toBe(`graceful-init: the npm package needs Node.js 22.14+, 24 or 26 (this node is ${version}): upgrade node, or use the single executable or the bundle, which bring their own\n`);
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
      const run = start(['--', 'node', '-e', APP], npm.env(extra));
      const r = await run.result;
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(0);
      const seen = JSON.parse(r.stdout.toString().trim()) as { pid: number; NODE_OPTIONS: string | null; handoff: string | null };
      return { seen, initPid: run.child.pid as number, hookPids: lines(hookLog).map(Number), expected: extra.NODE_OPTIONS };
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
      const run = start(['--', 'node', '-e', APP], npm.env({ [APP_NODE_OPTIONS]: '--require /nonexistent.cjs' }));
      const r = await run.result;
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout.toString().trim())).toMatchObject({ NODE_OPTIONS: null, handoff: null });
    });
  });

  it('appEnvironment: passes the environment through untouched unless the entry handed NODE_OPTIONS over', () => {
    const plain = { PATH: '/bin', NODE_OPTIONS: '--x', GRACEFUL_INIT_DRAIN_DELAY: '1s' };
    expect(appEnvironment(plain)).toBe(plain);
    expect(appEnvironment({ PATH: '/bin', [APP_NODE_OPTIONS]: '--require a b' })).toEqual({ PATH: '/bin', NODE_OPTIONS: '--require a b' });
    expect(appEnvironment({ PATH: '/bin', [APP_NODE_OPTIONS]: '' })).toEqual({ PATH: '/bin', NODE_OPTIONS: '' });
  });
});
