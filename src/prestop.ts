import type { Readable } from 'node:stream';
import { atMonotonic, monotonicMs, sleepFor } from './clock.js';
import { parseHttpAction, shownPreStop, type HttpAction } from './cli/http-action.js';
import { splitCommand } from './cli/split-command.js';
import type { Logger } from './log.js';
import { writerFor } from './output/fd-writer.js';
import { PrefixedLines, type LineFormat } from './output/prefixed-lines.js';
import { appEnvironment } from './process/app-env.js';
import { loadExeca } from './process/execa-chunk.js';
import { trackOwned, untrackOwned } from './process/owned-pids.js';
import { noteOwnConnection } from './traffic/own-connections.js';

export interface PreStopResult {
  command: string;
  outcome: 'ok' | 'failed' | 'timed-out' | 'not-run';
  /** bounded, one line: "exit 3", "killed by SIGSEGV", "could not start: EAGAIN", ... */
  detail: string;
  durationMs: number;
  /** output lines longer than 4 KiB, written cut with a marker */
  cutLines: number;
  /** output lines the init could not write at once (its stdout/stderr full) and dropped */
  droppedLines: number;
}

/** After the action ends, how long its output is still read (a background process may hold the pipe). */
const DRAIN_AFTER_END_MS = 100;

/** What an action came to, when it ended by itself. */
interface Ended {
  outcome: 'ok' | 'failed';
  detail: string;
}

/** One action under way: a command or an HTTP request, seen the same way by runPreStop. */
interface Running {
  /** its output being passed through (an HTTP answer's body joins once it arrives) */
  readonly streams: Passing[];
  ended: Promise<Ended>;
  /** at the timeout: stops it; what to say, in the warning and the summary */
  abandon(timeoutMs: number): { warning: string; detail: string };
}

type Output = (fd: 1 | 2) => LineFormat;

/**
 * One pre-stop action, its output passed through line by line with a prefix: a command (without a
 * shell, in a process group of its own) or an HTTP request on loopback (`POST http://127.0.0.1:…`,
 * a non-2xx answer counting as a failure). It ends when the command exits (whatever still holds its
 * output) or the answer is complete, or at `timeoutMs`, when the command's whole process group gets
 * SIGKILL or the request is given up. Never rejects.
 */
export async function runPreStop(line: string, index: number, timeoutMs: number, log: Logger): Promise<PreStopResult> {
  const started = monotonicMs();
  const command = shownPreStop(line);
  let cutLines = 0;
  let droppedLines = 0;
  const done = (outcome: PreStopResult['outcome'], detail: string): PreStopResult => ({
    command,
    outcome,
    detail,
    durationMs: monotonicMs() - started,
    cutLines,
    droppedLines,
  });
  const output: Output = (fd) => log.outputLines(`pre-stop ${index}`, { prestop: index, stream: fd === 1 ? 'stdout' : 'stderr' });
  let running: Running;
  try {
    const http = parseHttpAction(line);
    log.debug(`pre-stop ${index}: running`, { command });
    running = http ? requestAction(http, output) : await startCommand(splitCommand(line), output);
  } catch (err) {
    log.warn(`pre-stop ${index}: cannot parse: ${(err as Error).message}`);
    return done('not-run', (err as Error).message);
  }

  const ending = await new Promise<Ended | null>((resolve) => {
    const cancel = atMonotonic(started + timeoutMs, () => resolve(null));
    void running.ended.then((e) => {
      cancel();
      resolve(e);
    });
  });
  const abandoned = ending === null ? running.abandon(timeoutMs) : null;
  const drained = new AbortController();
  await Promise.race([Promise.all(running.streams.map((s) => s.ended)), sleepFor(DRAIN_AFTER_END_MS, drained.signal)]);
  drained.abort();
  for (const s of running.streams) {
    s.stop();
    cutLines += s.lines.cutLines;
    droppedLines += s.dropped();
  }

  if (abandoned) {
    log.warn(`pre-stop ${index}: "${command}" ${abandoned.warning}`);
    return done('timed-out', abandoned.detail);
  }
  const { outcome, detail } = ending as Ended;
  if (outcome !== 'ok') log.warn(`pre-stop ${index}: "${command}" failed: ${detail}; going on`);
  return done(outcome, detail);
}

type Exit = { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null } | { kind: 'spawn-error'; code: string };

