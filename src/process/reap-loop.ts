import type { Native } from '../reaper/native.js';
import { REAP_OUT } from '../reaper/native-api.js';
import { ownedPids } from './owned-pids.js';

/**
 * Collects every exited child that libuv does not wait for: the app (spawned natively), orphans
 * that were reparented to us. Runs on SIGCHLD, and every second in case a SIGCHLD was merged with
 * one that libuv consumed. Allocation-free on that path.
 */
export class ReapLoop {
  private readonly out = new Int32Array(REAP_OUT.length);
  private watched: { pid: number; done: (rawStatus: number) => void } | null = null;
  private retry: NodeJS.Timeout | null = null;
  private readonly sweep: NodeJS.Timeout;
  reaped = 0;

  /** `onReaped`: told how many processes other than the watched one each pass collected (tini -w) */
  constructor(
    private readonly native: Native,
    private readonly onReaped?: (others: number) => void,
  ) {
    process.on('SIGCHLD', this.reap);
    this.sweep = setInterval(this.reap, 1000);
    this.sweep.unref();
  }

  /** Settles with the raw wait status of `pid`. While it runs, the sweep keeps the event loop alive. */
  watch(pid: number): Promise<number> {
    this.sweep.ref();
    const status = new Promise<number>((resolve) => {
      this.watched = {
        pid,
        done: (raw) => {
          this.sweep.unref();
          resolve(raw);
        },
      };
    });
    this.reap(); // it may have exited already
    return status;
  }

  /** Collects what has exited by now, without waiting for its SIGCHLD to come through the loop. */
  collect(): void {
    this.reap();
  }

  private readonly reap = (): void => {
    const out = this.out;
    out[REAP_OUT.watchedPid] = this.watched?.pid ?? 0;
    const collected = this.native.reap(ownedPids(), out);
    this.reaped += collected;
    const others = collected - (out[REAP_OUT.watchedDone] === 1 ? 1 : 0);
    if (others > 0) this.onReaped?.(others);
    if (out[REAP_OUT.watchedDone] === 1 && this.watched) {
      const { done } = this.watched;
      this.watched = null;
      done(out[REAP_OUT.watchedStatus] ?? 0);
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
