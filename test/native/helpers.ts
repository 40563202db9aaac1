// Shared helpers for the native reaper tests (real processes, /proc inspection).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { REAP_OUT } from '../../src/reaper/native-api.js';
import type { Native } from '../../src/reaper/native.js';
import { decodeWaitStatus } from './wait-status.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** what scripts/build-addon.mjs produces (before the run: test/global-setup.ts) */
export const DIST_ADDON = join(ROOT, 'dist', 'reaper.node');
/** REAPER_TEST_ADDON=<file> tests another build (e.g. a deliberately broken copy) without rebuilding */
export const ADDON = process.env.REAPER_TEST_ADDON ?? DIST_ADDON;
/** the pinned Node 24 used for helper processes */
export const PINNED_NODE = join(ROOT, 'node_modules', '.bin', 'node');
export const FIXTURES = join(import.meta.dirname, 'fixtures');
export const EMPTY = new Int32Array(0);

/**
 * loadNative() (src/reaper/load.ts, with the typed wrapper it returns) and REAP_OUT bundled into
 * one ES module at `outfile`, for the Node processes the tests start: fixtures import it from
 * GRACEFUL_INIT_LOADER (fixtures/native.mjs).
 */
export function bundleLoader(outfile: string): string {
  buildSync({
    stdin: {
      contents: `export { loadNative } from './load.ts';\nexport { REAP_OUT } from './native-api.ts';\n`,
      resolveDir: join(ROOT, 'src', 'reaper'),
      sourcefile: 'loader-bundle.ts',
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

/** A missing tool is a skip locally, a failure in CI (CI=true). */
export function available(what: string, ok: boolean): boolean {
  if (!ok && process.env.CI === 'true') throw new Error(`CI=true but ${what} is not available`);
  return ok;
}

export interface ProcStat {
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  tpgid: number;
}

export function procStat(pid: number | 'self'): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    state: f[0] ?? '?',
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    session: Number(f[3]),
    tpgid: Number(f[5]),
  };
}

/** Children of this process according to /proc (pid + state letter). */
export function myChildren(): { pid: number; state: string }[] {
  const me = process.pid;
  const res: { pid: number; state: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = procStat(Number(entry));
    if (st && st.ppid === me) res.push({ pid: Number(entry), state: st.state });
  }
  return res;
}

/** SigBlk / SigIgn / SigCgt masks from /proc/<pid>/status. */
export function signalMasks(pid: number | 'self'): { blocked: bigint; ignored: bigint; caught: bigint } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (key: string): bigint => {
    const m = new RegExp(`^${key}:\\s*([0-9a-f]+)$`, 'm').exec(text);
    if (!m?.[1]) throw new Error(`no ${key} in /proc/${pid}/status`);
    return BigInt(`0x${m[1]}`);
  };
  return { blocked: get('SigBlk'), ignored: get('SigIgn'), caught: get('SigCgt') };
}

export function hasSignal(mask: bigint, signo: number): boolean {
  return ((mask >> BigInt(signo - 1)) & 1n) === 1n;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Collected {
  /** the raw wait status */
  status: number;
  /** 1 when killed by a signal, else 0 */
  signaled: number;
  /** the exit code, or the signal number when signaled */
  code: number;
}

/** A raw wait status as the old decoded slots: { signaled, code }. */
export function collected(status: number): Collected {
  const s = decodeWaitStatus(status);
  if (s.kind === 'exited') return { status, signaled: 0, code: s.code };
  if (s.kind === 'signaled') return { status, signaled: 1, code: s.signal };
  return { status, signaled: -1, code: -1 };
}

/**
 * Poll reap() until `pid` is collected (bounded). On timeout the pid is killed and
 * the call throws. Other exited non-owned children are collected on the way.
 */
export async function reapUntil(
  native: Native,
  pid: number,
  opts: { owned?: Int32Array; timeoutMs?: number } = {},
): Promise<Collected> {
  const out = new Int32Array(REAP_OUT.length);
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  for (;;) {
    out[REAP_OUT.watchedPid] = pid;
    native.reap(opts.owned ?? EMPTY, out);
    if (out[REAP_OUT.watchedDone] === 1) return collected(out[REAP_OUT.watchedStatus] ?? -1);
    if (Date.now() > deadline) {
      killQuietly(pid);
      throw new Error(`pid ${pid} was not collected within ${opts.timeoutMs ?? 5000} ms`);
    }
    await sleep(5);
  }
}

export function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Resolves with `what` or rejects after ms (never leaves a test hanging). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function toolExists(path: string): boolean {
  return existsSync(path);
}
