import { describe, expect, it } from 'vitest';
import { defaultOptions, type Options } from '../../src/cli/options.js';
import { planShutdown, rewriteSignal } from '../../src/plan.js';
import { describePlan, oneLine, summaryFields, summaryLine } from '../../src/render.js';
import { jsonLine } from '../../src/log.js';
import { MAX_LINE } from '../../src/output/bounded-text.js';
import { FORWARDED_SIGNALS, IGNORED_SIGNALS } from '../../src/signals.js';
import { remapStatus, fromNode, fromWaitStatus } from '../../src/process/exit-status.js';
import { resolveCommand } from '../../src/process/resolve-command.js';

const opts = (o: Partial<Options>): Options => ({ ...defaultOptions(), ...o });

describe('planShutdown', () => {
  it('kills at grace period minus margin by default, or at --kill-after', () => {
    expect(planShutdown(opts({})).killAfterMs).toBe(28_000);
    expect(planShutdown(opts({ gracePeriodMs: 10_000, killMarginMs: 500 })).killAfterMs).toBe(9_500);
    expect(planShutdown(opts({ killAfterMs: 5_000 })).killAfterMs).toBe(5_000);
    expect(planShutdown(opts({ gracePeriodMs: 1_000 })).killAfterMs).toBe(0);
  });

  it('after pre-stop commands, the stop signal comes --stop-timeout before the deadline; without them, after the drain', () => {
    expect(planShutdown(opts({ drainDelayMs: 2000 })).stopWindowAtMs).toBe(2000);
    expect(planShutdown(opts({ drainDelayMs: 2000, preStop: ['nginx -s quit'] })).stopWindowAtMs).toBe(23_000);
    expect(planShutdown(opts({ preStop: ['x'], stopTimeoutMs: 10_000, killAfterMs: 20_000 })).stopWindowAtMs).toBe(10_000);
  });

  it('warns when the steps cannot fit before the deadline, naming the setting at fault', () => {
    expect(planShutdown(opts({})).warnings).toEqual([]);
    expect(planShutdown(opts({ drainDelayMs: 2000, preStop: ['x'] })).warnings).toEqual([]);
    expect(planShutdown(opts({ drainDelayMs: 30_000 })).warnings.join()).toMatch(/^--drain-delay 30s reaches the kill deadline/);
    expect(planShutdown(opts({ killMarginMs: 40_000 })).warnings.join()).toMatch(/^--kill-margin 40s is not shorter than --grace-period 30s/);
    expect(planShutdown(opts({ killMarginMs: 40_000 })).warnings.join()).not.toMatch(/drain/);
    expect(planShutdown(opts({ drainDelayMs: 20_000, preStop: ['x'], stopTimeoutMs: 8_000 })).warnings.join()).toMatch(/^--stop-timeout 8s leaves the pre-stop commands no time/);
    expect(planShutdown(opts({ killAfterMs: 40_000 })).warnings.join()).toMatch(/^--kill-after 40s is not before --grace-period 30s/);
  });

  it('describes the timeline', () => {
    const lines = describePlan(planShutdown(opts({ drainDelayMs: 2000, preStop: ['nginx -s quit'], preStopTimeoutMs: 5000 })));
    expect(lines.join('\n')).toMatch(/drain for 2s/);
    expect(lines.join('\n')).toMatch(/pre-stop 1: nginx -s quit \(at most 5s\)/);
    expect(lines.join('\n')).toMatch(/t=23s +stop \(at the latest\)/);
    expect(lines.join('\n')).toMatch(/t=28s +deadline: SIGKILL/);
  });

  it.each([
    { drainDelayMs: 2000, preStop: ['nginx -s quit'] },
    { drainDelayMs: 40_000 },
    { killAfterMs: 40_000, preStop: ['a', 'b'], stopTimeoutMs: 1000 },
  ])('lists --check lines in time order (%o)', (o) => {
    const seconds = (l: string) => {
      const m = /^t=([\d.]+)(ms|s)/.exec(l);
      return m ? Number(m[1]) / (m[2] === 'ms' ? 1000 : 1) : NaN;
    };
    const times = describePlan(planShutdown(opts(o))).slice(0, -1).map(seconds);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('keeps the summary line one bounded line', () => {
    expect(oneLine('a\nb\tc')).toBe('a\\nb\\tc');
    const record = {
      trigger: 'SIGTERM', drainMs: null, drainEnd: null, idleEnd: null, stopSent: null, killedAtMs: null,
      preStop: Array.from({ length: 3000 }, (_, i) => ({ command: `c${i}`, outcome: i === 7 ? 'failed' as const : 'ok' as const, detail: 'exit 1', durationMs: 1, cutLines: 0, droppedLines: 0 })),
    };
    const line = summaryLine(record, { status: 0, code: 0, signal: null }, 5, 'none', 0);
    expect(line).toMatch(/pre-stop 3000 commands: 2999 ok, first not ok: 8 failed \(exit 1\)/);
    expect(line.length).toBeLessThan(1000);
  });

  it('gives the JSON summary what happened as values, bounded however many pre-stop commands ran', () => {
    const record = {
      trigger: 'SIGTERM', drainMs: 2004, drainEnd: null, idleEnd: null, stopSent: { signal: 'SIGQUIT' as const, atMs: 2100.4 }, killedAtMs: null,
      preStop: Array.from({ length: 3000 }, (_, i) => ({ command: `nginx -s quit ${'x'.repeat(300)}`, outcome: i === 7 ? 'failed' as const : 'ok' as const, detail: 'exit 1', durationMs: 40, cutLines: 0, droppedLines: 0 })),
    };
    const fields = summaryFields(record, { status: 0, code: 0, signal: null }, 2500, 'none', 0);
    expect(fields).toMatchObject({ trigger: 'SIGTERM', drainMs: 2004, stopSignal: 'SIGQUIT', stopAtMs: 2100, killedAtMs: null, appExitCode: 0, appSignal: null, appExitAtMs: 2500, leftovers: 'none', exitCode: 0, preStopCount: 3000, preStopFailed: 1 });
    expect(fields.preStop).toHaveLength(10);
    expect((fields.preStop as { command: string }[])[0]?.command).toMatch(/^nginx -s quit x+\.\.\.\[\d+ bytes cut\]$/);
    const line = jsonLine('info', summaryLine(record, { status: 0, code: 0, signal: null }, 2500, 'none', 0), fields);
    expect(Buffer.byteLength(line)).toBeLessThan(MAX_LINE);
    expect((JSON.parse(line) as { preStop: unknown[] }).preStop).toHaveLength(10);
  });

  it('rewrites forwarded signals', () => {
    const plan = planShutdown(opts({ rewrite: new Map([['SIGTERM', 'SIGQUIT'], ['SIGUSR1', null]]) }));
    expect(rewriteSignal(plan, 'SIGTERM')).toBe('SIGQUIT');
    expect(rewriteSignal(plan, 'SIGUSR1')).toBe(null);
    expect(rewriteSignal(plan, 'SIGHUP')).toBe('SIGHUP');
  });
});

describe('signal sets', () => {
  it('forwards the usual ones and never CHLD, KILL, STOP or fault signals', () => {
    for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM', 'SIGTSTP', 'SIGPWR']) {
      expect(FORWARDED_SIGNALS).toContain(s);
    }
    for (const s of ['SIGCHLD', 'SIGKILL', 'SIGSTOP', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGPIPE', 'SIGPOLL', 'SIGIOT']) {
      expect(FORWARDED_SIGNALS).not.toContain(s);
    }
    expect(IGNORED_SIGNALS.filter((s) => FORWARDED_SIGNALS.includes(s))).toEqual([]);
  });
});

describe('exit status', () => {
  it('maps node exit info to the shell convention and remaps', () => {
    expect(fromNode(42, null).status).toBe(42);
    expect(fromNode(null, 'SIGTERM').status).toBe(143);
    expect(fromNode(null, 'SIGKILL').status).toBe(137);
    expect(remapStatus(143, [143])).toBe(0);
    expect(remapStatus(1, [143])).toBe(1);
  });

  it('decodes raw wait statuses, real-time signals included', () => {
    expect(fromWaitStatus(3 << 8)).toEqual({ status: 3, code: 3, signal: null });
    expect(fromWaitStatus(15)).toEqual({ status: 143, code: null, signal: 'SIGTERM' });
    expect(fromWaitStatus(37 | 0x80)).toEqual({ status: 165, code: null, signal: 'SIGRTMIN+3' });
  });

  it('resolves commands the way execvp does', () => {
    expect(resolveCommand('sh', '/nonexistent:/bin')).toEqual({ ok: true, path: '/bin/sh' });
    expect(resolveCommand('nope-xyz', '/bin')).toMatchObject({ ok: false, exitCode: 127 });
    expect(resolveCommand('/etc', '/bin')).toMatchObject({ ok: false, exitCode: 126, reason: 'is a directory' });
    expect(resolveCommand('', '/bin')).toMatchObject({ ok: false, exitCode: 127 });
  });
});
