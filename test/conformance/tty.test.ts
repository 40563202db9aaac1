import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { MODES, killMarked, markedEnv, pid1Available, type Mode } from '../e2e/harness.js';
import { TARGET, initArgs, killEverything } from './target.js';

afterEach(killEverything);

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/**
 * Runs the init on a pseudo-terminal (script(1)) with `typed` written to the terminal after the
 * app had time to start, as a user would type it; returns what the terminal showed and the status.
 */
function onTerminal(mode: Mode, command: string[], typed: string, mark: string): { out: string; status: number | null } {
  const prefix = mode === 'pid1' ? ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'] : [];
  const line = [...prefix, TARGET, ...initArgs([], command)].map(quote).join(' ');
  const feeder = `sleep 1.5; printf ${quote(typed)}; sleep 1.5`;
  const r = spawnSync('sh', ['-c', `(${feeder}) | script -qec ${quote(line)} /dev/null`], {
    env: markedEnv(mark, { SHELL: '/bin/sh', TERM: 'dumb' }),
    timeout: 15_000,
    encoding: 'utf8',
  });
  killMarked(mark);
  return { out: r.stdout, status: r.status };
}

describe.each(MODES)('on a terminal, like tini (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('the app has the terminal on 0, 1 and 2 and is its foreground process group', () => {
    const r = onTerminal(mode, ['sh', '-c', 'test -t 0 && test -t 1 && test -t 2 && echo ALL-TTYS; cat /proc/$$/stat'], '', 'tty-fg');
    expect(r.out).toContain('ALL-TTYS');
    const stat = /\(sh\) (\S) (\d+) (\d+) (\d+) (\d+) (-?\d+)/.exec(r.out);
    expect(stat, r.out).not.toBeNull();
    const [, , , pgrp, , ttyNr, tpgid] = stat as RegExpExecArray;
    expect(Number(ttyNr), 'no controlling terminal').not.toBe(0);
    expect(tpgid, 'the app is not in the foreground').toBe(pgrp);
  });

  it.skipIf(skip)('an interactive shell: "exit 5" typed, the init exits 5 (tini\'s tty test)', () => {
    const r = onTerminal(mode, ['dash', '-i'], 'exit 5\n', 'tty-exit');
    expect(r.status).toBe(5);
  });

  it.skipIf(skip)('Ctrl-C typed: the app dies of SIGINT, the init exits 130 (tini\'s tty test)', () => {
    const r = onTerminal(mode, ['dash', '-c', 'while true; do echo "#"; sleep 0.1; done'], '\x03', 'tty-ctrl-c');
    expect(r.out).toContain('#');
    expect(r.status).toBe(130);
  });

  it.skipIf(skip)('bash -i gets job control (dumb-init\'s tty test)', () => {
    const r = onTerminal(mode, ['bash', '--norc', '--noprofile', '-i'], 'echo "flags=[$-]"\nexit 0\n', 'tty-jobs');
    const flags = /flags=\[([a-zA-Z]+)\]/.exec(r.out)?.[1];
    expect(flags, r.out).toContain('m');
    expect(r.out).not.toMatch(/no job control/);
    expect(r.status).toBe(0);
  });

  it.skipIf(skip)('the app reads the terminal to its end and writes to it (dumb-init\'s tac test)', () => {
    const r = onTerminal(mode, ['tac'], '1\n2\n3\n\x04\x04', 'tty-tac');
    // the terminal echoes the typed lines, then tac answers
    expect(r.out.replaceAll('\r', '')).toMatch(/1\n2\n3\n(\^D)*3\n2\n1\n/);
    expect(r.status).toBe(0);
  });
});
