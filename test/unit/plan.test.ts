import { describe, expect, it } from 'vitest';
import { defaultOptions, type Options } from '../../src/cli/options.js';
import { describePlan, latestStopMs, planShutdown, rewriteSignal } from '../../src/plan.js';
import { FORWARDED_SIGNALS, IGNORED_SIGNALS } from '../../src/signals.js';
import { remapStatus, fromNode } from '../../src/process/exit-status.js';
import { resolveCommand } from '../../src/process/resolve-command.js';

const opts = (o: Partial<Options>): Options => ({ ...defaultOptions(), ...o });

describe('planShutdown', () => {
  it('kills at grace period minus margin by default, or at --kill-after', () => {
    expect(planShutdown(opts({})).killAfterMs).toBe(28_000);
    expect(planShutdown(opts({ gracePeriodMs: 10_000, killMarginMs: 500 })).killAfterMs).toBe(9_500);
    expect(planShutdown(opts({ killAfterMs: 5_000 })).killAfterMs).toBe(5_000);
    expect(planShutdown(opts({ gracePeriodMs: 1_000 })).killAfterMs).toBe(0);
  });

  it('warns when the steps cannot fit before the deadline', () => {
    expect(planShutdown(opts({})).warnings).toEqual([]);
    expect(planShutdown(opts({ drainDelayMs: 30_000 })).warnings.join()).toMatch(/uses up the time/);
    const tight = planShutdown(opts({ drainDelayMs: 20_000, preStop: ['x'], preStopTimeoutMs: 5_000, preStopWaitMs: 2_000 }));
    expect(latestStopMs(tight)).toBe(27_000);
    expect(tight.warnings.join()).toMatch(/leaving the app 1s/);
    expect(planShutdown(opts({ preStop: ['x'] })).warnings.join()).toMatch(/no --pre-stop-timeout/);
    expect(planShutdown(opts({ killAfterMs: 40_000 })).warnings.join()).toMatch(/kubelet's SIGKILL comes first/);
  });

  it('describes the timeline', () => {
    const lines = describePlan(planShutdown(opts({ drainDelayMs: 2000, preStop: ['nginx -s quit'], preStopTimeoutMs: 5000 })));
    expect(lines.join('\n')).toMatch(/drain for 2s/);
    expect(lines.join('\n')).toMatch(/pre-stop 1: nginx -s quit \(at most 5s\)/);
    expect(lines.join('\n')).toMatch(/t=28s +deadline: SIGKILL/);
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

  it('resolves commands the way execvp does', () => {
    expect(resolveCommand('sh', '/nonexistent:/bin')).toEqual({ ok: true, path: '/bin/sh' });
    expect(resolveCommand('nope-xyz', '/bin')).toMatchObject({ ok: false, exitCode: 127 });
    expect(resolveCommand('/etc', '/bin')).toMatchObject({ ok: false, exitCode: 126, reason: 'is a directory' });
    expect(resolveCommand('', '/bin')).toMatchObject({ ok: false, exitCode: 127 });
  });
});
