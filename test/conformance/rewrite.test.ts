import { afterEach, describe, expect, it } from 'vitest';
import { MODES, pid1Available, run, tempDir } from '../e2e/harness.js';
import { sendEach, startLogger } from './logger.js';
import { DOCUMENTED, FLAVOUR, TARGET, initArgs, killEverything, lines } from './target.js';

afterEach(killEverything);

// dumb-init's -r FROM:TO (tini has no such option): graceful-init spells it --rewrite and must
// behave the same. Signals by number, as dumb-init takes them.
const rewriteFlag = FLAVOUR === 'dumb-init' ? '-r' : '--rewrite';
const rewrites = (map: [number, number][]) => map.flatMap(([from, to]) => [rewriteFlag, `${from}:${to}`]);
const noRewrite = FLAVOUR === 'tini';

const TERM = 15;
const INT = 2;
const QUIT = 3;
const CONT = 18;
const HUP = 1;
const WINCH = 28;
const SYS = 31;

describe.each(MODES)('--rewrite, like dumb-init\'s -r (%s)', (mode) => {
  const skip = noRewrite || (mode === 'pid1' && !pid1Available());

  const cases: [string, [number, number][], number[], number[]][] = [
    ['no rules: as sent', [], [TERM, QUIT, CONT, INT], [TERM, QUIT, CONT, INT]],
    ['TERM:INT', [[TERM, INT]], [TERM, QUIT, CONT, INT], [INT, QUIT, CONT, INT]],
    ['TERM:INT INT:TERM QUIT:QUIT', [[TERM, INT], [INT, TERM], [QUIT, QUIT]], [TERM, QUIT, CONT, INT], [INT, QUIT, CONT, TERM]],
    // SYS is not forwarded by graceful-init (nor by tini): only dumb-init passes it on
    ...(DOCUMENTED.forwardsSys ? [['the lowest and the highest: 1:31 31:1', [[HUP, SYS], [SYS, HUP]], [HUP, SYS], [SYS, HUP]] as [string, [number, number][], number[], number[]]] : []),
  ];

  it.skipIf(skip).each(cases)('%s', async (_name, map, send, expected) => {
    const dir = tempDir();
    try {
      const trapped = [...new Set([...send, ...expected])];
      const l = await startLogger(mode, dir.path, trapped, rewrites(map));
      await sendEach(l, send);
      expect(lines(l.log)).toEqual(['ready', ...expected.map(String)]);
    } finally {
      dir.cleanup();
    }
  });

  it.skipIf(skip)('TO = 0 drops the signal: TERM:QUIT INT:0 WINCH:0', async () => {
    const dir = tempDir();
    try {
      const l = await startLogger(mode, dir.path, [TERM, INT, QUIT, WINCH, HUP], rewrites([[TERM, QUIT], [INT, 0], [WINCH, 0]]));
      process.kill(l.pid, TERM);
      process.kill(l.pid, INT);
      await sendEach(l, []);
      process.kill(l.pid, WINCH);
      await sendEach(l, [HUP]);
      expect(lines(l.log)).toEqual(['ready', String(QUIT), String(HUP)]);
    } finally {
      dir.cleanup();
    }
  });
});

describe('--rewrite usage errors', () => {
  it.skipIf(noRewrite).each([['15'], ['herp:derp'], ['15::12'], ['15:derp'], ['']])('%s', async (rule) => {
    const r = await run('child', initArgs([rewriteFlag, rule], ['true']), { binary: TARGET });
    // dumb-init exits 1, graceful-init 2, as for its other usage errors
    expect(r.code).toBe(FLAVOUR === 'dumb-init' ? 1 : DOCUMENTED.usageExit);
  });
});
