import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { MODES, isAlive, pid1Available, readText, sleep, tempDir, waitFor, type Mode } from '../e2e/harness.js';
import { killEverything, markedTestEnv, startInit } from './target.js';

afterEach(killEverything);

/**
 * tini's process-group test: the app ignores the signal and waits for a child of its own that does
 * not. Sent to the whole group (-g), the signal ends the child, so the app's wait returns and all
 * exit; sent to the app alone, nothing happens.
 */
function groupApp(pidFile: string, signal: string): string[] {
  return ['sh', '-c', `sleep 30 & trap "" ${signal}; echo $! > ${pidFile}; wait $!; exit 0`];
}

async function runGroupCase(mode: Mode, flags: string[], signal: 'SIGUSR1' | 'SIGTERM', env?: NodeJS.ProcessEnv) {
  const dir = tempDir();
  try {
    const pidFile = join(dir.path, 'pid');
    const init = startInit(mode, flags, groupApp(pidFile, signal.slice(3)), { env: markedTestEnv(env), timeoutMs: 10_000 });
    const pid = await init.initPid();
    await waitFor('the app\'s child', () => readText(pidFile).trim() || undefined, 15_000);
    process.kill(pid, signal);
    const ended = await Promise.race([init.result.then(() => true), sleep(5000).then(() => false)]);
    const r = ended ? await init.result : undefined;
    return { ended, code: r?.code, initAlive: isAlive(pid) };
  } finally {
    dir.cleanup();
  }
}

describe.each(MODES)('process groups, like tini (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('-g: a forwarded signal reaches the app\'s whole process group', async () => {
    const r = await runGroupCase(mode, ['-g'], 'SIGUSR1');
    expect(r.ended, 'the app\'s child did not get USR1').toBe(true);
    expect(r.code).toBe(0);
  });

  it.skipIf(skip)('without -g: only the app gets it', async () => {
    const r = await runGroupCase(mode, [], 'SIGUSR1');
    expect(r.ended, 'the app\'s child got USR1 too').toBe(false);
  });

  it.skipIf(skip)('-g: TERM too goes to the whole group', async () => {
    const r = await runGroupCase(mode, ['-g'], 'SIGTERM');
    expect(r.ended, 'the app\'s child did not get TERM').toBe(true);
    expect(r.code).toBe(0);
  });

  it.skipIf(skip)('tini\'s environment variable TINI_KILL_PROCESS_GROUP=1 acts like -g', async () => {
    const r = await runGroupCase(mode, [], 'SIGUSR1', { TINI_KILL_PROCESS_GROUP: '1' });
    expect(r.ended, 'TINI_KILL_PROCESS_GROUP was not honoured').toBe(true);
  });
});
