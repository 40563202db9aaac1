import { formatDuration } from './cli/duration.js';
import type { Logger } from './log.js';
import { rewriteSignal, type ShutdownPlan } from './plan.js';
import type { PreStopResult } from './prestop.js';
import type { App } from './process/app.js';
import { sendSignal } from './process/send-signal.js';
import type { Leftovers } from './process/tree.js';

export type Phase = 'running' | 'draining' | 'pre-stop' | 'stopping' | 'killing';

/** What the summary line reports; times are ms since the first stop signal. */
export interface ShutdownRecord {
  trigger: string;
  drainMs: number | null;
  preStop: PreStopResult[];
  stopSent: { signal: NodeJS.Signals | null; atMs: number } | null;
  killedAtMs: number | null;
  killReason: string | null;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * The sequence that starts at the first stop signal: drain → pre-stop → stop → (deadline) kill.
 * A second stop signal skips to the stop step (or is passed on when the app was already told to
 * stop); a third kills the app and everything left at once.
 */
export class ShutdownSequence {
  phase: Phase = 'running';
  record: ShutdownRecord | null = null;
  private startedAt = 0;
  private stopSignalsSeen = 0;
  private appGone = false;
  private hurry: () => void = () => {};
  private deadline: NodeJS.Timeout | null = null;

  constructor(
    private readonly plan: ShutdownPlan,
    private readonly app: App,
    private readonly leftovers: Leftovers,
    private readonly log: Logger,
  ) {
    void app.exited.then(() => {
      this.appGone = true;
      this.hurry();
    });
  }

  get started(): boolean {
    return this.record !== null;
  }

  elapsed(): number {
    return this.started ? Date.now() - this.startedAt : 0;
  }

  /** ms until the kill deadline, or null before shutdown started */
  remaining(): number | null {
    return this.started ? Math.max(0, this.plan.killAfterMs - this.elapsed()) : null;
  }

  onStopSignal(signal: NodeJS.Signals): void {
    this.stopSignalsSeen++;
    if (this.stopSignalsSeen === 1) {
      void this.run(signal, signal);
    } else if (this.stopSignalsSeen === 2 && (this.phase === 'draining' || this.phase === 'pre-stop')) {
      this.log.debug(`second ${signal}: skipping to the stop step`, { phase: this.phase });
      this.hurry();
    } else if (this.stopSignalsSeen === 2) {
      this.forward(signal);
    } else {
      this.kill(`third stop signal (${signal})`);
    }
  }

  /** /prestop: the same sequence, with the configured stop signal or TERM. */
  startFromHook(): void {
    if (this.started) return;
    this.stopSignalsSeen++;
    void this.run('GET /prestop', null);
  }

  forward(signal: NodeJS.Signals): void {
    const to = rewriteSignal(this.plan, signal);
    if (to === null) {
      this.log.debug(`dropped ${signal} (--rewrite)`);
      return;
    }
    const ok = sendSignal(this.app.signalTarget, to);
    this.log.debug(`forwarded ${signal}${to === signal ? '' : ` as ${to}`} to ${this.app.signalTarget}`, ok ? {} : { failed: true });
  }

  private async run(trigger: string, received: NodeJS.Signals | null): Promise<void> {
    this.startedAt = Date.now();
    this.record = { trigger, drainMs: null, preStop: [], stopSent: null, killedAtMs: null, killReason: null };
    this.deadline = setTimeout(() => this.kill('deadline'), this.plan.killAfterMs);
    this.deadline.unref();
    let hurried = false;
    const hurry = new Promise<void>((resolve) => {
      this.hurry = () => {
        hurried = true;
        resolve();
      };
    });
    const interrupted = () => hurried || this.appGone;
    this.log.debug(`shutdown started by ${trigger}: not ready`);

    if (this.plan.drainMs > 0) {
      this.phase = 'draining';
      await Promise.race([sleep(this.plan.drainMs), hurry]);
      this.record.drainMs = this.elapsed();
    }

    if (this.plan.preStop.length > 0 && !interrupted()) {
      this.phase = 'pre-stop';
      const { runPreStop } = await import('./prestop.js');
      for (const [i, command] of this.plan.preStop.entries()) {
        const left = this.remaining() ?? 0;
        if (interrupted() || left <= 0) break;
        const timeout = Math.min(this.plan.preStopTimeoutMs ?? left, left);
        const result = await Promise.race([runPreStop(command, i + 1, timeout, this.log), hurry.then(() => null)]);
        if (result) this.record.preStop.push(result);
      }
      // a pre-stop command such as `nginx -s quit` returns at once while the app winds down; a stop
      // signal now (TERM: nginx's fast shutdown) would cut what it is finishing
      const wait = Math.min(this.plan.preStopWaitMs, this.remaining() ?? 0);
      if (wait > 0 && !interrupted()) await Promise.race([sleep(wait), hurry]);
    }

    if (this.appGone || this.phase === 'killing') return;
    this.phase = 'stopping';
    const signal = this.plan.stopSignal ?? (received ? rewriteSignal(this.plan, received) : 'SIGTERM');
    this.record.stopSent = { signal, atMs: this.elapsed() };
    if (signal) sendSignal(this.app.signalTarget, signal);
    this.log.debug(`stop: sent ${signal ?? 'nothing (rewritten to 0)'} to ${this.app.signalTarget}`);
  }

  /** SIGKILL to the app and every process left, now. */
  kill(reason: string): void {
    if (this.appGone && !this.leftovers.anyLeft()) return;
    this.phase = 'killing';
    if (this.record) {
      this.record.killedAtMs = this.elapsed();
      this.record.killReason = reason;
    }
    sendSignal(this.app.signalTarget, 'SIGKILL');
    this.leftovers.signal('SIGKILL');
    this.log.debug(`${reason}: sent SIGKILL to the app and every process left`);
  }

  dispose(): void {
    if (this.deadline) clearTimeout(this.deadline);
  }

  describe(): string {
    const r = this.record;
    if (!r) return '';
    const parts = [`shutdown on ${r.trigger}`];
    if (r.drainMs !== null) parts.push(`drain ${formatDuration(r.drainMs)}`);
    for (const [i, p] of r.preStop.entries()) {
      parts.push(`pre-stop ${i + 1} ${p.outcome === 'ok' ? 'ok' : `${p.outcome} (${p.detail})`} in ${formatDuration(p.durationMs)}`);
    }
    if (r.stopSent) parts.push(`${r.stopSent.signal ?? 'no signal'} to app at ${formatDuration(r.stopSent.atMs)}`);
    if (r.killedAtMs !== null) parts.push(`SIGKILL (${r.killReason}) at ${formatDuration(r.killedAtMs)}`);
    return parts.join(', ');
  }
}
