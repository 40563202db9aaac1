import { atMonotonic, monotonicMs, sleepFor } from './clock.js';
import type { Logger } from './log.js';
import { stopSignalFor, type ShutdownPlan } from './plan.js';
import type { PreStopResult } from './prestop.js';
import { describeDrainEnd, describeWaitIdleEnd, drainUntilQuiet, waitUntilIdle, type TrafficMonitor } from './traffic/index.js';

export type Phase = 'running' | 'draining' | 'pre-stop' | 'waiting' | 'stopping' | 'killing';

/** What happened, for the summary line; times are ms since the first stop signal. */
export interface ShutdownRecord {
  trigger: string;
  drainMs: number | null;
  /** with --drain-quiet: why the drain ended */
  drainEnd: string | null;
  preStop: PreStopResult[];
  /** with --wait-idle: how the wait for requests in flight ended */
  idleEnd: string | null;
  /** `server`: the known server whose graceful stop it was (src/profiles) */
  stopSent: { signal: NodeJS.Signals | null; atMs: number; server?: string | null } | null;
  killedAtMs: number | null;
}

/** What the shutdown acts on; the lifecycle provides it. */
export interface ShutdownTarget {
  /** settles when the app has exited */
  exited: Promise<unknown>;
  /**
   * The stop step's signal, sent: `planned` (the user's choice, or the signal received) to the app
   * (or its group), or the graceful stop of the known server the app is (src/profiles).
   */
  sendStop(received: NodeJS.Signals | null, planned: NodeJS.Signals | null): { signal: NodeJS.Signals | null; server: string | null };
  /** SIGKILL to the app and every process left */
  killEverything(): void;
  /** the app's TCP traffic, when an option needs it */
  traffic: TrafficMonitor | null;
  /** told as the sequence begins: from here on the app's exit ends in the summary line */
  beginning(): void;
}

type Woken = 'time' | 'hurried' | 'app-exited';

interface Step {
  phase: Phase;
  run(s: Shutdown, received: NodeJS.Signals | null): Promise<void>;
}

/**
 * The steps after the first stop signal, in order. Not-ready needs no step: /readyz answers 200
 * while the app is fully serving, through the drain, and 503 from the step after it (see
 * `serving`). Each step ends early when the app exits or a second stop signal hurries the
 * sequence to the stop step.
 */
const STEPS: readonly Step[] = [
  { phase: 'draining', run: drain },
  { phase: 'pre-stop', run: runPreStopCommands },
  { phase: 'waiting', run: letAppFinish },
  { phase: 'waiting', run: waitForIdleConnections },
  { phase: 'stopping', run: sendStopSignal },
];

/** Load balancers are still sending traffic: keep serving, for a fixed time or until it stops. */
async function drain(s: Shutdown): Promise<void> {
  if (s.plan.drainMs === 0) return;
  const traffic = s.target.traffic;
  if (s.plan.drainQuietMs !== null && traffic) {
    const settings = { quietMs: s.plan.drainQuietMs, minMs: s.plan.drainMinMs, maxMs: s.plan.drainMs };
    const end = await drainUntilQuiet(traffic, settings, s.startedAt, { signal: s.abortOnWake() });
    s.record.drainEnd = describeDrainEnd(end);
  } else {
    await s.waitUntil(s.plan.drainMs);
  }
  s.record.drainMs = s.elapsed();
}

/** For apps whose stop signal is an immediate exit: let the requests in flight be answered first. */
async function waitForIdleConnections(s: Shutdown): Promise<void> {
  const traffic = s.target.traffic;
  if (s.plan.waitIdleMs === null || !traffic || s.appExited) return;
  const maxMs = Math.min(s.plan.waitIdleMs, s.remaining() ?? 0);
  const end = await waitUntilIdle(traffic, maxMs, monotonicMs(), { signal: s.abortOnWake() });
  s.record.idleEnd = describeWaitIdleEnd(end);
}

