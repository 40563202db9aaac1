// --log-format json: every line the init writes, through a whole shutdown, is one JSON object: its
// warnings, its debug lines, a pre-stop command's output (with the command's index and stream) and
// the summary with what happened as values.
import { afterEach, describe, expect, it } from 'vitest';
import { MODES, cleanEnv, killAll, pid1Available, run, underSignalLogger } from './harness.js';

afterEach(killAll);

type Entry = Record<string, unknown> & { time: string; level: string; logger: string; msg: string };

/** Every line parsed; a line that is not one JSON object fails the test, naming it. */
function parseAll(text: string): Entry[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      let entry: unknown;
      expect(() => (entry = JSON.parse(l)), `not JSON: ${l}`).not.toThrow();
      expect(entry, l).toMatchObject({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), level: expect.any(String), logger: 'graceful-init', msg: expect.any(String) });
      return entry as Entry;
    });
}

// prints on both streams: a plain line, a line with a tab and a quote, and one far longer than a log line
const PRE_STOP = `sh -c 'echo to-stdout; printf "tab\\there \\"q\\"\\n" >&2; head -c 9000 /dev/zero | tr "\\0" x; echo'`;

describe.each(MODES)('--log-format json (%s)', (mode) => {
  const skip = mode === 'pid1' && !pid1Available();

  it.skipIf(skip)('a whole shutdown with a pre-stop command that prints: every line is one JSON object', async () => {
    // --drain-min without --drain-quiet: a warning at start
    const args = ['--log-format', 'json', '-v', '--drain-min', '1s', '--drain-delay', '200ms', '--pre-stop', PRE_STOP, '--pre-stop-wait', '0'];
    const { result: r } = await underSignalLogger(mode, args, async (pid) => void process.kill(pid, 'SIGTERM'));
    expect(r.code).toBe(0);
    // the app writes nothing: everything on either stream is the init's
    const err = parseAll(r.stderr);
    const out = parseAll(r.stdout.toString());

    expect(err[0]).toMatchObject({ level: 'warn', msg: '--drain-min does nothing without --drain-quiet DUR (a fixed drain lasts --drain-delay)' });
    expect(err.some((e) => e.level === 'debug' && /^spawned /.test(e.msg))).toBe(true);

    expect(out.map(({ msg, prestop, stream }) => ({ msg: msg.slice(0, 20), prestop, stream }))).toEqual([
      { msg: 'to-stdout', prestop: 1, stream: 'stdout' },
      { msg: 'x'.repeat(20), prestop: 1, stream: 'stdout' },
    ]);
    const long = out[1] as Entry;
    expect(long.msg).toMatch(/^x+\.\.\.\[\d+ bytes cut\]$/);
    expect(Number(/\[(\d+) bytes cut\]/.exec(long.msg)?.[1]) + (long.msg.match(/x/g)?.length ?? 0)).toBe(9000);
    expect(err.filter((e) => e.prestop === 1)).toEqual([expect.objectContaining({ msg: 'tab\there "q"', prestop: 1, stream: 'stderr' })]);

    const summary = err.at(-1) as Entry;
    expect(summary).toMatchObject({
      level: 'info',
      msg: expect.stringMatching(/^shutdown on SIGTERM, drain [\d.]+m?s, pre-stop 1 ok in [\d.]+m?s, SIGTERM to app at [\d.]+m?s, app exited with 0 at [\d.]+m?s, exit 0$/),
      trigger: 'SIGTERM',
      drainMs: expect.any(Number),
      preStop: [{ index: 1, command: expect.stringMatching(/^sh -c /), outcome: 'ok', detail: 'exit 0', ms: expect.any(Number) }],
      preStopCount: 1,
      preStopFailed: 0,
      stopSignal: 'SIGTERM',
      stopAtMs: expect.any(Number),
      killedAtMs: null,
      appExitCode: 0,
      appSignal: null,
      appExitAtMs: expect.any(Number),
      leftovers: expect.any(String),
      exitCode: 0,
    });
    expect(summary.drainMs as number).toBeGreaterThanOrEqual(190);
    expect(summary.stopAtMs as number).toBeGreaterThanOrEqual(summary.drainMs as number);
  });
});

describe('--log-format json before the app starts', () => {
  it('a bad setting is one JSON error line, exit 2, whether the format comes from the command line or the variable', async () => {
    const bad = await run('child', ['--log-format', 'json', '--drain-delay', '1 m', '--', 'true']);
    expect(bad.code).toBe(2);
    expect(parseAll(bad.stderr)).toEqual([expect.objectContaining({ level: 'error', msg: expect.stringMatching(/^--drain-delay: "1 m" is not a duration/) })]);
    const viaEnv = await run('child', ['--nope', '--', 'true'], { env: cleanEnv({ GRACEFUL_INIT_LOG_FORMAT: 'json' }) });
    expect(viaEnv.code).toBe(2);
    expect(parseAll(viaEnv.stderr)).toEqual([expect.objectContaining({ level: 'error', msg: expect.stringMatching(/^unknown option --nope/) })]);
  });

  it('the app that cannot be run: one JSON error line, exit 127', async () => {
    const r = await run('child', ['--log-format=json', '--', 'no-such-program-here']);
    expect(r.code).toBe(127);
    expect(parseAll(r.stderr)).toEqual([expect.objectContaining({ level: 'error', msg: expect.stringMatching(/no-such-program-here/) })]);
  });
});
