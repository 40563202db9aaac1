import type { Logger } from '../log.js';
import { loadReaper } from '../reaper/load.js';
import { REAP_OUT, type NativeReaper } from '../reaper/native-api.js';
import { signalName, signalNumber } from '../signals.js';
import { LaunchError, resolveOrThrow, spawnWithLibuv, type App, type LaunchRequest } from './app.js';
import type { AppExit } from './exit-status.js';
import { ownedPids, trackOwned, untrackOwned } from './owned-pids.js';

export interface SupervisorOptions {
  requireReaper: boolean;
  reaperPath: string | null;
  subreaper: boolean;
  pdeathSignal: NodeJS.Signals | null;
}

/** A start-up problem that ends the init with exit 1 (e.g. --require-reaper without a reaper). */
export class SetupError extends Error {}

/**
 * Everything about our children: the native reaper (zombies), the subreaper bit, the parent-death
 * signal, and spawning the app. With the addon the app is forked natively (own process group,
 * terminal foreground) and collected by our own waitid loop; without it, libuv spawns and waits.
 */
export class Supervisor {
  private readonly reaper: NativeReaper | null;
  private readonly out = new Int32Array(REAP_OUT.length);
  private watched: { pid: number; done: (exit: AppExit) => void } | null = null;
  private retry: NodeJS.Timeout | null = null;
  private sweep: NodeJS.Timeout | null = null;

  constructor(options: SupervisorOptions, private readonly log: Logger) {
    const loaded = loadReaper({ explicitPath: options.reaperPath ?? undefined });
    if (loaded.reaper) {
      this.reaper = loaded.reaper;
      log.debug('native reaper loaded', { from: loaded.from });
    } else {
      const why = loaded.reasons.join('; ');
      if (options.requireReaper) throw new SetupError(`cannot load the native reaper (${why}); remove --require-reaper to run without it`);
      this.reaper = null;
      log.warn(`zombie reaping is OFF: cannot load the native reaper (${why}); orphaned processes will pile up as zombies`);
    }
    this.becomeSubreaper(options.subreaper);
    if (options.pdeathSignal) this.setParentDeathSignal(options.pdeathSignal);
    if (this.reaper) {
      process.on('SIGCHLD', this.reap);
      // A safety sweep in case a SIGCHLD was merged with one libuv consumed. While a natively spawned
      // app runs, it also keeps the event loop alive: signal listeners do not, and no libuv handle does.
      this.sweep = setInterval(this.reap, 1000);
      this.sweep.unref();
    }
  }

  private becomeSubreaper(required: boolean): void {
    if (process.pid === 1) return;
    const ok = this.reaper?.setChildSubreaper() ?? false;
    if (ok) {
      this.log.debug('registered as child subreaper');
      return;
    }
    const why = this.reaper ? (this.reaper.lastError ?? 'refused') : 'no native reaper';
    if (required) throw new SetupError(`--subreaper: cannot register as child subreaper (${why})`);
    this.log.warn(`not PID 1 and not a subreaper (${why}): orphans of the app will not come back to the init`);
  }

  private setParentDeathSignal(signal: NodeJS.Signals): void {
    if (!this.reaper?.setParentDeathSignal(signalNumber(signal))) {
      throw new SetupError(`--pdeath-signal: cannot set it (${this.reaper ? (this.reaper.lastError ?? 'refused') : 'no native reaper'})`);
    }
  }

  spawnApp(request: LaunchRequest): App {
    if (!this.reaper) {
      const app = spawnWithLibuv(request);
      trackOwned(app.pid);
      void app.exited.then(() => untrackOwned(app.pid));
      return app;
    }
    const file = resolveOrThrow(request);
    const terminal = this.reaper.isTerminal(0);
    const newGroup = request.processGroup || terminal;
    let pid: number;
    try {
      pid = this.reaper.spawn({
        file,
        argv: [...request.command],
        env: Object.entries(request.env).map(([k, v]) => `${k}=${v ?? ''}`),
        newProcessGroup: newGroup,
        foreground: terminal,
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new LaunchError(code === 'ENOENT' ? 127 : 126, `cannot run "${request.command[0]}": ${code} (${(err as Error).message})`);
    }
    this.sweep?.ref();
    const exited = new Promise<AppExit>((resolve) => {
      this.watched = {
        pid,
        done: (exit) => {
          this.sweep?.unref();
          if (terminal) this.reaper?.setForeground(0, this.reaper.getProcessGroup());
          resolve(exit);
        },
      };
    });
    // the app may have exited before we started watching for it
    this.reap();
    return { pid, signalTarget: request.processGroup ? -pid : pid, exited };
  }

  /** Collects every exited child that libuv does not own. Runs on SIGCHLD; allocation-free. */
  private readonly reap = (): void => {
    if (!this.reaper) return;
    const out = this.out;
    out[REAP_OUT.watchedPid] = this.watched?.pid ?? 0;
    this.reaper.reap(ownedPids(), out);
    if (out[REAP_OUT.watchedDone] === 1 && this.watched) {
      const signaled = out[REAP_OUT.watchedSignaled] === 1;
      const value = out[REAP_OUT.watchedCode] ?? 0;
      const signal = signaled ? (signalName(value) ?? null) : null;
      const { done } = this.watched;
      this.watched = null;
      done({ status: signaled ? 128 + value : value, code: signaled ? null : value, signal });
    }
    // an exited child of libuv's stands first in line: once libuv has collected it, look again
    if (out[REAP_OUT.blockedBy] !== 0 && !this.retry) {
      this.retry = setTimeout(() => {
        this.retry = null;
        this.reap();
      }, 5);
    }
  };
}
