import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** GI_BINARY_UNDER_TEST runs the suite against another build (an older one, to see a test fail). */
export const BINARY = process.env.GI_BINARY_UNDER_TEST ?? join(ROOT, 'dist', 'graceful-init');
/** The test build (src/test-hooks.ts): hooks read GI_TEST_* variables; the shipped binary has none. */
export const TEST_HOOKS_BINARY = join(ROOT, 'dist', 'test-hooks', 'graceful-init');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

const isRoot = process.getuid?.() === 0;
const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find(existsSync) ?? 'unshare';
const hasUnshare = UNSHARE !== 'unshare';

/**
 * Tests that need root and unshare run everywhere they can; in CI (CI=true) a missing requirement is
 * a failure, never a silent skip.
 */
export function pid1Available(): boolean {
  const ok = isRoot && hasUnshare;
  if (!ok && process.env.CI === 'true') {
    throw new Error('CI=true but PID-namespace tests cannot run here: they need root and unshare');
  }
  return ok;
}

/** pid1: PID 1 of a new PID namespace; pid1-noproc: the same with /proc unmounted; child: a plain child. */
export type Mode = 'pid1' | 'pid1-noproc' | 'child';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdin?: string | Buffer;
  timeoutMs?: number;
  /** the program to run instead of the built binary (TEST_HOOKS_BINARY; tini for the conformance suite) */
  binary?: string;
}

export interface Started {
  child: ChildProcess;
  /** the init's pid as seen from here (inside the namespace it is 1) */
  initPid(): Promise<number>;
  /** what the init and the app have written to stdout so far */
  stdout(): string;
  result: Promise<Result>;
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

const running = new Set<ChildProcess>();

/** Starts the built binary, as PID 1 of a new PID namespace or as a plain child. */
export function start(mode: Mode, args: string[], opts: RunOptions = {}): Started {
  const binary = opts.binary ?? BINARY;
  const [file, argv] =
    mode === 'pid1'
      ? [UNSHARE, ['--pid', '--fork', '--mount-proc', '--kill-child', binary, ...args]]
      : mode === 'pid1-noproc'
        ? [UNSHARE, ['--pid', '--fork', '--mount', '--propagation', 'private', '--kill-child', '/bin/sh', '-c', 'umount -l /proc && exec "$0" "$@"', binary, ...args]]
        : [binary, args];
  const child = spawn(file, argv, {
    env: opts.env ?? cleanEnv(),
    cwd: opts.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => out.push(b));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
  else child.stdin?.end();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killTree(child);
  }, opts.timeoutMs ?? 15_000);
  const result = new Promise<Result>((resolvePromise) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolvePromise({ code, signal, stdout: Buffer.concat(out), stderr, timedOut });
    });
  });
  const initPid = async () => {
    if (mode === 'child') return child.pid as number;
    // under unshare --fork the init is unshare's only child (for pid1-noproc: once sh has exec'd it)
    for (let i = 0; i < 200; i++) {
      const kids = childrenOf(child.pid as number);
      if (kids[0]) return kids[0];
      await sleep(10);
    }
    throw new Error('the init never appeared under unshare');
  };
  return { child, initPid, stdout: () => Buffer.concat(out).toString(), result };
}

export function run(mode: Mode, args: string[], opts: RunOptions = {}): Promise<Result> {
  return start(mode, args, opts).result;
}

export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function descendantsOf(pid: number): number[] {
  const all: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const kid of childrenOf(queue.pop() as number)) {
      all.push(kid);
      queue.push(kid);
    }
  }
  return all;
}

export function killTree(child: ChildProcess): void {
  if (!child.pid) return;
  for (const pid of [...descendantsOf(child.pid).reverse(), child.pid]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** For afterEach: nothing a test started may outlive it. */
export function killAll(): void {
  for (const child of running) killTree(child);
  running.clear();
}

/** The environment the init gets: ours without GRACEFUL_INIT_* and NODE_OPTIONS, plus `extra`. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('GRACEFUL_INIT_') && k !== 'NODE_OPTIONS' && !k.startsWith('VITEST') && k !== 'CI') env[k] = v;
  }
  return { ...env, ...extra };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns a value (not undefined/false), or throws after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function tempDir(): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), 'gi-test-'));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The non-empty lines of `file`: what a fixture logged so far (none while it does not exist). */
export const lines = (file: string): string[] => readText(file).split('\n').filter(Boolean);

export const MODES: Mode[] = ['pid1', 'child'];

/** The app that logs every signal it gets, one name a line (test/fixtures/signal-logger.sh). */
export const SIGNAL_LOGGER = join(FIXTURES, 'signal-logger.sh');

/**
 * The signal logger as the app under the init (`args` before `--`), ending on `stopOn` (TERM by
 * default). Once it is ready, `act` gets the init's pid and what the app has logged so far, and sends
 * what the test needs; the result is what the app logged and how the init ended.
 */
export async function underSignalLogger(
  mode: Mode,
  args: string[],
  act: (pid: number, logged: () => string[]) => Promise<void>,
  stopOn?: string,
): Promise<{ logged: string[]; result: Result }> {
  const dir = tempDir();
  try {
    const log = join(dir.path, 'signals');
    const logged = () => lines(log);
    const init = start(mode, [...args, '--', SIGNAL_LOGGER, log, ...(stopOn ? [stopOn] : [])]);
    const pid = await init.initPid();
    await waitFor('the app to be ready', () => logged().includes('ready'));
    await act(pid, logged);
    const result = await init.result;
    return { logged: logged(), result };
  } finally {
    dir.cleanup();
  }
}

/** A free TCP port on 127.0.0.1 (bound and released; good enough for tests that start at once). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** GET http://127.0.0.1:port/path → status code, or an error name such as ECONNREFUSED. */
export async function httpGet(port: number, path: string, timeoutMs = 5000): Promise<{ status: number | string; body: string }> {
  const { get } = await import('node:http');
  return new Promise((resolveGet) => {
    const req = get({ host: '127.0.0.1', port, path, timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
      res.on('error', (e: NodeJS.ErrnoException) => resolveGet({ status: e.code ?? 'ERROR', body }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolveGet({ status: e.code ?? 'ERROR', body: '' }));
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readText(`/proc/${pid}/stat`).includes(') Z');
  } catch {
    return false;
  }
}

/**
 * For processes a test starts outside `start()` (through script(1) or a shell that goes away): tag
 * them with an environment variable, then kill whatever still carries the tag.
 */
export function markedEnv(mark: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cleanEnv({ ...extra, GI_TEST_MARK: mark });
}

export function killMarked(mark: string): void {
  const needle = `GI_TEST_MARK=${mark}\0`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(needle)) process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone, or not ours to read
    }
  }
}

/** What `scripts/bundle.mjs --json` reports (the fields the tests use). */
export interface Bundle {
  tarball: string;
  version: string;
  arch: string;
  files: { path: string; type: string; mode: string; size: number }[];
}

/**
 * The portable bundle for `arch`: x64 is made before the run (test/global-setup.ts) and reused here;
 * arm64 is made from an existing `npm run build:arm64` when older than it. Never builds.
 */
export function ensureBundle(arch: 'x64' | 'arm64' = 'x64'): Bundle {
  const args = [join(ROOT, 'scripts', 'bundle.mjs'), '--arch', arch, '--no-build', '--if-stale', '--json'];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 170_000 });
  if (r.status !== 0) throw new Error(`scripts/bundle.mjs --arch ${arch} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Bundle;
}
