// Runs a command line as PID 1 of a fresh PID namespace:
//   unshare --pid --fork --mount-proc --kill-child [timed] stamp INIT... APP...
// and gives the suites its output lines and the host-side pids of the init and of the app.
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { childrenOf, descendantsOf, Lines, sleep, tryKill } from './util.mjs';

export class Namespace {
  /**
   * @param ctx   { unshare, helpers }
   * @param argv  the init's command line (what becomes PID 1)
   * @param opts  { timed: wrap unshare in bench/c/timed, stamp: exec through bench/c/stamp,
   *                net: a network namespace of its own too (only loopback, down: the caller brings it up) }
   */
  constructor(ctx, argv, opts = {}) {
    const inner = opts.stamp === false ? argv : [ctx.helpers.stamp, ...argv];
    const ns = [ctx.unshare, '--pid', '--fork', '--mount-proc', '--kill-child', ...(opts.net ? ['--net'] : []), ...inner];
    const full = opts.timed ? [ctx.helpers.timed, ...ns] : ns;
    this.argv = argv;
    this.child = spawn(full[0], full.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? benchEnv(),
    });
    this.timed = Boolean(opts.timed);
    this.stderr = '';
    this.child.stderr.on('data', (b) => {
      if (this.stderr.length < 20000) this.stderr += b.toString();
    });
    this.lines = new Lines(this.child.stdout);
    this.done = false;
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.done = true;
        resolve({ code, signal });
      });
    });
    this.initPidCache = null;
  }

  /** the unshare process (child of `timed` when timed) */
  unsharePid() {
    if (!this.timed) return this.child.pid;
    return childrenOf(this.child.pid)[0] ?? null;
  }

  /** The init as seen from here (PID 1 inside). Call once the app has said it is ready. */
  async initPid() {
    if (this.initPidCache) return this.initPidCache;
    for (let i = 0; i < 300; i++) {
      const u = this.unsharePid();
      const pid = u ? childrenOf(u)[0] : undefined;
      if (pid) {
        this.initPidCache = pid;
        return pid;
      }
      await sleep(5);
    }
    throw new Error(`no init under unshare for ${this.argv.join(' ')}`);
  }

  /** The process running `exe` among the init's descendants (host pid), or null. */
  async appPid(exe) {
    const init = await this.initPid();
    for (let i = 0; i < 300; i++) {
      for (const pid of descendantsOf(init)) {
        try {
          if (readlinkSync(`/proc/${pid}/exe`) === exe) return pid;
        } catch {
          // gone or not ours
        }
      }
      await sleep(5);
    }
    return null;
  }

  /** Waits for the namespace to end; SIGKILLs the init (which ends every process in it) after ms. */
  async finish(ms) {
    const timer = setTimeout(() => this.kill(), ms);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  /**
   * SIGKILLs the init, which ends every process of the namespace; unshare then collects it and
   * exits. Only if that has not happened within 2 s are unshare (and timed) killed as well: killed
   * first, they would leave the init a zombie for the host's PID 1.
   */
  kill() {
    if (this.done) return;
    const u = this.unsharePid();
    const init = this.initPidCache ?? (u ? childrenOf(u)[0] : undefined);
    if (init) tryKill(init, 'SIGKILL');
    const fallback = setTimeout(() => {
      if (u) tryKill(u, 'SIGKILL');
      tryKill(this.child.pid, 'SIGKILL');
    }, init ? 2000 : 0);
    fallback.unref();
    void this.exited.then(() => clearTimeout(fallback));
  }
}

/** Our environment without anything that would change an init's behaviour. */
export function benchEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GRACEFUL_INIT_') || k.startsWith('TINI_') || k.startsWith('DUMB_INIT_') || k === 'NODE_OPTIONS') continue;
    if (k.startsWith('npm_')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Parses "key <int> <int> ..." into BigInts / numbers. */
export function fields(line) {
  return line ? line.trim().split(/\s+/).slice(1) : [];
}