/** Each command bounded by its timeout and by the stop window, so the app keeps its stop time. */
async function runPreStopCommands(s: Shutdown): Promise<void> {
  if (s.plan.preStop.length === 0) return;
  const { runPreStop } = await import('./prestop.js');
  for (const [i, command] of s.plan.preStop.entries()) {
    const left = s.plan.stopWindowAtMs - s.elapsed();
    if (s.interrupted() || left <= 0) return;
    const run = runPreStop(command, i + 1, Math.min(s.plan.preStopTimeoutMs ?? left, left), s.log).then((r) => void s.record.preStop.push(r));
    s.preStopRunning = run;
    if ((await Promise.race([run.then((): Woken => 'time'), s.woken()])) !== 'time') return;
  }
}

/**
 * After a pre-stop action such as `nginx -s quit` the app winds down by itself: a stop signal now
 * would cut it short. One that failed, could not start or timed out means it will not: the stop
 * signal follows at once.
 */
async function letAppFinish(s: Shutdown): Promise<void> {
  if (s.plan.preStop.length === 0 || s.interrupted()) return;
  const failed = s.record.preStop.findIndex((r) => r.outcome !== 'ok');
  if (failed !== -1) return s.log.debug(`pre-stop ${failed + 1} did not succeed: the stop signal follows at once`);
  const until = s.plan.preStopWaitMs === null ? s.plan.stopWindowAtMs : Math.min(s.plan.stopWindowAtMs, s.elapsed() + s.plan.preStopWaitMs);
  await s.waitUntil(until);
}

async function sendStopSignal(s: Shutdown, received: NodeJS.Signals | null): Promise<void> {
  if (s.appExited) return;
  const { signal, server } = s.target.sendStop(received, stopSignalFor(s.plan, received));
  s.record.stopSent = { signal, atMs: s.elapsed(), server };
  s.log.debug(`stop: sent ${signal ?? 'nothing (rewritten to 0)'} to ${server ?? 'the app'}`);
}

/**
 * The sequence that starts at the first stop signal. A second one during the drain, the pre-stop
 * commands or the wait skips to the stop step; every other is forwarded. Only the deadline kills.
 */
export class Shutdown {
  private phaseNow: Phase = 'running';
  /** when each phase began, ms since the first stop signal */
  private readonly phaseStarts = new Map<Phase, number>();
  private recordOrNull: ShutdownRecord | null = null;
  private startedAtMs = 0;
  private hurried = false;
  /** the stop signal that started the sequence; null for GET /prestop */
  private received: NodeJS.Signals | null = null;
  appExited = false;
  /** the pre-stop command started last; it may outlive its step (app exited, sequence hurried) */
  preStopRunning: Promise<void> | null = null;
  private wake: (why: Woken) => void = () => {};
  private wakeUp: Promise<Woken> = new Promise(() => {});
  private cancelDeadline: () => void = () => {};

  constructor(
    readonly plan: ShutdownPlan,
    readonly target: ShutdownTarget,
    private readonly forward: (signal: NodeJS.Signals) => void,
    readonly log: Logger,
  ) {
    this.wakeUp = new Promise((resolve) => (this.wake = resolve));
    void target.exited.then(() => {
      this.appExited = true;
      this.wake('app-exited');
    });
  }

  get phase(): Phase {
    return this.phaseNow;
  }

  private set phase(phase: Phase) {
    if (phase !== this.phaseNow && !this.phaseStarts.has(phase)) this.phaseStarts.set(phase, this.elapsed());
    this.phaseNow = phase;
  }

  /** seconds each phase of this shutdown lasted, the current one until now */
  phaseSeconds(): Map<Phase, number> {
    const starts = [...this.phaseStarts].sort(([, a], [, b]) => a - b);
    return new Map(starts.map(([phase, at], i) => [phase, ((starts[i + 1]?.[1] ?? this.elapsed()) - at) / 1000]));
  }

  get started(): boolean {
    return this.recordOrNull !== null;
  }

  /**
   * The app serves fully: before the shutdown and through its drain, until it is told to stop
   * (the first pre-stop action, the wait for idle connections, the stop signal). Kubernetes keeps
   * a terminating pod's endpoint with serving = its readiness, and sends it traffic while no ready
   * endpoint is left (KEP-1669, KEP-1672): 503 during the drain would black-hole that traffic.
   * With --unready-at-signal: not serving from the first stop signal on.
   */
  get serving(): boolean {
    if (!this.started) return true;
    // 'running': the first step (the drain) is about to begin
    return !this.plan.unreadyAtSignal && (this.phase === 'running' || this.phase === 'draining') && !this.interrupted();
  }

