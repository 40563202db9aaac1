import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  BINARY, descendantsOf, isAlive, killAll, killMarked, markedEnv, pid1Available, readText, run, sleep, start, tempDir, waitFor, type Mode,
} from './harness.js';

afterEach(killAll);

const state = (pid: number) => {
  const stat = readText(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
};
const zombiesUnder = (pid: number) => descendantsOf(pid).filter((p) => state(p) === 'Z');

/** The app leaves `n` orphans that exit at once, says so in `marker`, then waits to be stopped. */
const orphanMaker = (n: number, marker: string) => [
  'sh', '-c', `i=0; while [ $i -lt ${n} ]; do (sleep 0.05 &); i=$((i+1)); done; sleep 0.5; touch ${marker}; exec sleep 30`,
];

describe.each<Mode>(['pid1', 'pid1-noproc', 'child'])('zombie reaping (%s)', (mode) => {
  const skip = mode !== 'child' && !pid1Available();

  it.skipIf(skip)('reaps every orphan the app leaves behind', async () => {
    const dir = tempDir();
    try {
      const marker = join(dir.path, 'done');
      const init = start(mode, ['--', ...orphanMaker(300, marker)]);
      const pid = await init.initPid();
      await waitFor('the orphans to be made', () => existsSync(marker), 15_000);
      // counted from outside: /proc of the host sees the namespace's processes
      const left = await waitFor('no zombies', () => zombiesUnder(pid).length === 0 || undefined, 3000).catch(() => false);
      expect(left, `${zombiesUnder(pid).length} zombies under the init`).toBe(true);
      process.kill(pid, 'SIGTERM');
      expect((await init.result).code).toBe(143);
    } finally {
      dir.cleanup();
    }
  });
});

describe('beyond PID 1', () => {
  it('registers as child subreaper by default: orphans come back to the init', async () => {
    const dir = tempDir();
    try {
      const pids = join(dir.path, 'pid');
      const init = start('child', ['--', 'sh', '-c', `(sleep 30 & echo $! > ${pids}); exec sleep 30`]);
      const pid = await init.initPid();
      const orphan = Number(await waitFor('orphan', () => readText(pids).trim() || undefined));
      await waitFor('the orphan to be reparented', () => {
        const stat = readText(`/proc/${orphan}/stat`);
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid || undefined;
      });
      process.kill(pid, 'SIGTERM');
      await init.result;
      expect(isAlive(orphan)).toBe(false);
    } finally {
      dir.cleanup();
    }
  });

  it('-g sends forwarded signals to the whole process group', async () => {
    // the pid file is written once sh ignores USR1 (sleep, started before the trap, does not)
    const script = 'sleep 30 & p=$!; trap "" USR1; echo $p > "$0"; wait';
    for (const group of [true, false]) {
      const dir = tempDir();
      try {
        const pidFile = join(dir.path, 'pid');
        const init = start('child', [...(group ? ['-g'] : []), '--', 'sh', '-c', script, pidFile]);
        const pid = await init.initPid();
        const sleeper = Number(await waitFor('sleep', () => readText(pidFile).trim() || undefined));
        process.kill(pid, 'SIGUSR1');
        await sleep(300);
        // USR1 kills sleep when it reaches it; sh ignores it
        expect(isAlive(sleeper), group ? 'with -g the whole group gets USR1' : 'without -g only the app does').toBe(!group);
        // with -g the app's wait has returned and the init may be gone already
        if (isAlive(pid)) process.kill(pid, 'SIGTERM');
        await init.result;
      } finally {
        dir.cleanup();
      }
    }
  });

  it('-p TERM: the init hears about its parent dying and shuts down', async () => {
    const dir = tempDir();
    try {
      const pidFile = join(dir.path, 'init.pid');
      // a parent that starts the init in the background and goes away
      const parent = spawnSync('sh', ['-c', `"${BINARY}" -p TERM -- sleep 30 >/dev/null 2>&1 & echo $! > ${pidFile}; sleep 0.3`], {
        env: markedEnv('pdeath'),
        timeout: 5000,
      });
      expect(parent.status).toBe(0);
      const initPid = Number(readFileSync(pidFile, 'utf8'));
      await waitFor('the init to stop after its parent died', () => !isAlive(initPid) || undefined, 5000);
    } finally {
      killMarked('pdeath');
      dir.cleanup();
    }
  });

  it('Ctrl-C on a terminal goes to the app alone (it is the foreground process group)', () => {
    const app = `sh -c 'trap "echo GOT-INT; exit 7" INT; echo READY; while :; do sleep 0.1; done'`;
    // script(1) gives the init a pseudo-terminal; the Ctrl-C byte typed into it becomes SIGINT
    const r = spawnSync('sh', ['-c', `(sleep 1; printf '\\003'; sleep 2) | script -qec "${BINARY} -- ${app.replaceAll('"', '\\"')}" /dev/null`], {
      env: markedEnv('ctrl-c'),
      timeout: 10_000,
      encoding: 'utf8',
    });
    killMarked('ctrl-c');
    expect(r.stdout).toContain('READY');
    expect(r.stdout).toContain('GOT-INT');
    // had the init been in the foreground group too, it would have run a shutdown on SIGINT and said so
    expect(r.stdout).not.toContain('shutdown on SIGINT');
    expect(r.status).toBe(7);
  });
});

describe('app status under zombie load', () => {
  it('the app exit status is right while orphans exit around it', async () => {
    for (let i = 0; i < 20; i++) {
      const code = (i * 37) % 256;
      const r = await run('child', ['--', 'sh', '-c', `for j in 1 2 3 4 5 6 7 8; do (sleep 0.0$j &); done; exit ${code}`]);
      expect(r.code).toBe(code);
    }
  });
});
