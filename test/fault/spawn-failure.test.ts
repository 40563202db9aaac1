// A pre-stop command that cannot even be started (fork fails with EAGAIN: the user's process limit
// is used up) is reported as such, and the sequence goes on (issue 10, item 13).
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { BINARY, cleanEnv, killAll, killTree, tempDir, waitFor, lines } from '../e2e/harness.js';
import { FAULT_FIXTURES } from './helpers.js';

afterEach(killAll);

const tools = ['/usr/bin/setpriv', '/usr/bin/prlimit', '/usr/bin/perl'];
function available(): boolean {
  const ok = process.getuid?.() === 0 && tools.every(existsSync);
  if (!ok && process.env.CI === 'true') throw new Error(`CI=true but this test needs root and ${tools.join(', ')}`);
  return ok;
}

describe('pre-stop fork failure', () => {
  it.skipIf(!available())('EAGAIN: reported as "could not start: EAGAIN", then the app is stopped as usual', async () => {
    const dir = tempDir();
    let child: ChildProcess | undefined;
    try {
      chmodSync(dir.path, 0o777);
      const marker = join(dir.path, 'app');
      // a uid nobody else uses: RLIMIT_NPROC counts every process of the user, system-wide
      const uid = String(60_000 + (process.pid % 5000));
      child = spawn(
        '/usr/bin/prlimit',
        ['--nproc=64:64', '/usr/bin/setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups',
          BINARY, '--pre-stop', 'true', '--pre-stop-wait', '0', '--', join(FAULT_FIXTURES, 'fill-nproc.pl'), marker],
        { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((resolve) => child?.on('close', (code) => resolve(code)));
      await waitFor('the app used up the process limit', () => lines(marker).some((l) => l.startsWith('ready ')), 10_000);
      process.kill(child.pid as number, 'SIGTERM');
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
      expect(code, stderr).toBe(7);
      expect(lines(marker).at(-1)).toBe('TERM');
      expect(stderr).toContain('graceful-init: pre-stop 1: "true" failed: could not start: EAGAIN; going on\n');
      expect(stderr).toMatch(/shutdown on SIGTERM, pre-stop 1 failed \(could not start: EAGAIN\) in [^,]+, SIGTERM to app at .*exit 7\n$/);
    } finally {
      if (child?.pid) killTree(child);
      dir.cleanup();
    }
  });
});
