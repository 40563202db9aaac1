import { ALIAS_SIGNALS, FORWARDED_SIGNALS, IGNORED_SIGNALS } from './signals.js';

export type SignalHandler = (signal: NodeJS.Signals) => void;

/**
 * Installed first thing at start-up: PID 1 receives no signal it has no handler for, and one that
 * arrives before the app exists must not be lost. Signals are kept in arrival order until a handler is
 * attached, then delivered one by one, each exactly once.
 */
export class SignalInbox {
  private pending: NodeJS.Signals[] = [];
  private handler: SignalHandler | null = null;

  constructor() {
    // never removed: with a signal's last listener gone Node closes its uv_signal and libuv resets the
    // disposition to SIG_DFL, or installs its handler again over the native one (signals.c) later
    for (const signal of FORWARDED_SIGNALS) process.on(signal, this.receive);
    for (const signal of [...IGNORED_SIGNALS, ...ALIAS_SIGNALS]) process.on(signal, ignore);
  }

  private readonly receive = (signal: NodeJS.Signals): void => {
    if (this.handler) this.handler(signal);
    else this.pending.push(signal);
  };

  deliverTo(handler: SignalHandler): void {
    this.handler = handler;
    const queued = this.pending;
    this.pending = [];
    for (const signal of queued) handler(signal);
  }
}

function ignore(): void {}

/** Created as this module is first evaluated: main imports it before anything else. */
export const inbox = new SignalInbox();
