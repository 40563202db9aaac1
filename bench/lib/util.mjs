// Small helpers shared by the suites: statistics, sleeping, a line reader on a child's stdout.
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Nanoseconds on CLOCK_MONOTONIC (libuv's hrtime), comparable with the C helpers' clock_gettime. */
export const nowNs = () => process.hrtime.bigint();

export function quantile(values, q) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  // nearest-rank on the sorted samples, interpolated between neighbours
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export const median = (values) => quantile(values, 0.5);

/** The list started at index r (mod length): round r of an interleaved run goes B, C, A instead
 * of A, B, C, so that no init always runs right after the same one. */
export function rotate(list, r) {
  if (list.length === 0) return list;
  const k = r % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/**
 * Collects the lines a child writes on one stream and lets a suite wait for the next line that
 * matches, with a timeout. Lines are consumed in order: a waiter never sees a line twice.
 */
export class Lines {
  constructor(stream) {
    this.buffer = '';
    this.queue = [];
    this.waiters = [];
    this.all = [];
    this.closed = false;
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      this.buffer += chunk;
      let nl;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.all.push(line);
        this.queue.push(line);
      }
      this.pump();
    });
    stream.on('close', () => {
      this.closed = true;
      this.pump();
    });
  }

  pump() {
    while (this.waiters.length > 0) {
      const waiter = this.waiters[0];
      const idx = this.queue.findIndex(waiter.match);
      if (idx >= 0) {
        const [line] = this.queue.splice(0, idx + 1).slice(-1);
        this.waiters.shift();
        clearTimeout(waiter.timer);
        waiter.resolve(line);
      } else if (this.closed) {
        this.waiters.shift();
        clearTimeout(waiter.timer);
        waiter.resolve(null);
      } else {
        break;
      }
    }
  }

  /** The next line starting with `prefix` (earlier non-matching lines are dropped), or null. */
  next(prefix, timeoutMs) {
    return new Promise((resolve) => {
      const waiter = { match: (line) => line.startsWith(prefix), resolve, timer: null };
      waiter.timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(null);
      }, timeoutMs);
      this.waiters.push(waiter);
      this.pump();
    });
  }
}

export function childrenOf(pid) {
  const kids = new Set();
  let tasks;
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const tid of tasks) {
    try {
      for (const kid of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) {
        if (kid) kids.add(Number(kid));
      }
    } catch {
      // the thread is gone
    }
  }
  return [...kids];
}

export function descendantsOf(pid) {
  const found = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const kid of childrenOf(queue.pop())) {
      found.push(kid);
      queue.push(kid);
    }
  }
  return found;
}

/** Fields of /proc/<pid>/status in kB (VmRSS, VmHWM, RssAnon, RssFile), or null when gone. */
export function memoryOf(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const field = (name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM'), anonKb: field('RssAnon'), fileKb: field('RssFile') };
}

/** CPU time a process has used so far, all threads, in ms (from /proc/<pid>/task/<tid>/schedstat). */
export function cpuMsOf(pid) {
  let total = 0;
  let tasks;
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  for (const tid of tasks) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended
    }
  }
  return total / 1e6;
}

export function tryKill(pid, signal = 'SIGKILL') {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Rounds a number for display: 3 significant digits, at most 2 decimals. */
export function fmt(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
