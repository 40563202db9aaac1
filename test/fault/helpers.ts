import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BINARY, childrenOf, killTree, sleep, type Mode } from '../e2e/harness.js';

export const FAULT_FIXTURES = join(import.meta.dirname, 'fixtures');
export const STOPPABLE = join(FAULT_FIXTURES, 'stoppable.sh');

const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find(existsSync) ?? 'unshare';
const started = new Set<ChildProcess>();

/** Like the harness's start(), with stdio of the test's choosing (a FIFO nobody reads, ...). */
export function startWithStdio(mode: Mode, args: string[], stdio: StdioOptions, env: NodeJS.ProcessEnv): {
  child: ChildProcess;
  initPid(): Promise<number>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
} {
  const [file, argv] =
    mode === 'pid1'
      ? [UNSHARE, ['--pid', '--fork', '--mount-proc', '--kill-child', BINARY, ...args]]
      : mode === 'pid1-noproc'
        ? [UNSHARE, ['--pid', '--fork', '--mount', '--propagation', 'private', '--kill-child', '/bin/sh', '-c', 'umount -l /proc && exec "$0" "$@"', BINARY, ...args]]
        : [BINARY, args];
  const child = spawn(file, argv, { env, stdio });
  started.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      started.delete(child);
      resolve({ code, signal });
    }),
  );
  const initPid = async () => {
    if (mode === 'child') return child.pid as number;
    for (let i = 0; i < 200; i++) {
      const kid = childrenOf(child.pid as number)[0];
      if (kid) return kid;
      await sleep(10);
    }
    throw new Error('the init never appeared under unshare');
  };
  return { child, initPid, exited };
}

export function killStarted(): void {
  for (const child of started) killTree(child);
  started.clear();
}

/** Pids (not zombies) whose environment carries GI_TEST_MARK=mark. */
export function markedAlive(mark: string): number[] {
  const needle = `GI_TEST_MARK=${mark}\0`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'latin1').includes(needle)) continue;
      if (/\) [ZX] /.test(readFileSync(`/proc/${entry}/stat`, 'latin1'))) continue;
      found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

/** A unique mark per test. */
export const newMark = (name: string) => `${name}-${process.pid}-${Date.now().toString(36)}`;