  get record(): ShutdownRecord {
    if (!this.recordOrNull) throw new Error('the shutdown has not started');
    return this.recordOrNull;
  }

  get summaryRecord(): ShutdownRecord | null {
    return this.recordOrNull;
  }

  /** the first stop signal, on the monotonic clock every step is timed on */
  get startedAt(): number {
    return this.startedAtMs;
  }

  elapsed(): number {
    return this.started ? monotonicMs() - this.startedAtMs : 0;
  }

  /** ms until the kill deadline, or null before the shutdown started */
  remaining(): number | null {
    return this.started ? Math.max(0, this.plan.killAfterMs - this.elapsed()) : null;
  }

  interrupted(): boolean {
    return this.hurried || this.appExited;
  }

  woken(): Promise<Woken> {
    return this.wakeUp;
  }

  /** Aborts when the app exits or a second stop signal hurries (for the traffic waits). */
  abortOnWake(): AbortSignal {
    const controller = new AbortController();
    if (this.interrupted()) controller.abort();
    else void this.wakeUp.then(() => controller.abort());
    return controller.signal;
  }

  /** Resolves at `atMs` after the first stop signal, or earlier when the app exits or a second stop signal hurries. */
  waitUntil(atMs: number): Promise<Woken> {
    if (this.interrupted()) return Promise.resolve(this.appExited ? 'app-exited' : 'hurried');
    let cancel = () => {};
    const time = new Promise<Woken>((resolve) => (cancel = atMonotonic(this.startedAtMs + atMs, () => resolve('time'))));
    return Promise.race([time, this.wakeUp]).finally(() => cancel());
  }

  /**
   * Waits at most `maxMs` for the pre-stop command still running when its step ended, so that its
   * result reaches the summary; true when there is none left.
   */
  async preStopSettled(maxMs: number): Promise<boolean> {
    if (!this.preStopRunning) return true;
    const stop = new AbortController();
    const late = sleepFor(maxMs, stop.signal).then(() => false);
    return Promise.race([this.preStopRunning.then(() => true), late]).finally(() => stop.abort());
  }

  /**
   * What the processes the app left get: during a shutdown the stop step's signal (what a
   * shell-form CMD's real app would have got as the app), TERM when there is none.
   */
  leftoverSignal(): NodeJS.Signals {
    if (!this.recordOrNull) return 'SIGTERM';
    return this.recordOrNull.stopSent?.signal ?? stopSignalFor(this.plan, this.received) ?? 'SIGTERM';
  }

  onStopSignal(signal: NodeJS.Signals): void {
    if (!this.started) {
      void this.run(signal, signal);
    } else if (!this.hurried && (this.phase === 'draining' || this.phase === 'pre-stop' || this.phase === 'waiting')) {
      this.log.debug(`second ${signal}: skipping to the stop step`, { phase: this.phase });
      this.hurried = true;
      this.wake('hurried');
    } else {
      this.forward(signal);
    }
  }

  /** GET /prestop: the same sequence, ending in the configured stop signal or TERM. */
  startFromHook(): void {
    if (!this.started) void this.run('GET /prestop', null);
  }

  private async run(trigger: string, received: NodeJS.Signals | null): Promise<void> {
    this.target.beginning();
    this.received = received;
    this.startedAtMs = monotonicMs();
    this.recordOrNull = { trigger, drainMs: null, drainEnd: null, preStop: [], idleEnd: null, stopSent: null, killedAtMs: null };
    this.cancelDeadline = atMonotonic(this.startedAtMs + this.plan.killAfterMs, () => this.kill());
    this.log.debug(`shutdown started by ${trigger}`, { ready: this.serving });
    for (const step of STEPS) {
      if (this.appExited || this.phase === 'killing') return;
      this.phase = step.phase;
      await step.run(this, received);
    }
  }

  /** The deadline: SIGKILL to the app and every process left. The only escalation there is. */
  private kill(): void {
    if (this.appExited) return;
    this.phase = 'killing';
    this.record.killedAtMs = this.elapsed();
    this.target.killEverything();
    this.log.debug('deadline: sent SIGKILL to the app and every process left');
  }

  dispose(): void {
    this.cancelDeadline();
  }
}
