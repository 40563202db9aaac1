import { afterEach, describe, expect, it } from 'vitest';
import { MODES, pid1Available } from '../e2e/harness.js';
import { killEverything, runInit } from './target.js';

afterEach(killEverything);

const ALL_CODES = Array.from({ length: 256 }, (_, i) => i);
// a sample for the slower checks: both ends, the shell's specials, Java's 143
const SOME_CODES = [0, 1, 2, 42, 126, 127, 128, 130, 143, 254, 255];

describe.each(MODES)('exit status, like tini (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  // every code once, as a plain child; as PID 1 (slower to start) the sample
  const codes = mode === 'child' ? ALL_CODES : SOME_CODES;
  it.skipIf(skip)(`passes on exit codes ${mode === 'child' ? '0..255' : SOME_CODES.join(' ')}`, { timeout: 600_000 }, async () => {
    // a few at a time: hundreds of starts one after the other take long on a busy machine
    const got: (number | null)[] = [];
    for (let i = 0; i < codes.length; i += 8) {
      const batch = codes.slice(i, i + 8).map((code) => runInit(mode, [], ['sh', '-c', `exit ${code}`], { timeoutMs: 60_000 }));
      for (const r of await Promise.all(batch)) got.push(r.code);
    }
    expect(got).toEqual(codes);
  });

  it.skipIf(skip)('says nothing of its own on stderr for a normal run', async () => {
    // as a plain child tini warns that it is no subreaper unless given -s
    const r = await runInit(mode, mode === 'child' ? ['-s'] : [], ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.stderr).toBe('err\n');
    expect(r.stdout.toString()).toBe('out\n');
    expect(r.code).toBe(3);
  });

  it.skipIf(skip)('a death by signal N exits 128+N', { timeout: 120_000 }, async () => {
    // HUP INT QUIT ABRT KILL USR1 SEGV USR2 PIPE ALRM TERM
    const signals = [1, 2, 3, 6, 9, 10, 11, 12, 13, 14, 15];
    const got: number[] = [];
    for (const sig of signals) got.push((await runInit(mode, [], ['sh', '-c', `kill -${sig} $$`])).code ?? -1);
    expect(got).toEqual(signals.map((s) => 128 + s));
  });

  it.skipIf(skip)('-e CODE maps exactly that code to 0 (tini\'s inclusive test)', { timeout: 120_000 }, async () => {
    for (const code of SOME_CODES) {
      expect((await runInit(mode, ['-e', String(code)], ['sh', '-c', `exit ${code}`])).code, `-e ${code}, exit ${code}`).toBe(0);
    }
  });

  it.skipIf(skip)('-e given for every other code leaves the code alone (tini\'s exclusive test)', { timeout: 120_000 }, async () => {
    for (const code of SOME_CODES) {
      const others = ALL_CODES.filter((c) => c !== code).flatMap((c) => ['-e', String(c)]);
      expect((await runInit(mode, others, ['sh', '-c', `exit ${code}`])).code, `exit ${code}`).toBe(code);
    }
  });

  it.skipIf(skip)('-e applies to 128+N after a death by signal', async () => {
    expect((await runInit(mode, ['-e', '143'], ['sh', '-c', 'kill -TERM $$'])).code).toBe(0);
    expect((await runInit(mode, ['-e', '143'], ['sh', '-c', 'kill -USR1 $$'])).code).toBe(138);
  });
});