async function startCommand([file, ...args]: string[], output: Output): Promise<Running> {
  const { execa } = await loadExeca();
  const subprocess = execa(file as string, args, {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    // the app's environment: under the npm entry the init's own NODE_OPTIONS is not the app's
    env: appEnvironment(process.env),
    extendEnv: false,
    buffer: false,
    reject: false,
    // our own clean-up runs at exit; execa's would install signal-exit signal handlers of its own
    cleanup: false,
    // a process group (and session) of its own: a timeout kills the command and all it started
    detached: true,
  });
  // settles with a result, never rejects (reject: false); the step does not wait for it
  void subprocess.then(
    () => {},
    () => {},
  );
  const pid = subprocess.pid;
  if (pid !== undefined) {
    trackOwned(pid);
    // libuv collects it; until then the native reaper must leave it alone, even after the step ended
    subprocess.once('exit', () => untrackOwned(pid));
  }
  const exited = new Promise<Exit>((resolve) => {
    subprocess.once('exit', (code, signal) => resolve({ kind: 'exit', code, signal }));
    subprocess.once('error', (err: NodeJS.ErrnoException) => {
      // after a successful spawn an 'error' is about signalling it, not its end
      if (subprocess.pid === undefined) resolve({ kind: 'spawn-error', code: err.code ?? 'unknown error' });
    });
    if (pid === undefined) {
      // execa met a synchronous spawn failure and stands in a child that never emits 'exit'
      subprocess.then(
        (r) => resolve({ kind: 'spawn-error', code: (r as { code?: string }).code ?? 'unknown error' }),
        (e: NodeJS.ErrnoException) => resolve({ kind: 'spawn-error', code: e.code ?? 'unknown error' }),
      );
    }
  });
  return {
    streams: [pass(subprocess.stdout, 1, output(1)), pass(subprocess.stderr, 2, output(2))],
    ended: exited.then((e): Ended => {
      if (e.kind === 'spawn-error') return { outcome: 'failed', detail: e.code === 'ENOENT' ? `"${file}" not found` : `could not start: ${e.code}` };
      if (e.code === 0) return { outcome: 'ok', detail: 'exit 0' };
      return { outcome: 'failed', detail: e.signal ? `killed by ${e.signal}` : e.code !== null ? `exit ${e.code}` : 'exit status unknown' };
    }),
    abandon(ms) {
      if (pid !== undefined) killGroup(pid);
      return { warning: `did not finish within ${ms}ms and was killed, with its process group`, detail: `killed after ${ms}ms` };
    },
  };
}

/**
 * The request, with no agent, proxy or keep-alive; the answer's body goes to stdout like a
 * command's output. node:http only now: it costs start-up time and memory.
 */
function requestAction(action: HttpAction, output: Output): Running {
  const streams: Passing[] = [];
  const headers: Record<string, string> = { 'user-agent': 'graceful-init' };
  if (action.method !== 'GET' && action.method !== 'HEAD') headers['content-length'] = '0';
  if (action.credentials !== null) headers.authorization = `Basic ${Buffer.from(action.credentials).toString('base64')}`;
  const request = process.getBuiltinModule('node:http').request({ host: action.host, port: action.port, path: action.path, method: action.method, headers, agent: false });
  request.once('socket', noteOwnConnection);
  const ended = new Promise<Ended>((resolve) => {
    request.once('response', (response) => {
      const status = response.statusCode ?? 0;
      const body = pass(response, 1, output(1));
      streams.push(body);
      void body.ended.then(() => resolve({ outcome: status >= 200 && status < 300 ? 'ok' : 'failed', detail: `HTTP ${status}` }));
    });
    request.once('error', (err: NodeJS.ErrnoException) => resolve({ outcome: 'failed', detail: `no answer: ${err.code ?? err.message}` }));
  });
  request.end();
  return {
    streams,
    ended,
    abandon(ms) {
      request.destroy();
      return { warning: `had no complete answer within ${ms}ms and was given up`, detail: `no answer after ${ms}ms` };
    },
  };
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

interface Passing {
  lines: PrefixedLines;
  /** settles when the stream ended (EOF, error or stop) */
  ended: Promise<void>;
  /** stops reading: what is still unread is discarded, a partial last line is written */
  stop(): void;
  dropped(): number;
}

function pass(stream: Readable | null | undefined, fd: 1 | 2, format: LineFormat): Passing {
  const out = writerFor(fd);
  let dropped = 0;
  const lines = new PrefixedLines(format, (chunk) => {
    if (!out.write(chunk)) dropped += countLines(chunk);
  });
  let finished = false;
  let markEnded: () => void = () => {};
  const ended = new Promise<void>((resolve) => (markEnded = resolve));
  const finish = () => {
    if (finished) return;
    finished = true;
    lines.end();
    markEnded();
  };
  if (!stream) finish();
  else {
    stream.on('data', (chunk: Buffer) => {
      if (!finished) lines.push(chunk);
    });
    stream.once('end', finish);
    stream.once('close', finish);
    stream.on('error', finish);
  }
  return {
    lines,
    ended,
    stop() {
      finish();
      stream?.destroy();
    },
    dropped: () => dropped,
  };
}

function countLines(chunk: Buffer): number {
  let n = 0;
  for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}
