import type { Readable } from 'node:stream';
import { atMonotonic, monotonicMs } from './clock.js';
import { splitCommand } from './cli/split-command.js';
import type { Logger } from './log.js';
import { writerFor } from './output/fd-writer.js';
import { PrefixedLines, type LineFormat } from './output/prefixed-lines.js';
import { appEnvironment } from './process/app-env.js';
import { loadExeca } from './process/execa-chunk.js';
import { trackOwned, untrackOwned } from './process/owned-pids.js';

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

/** After the command exits, how long its output is still read (a background process may hold the pipe). */
const DRAIN_AFTER_EXIT_MS = 100;

type Ending =
  | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'spawn-error'; code: string }
  | { kind: 'timeout' };

/**
 * One pre-stop command, without a shell, in a process group of its own, its output passed through
 * line by line with a prefix. The step ends when the command exits (whatever still holds its output)
 * or at `timeoutMs`, when its whole process group gets SIGKILL. Never rejects.
 */
export async function runPreStop(command: string, index: number, timeoutMs: number, log: Logger): Promise<PreStopResult> {
  const started = monotonicMs();
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
  let argv: string[];
  try {
    argv = splitCommand(command);
  } catch (err) {
    log.warn(`pre-stop ${index}: cannot parse: ${(err as Error).message}`);
    return done('not-run', (err as Error).message);
  }
  const [file, ...args] = argv as [string, ...string[]];
  log.debug(`pre-stop ${index}: running`, { command });
  const { execa } = await loadExeca();
  const subprocess = execa(file, args, {
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

  const streams = [
    pass(subprocess.stdout, 1, log.outputLines(`pre-stop ${index}`, { prestop: index, stream: 'stdout' })),
    pass(subprocess.stderr, 2, log.outputLines(`pre-stop ${index}`, { prestop: index, stream: 'stderr' })),
  ];

  const ending = await new Promise<Ending>((resolve) => {
    const cancel = atMonotonic(started + timeoutMs, () => resolve({ kind: 'timeout' }));
    const settle = (e: Ending) => {
      cancel();
      resolve(e);
    };
    subprocess.once('exit', (code, signal) => settle({ kind: 'exit', code, signal }));
    subprocess.once('error', (err: NodeJS.ErrnoException) => {
      // after a successful spawn an 'error' is about signalling it, not its end
      if (subprocess.pid === undefined) settle({ kind: 'spawn-error', code: err.code ?? 'unknown error' });
    });
    if (pid === undefined) {
      // execa met a synchronous spawn failure and stands in a child that never emits 'exit'
      subprocess.then(
        (r) => settle({ kind: 'spawn-error', code: (r as { code?: string }).code ?? 'unknown error' }),
        (e: NodeJS.ErrnoException) => settle({ kind: 'spawn-error', code: e.code ?? 'unknown error' }),
      );
    }
  });

  if (ending.kind === 'timeout' && pid !== undefined) killGroup(pid);
  await Promise.race([Promise.all(streams.map((s) => s.ended)), new Promise((r) => setTimeout(r, DRAIN_AFTER_EXIT_MS))]);
  for (const s of streams) {
    s.stop();
    cutLines += s.lines.cutLines;
    droppedLines += s.dropped();
  }

  if (ending.kind === 'timeout') {
    log.warn(`pre-stop ${index}: "${command}" did not finish within ${timeoutMs}ms and was killed, with its process group`);
    return done('timed-out', `killed after ${timeoutMs}ms`);
  }
  if (ending.kind === 'spawn-error') {
    const detail = ending.code === 'ENOENT' ? `"${file}" not found` : `could not start: ${ending.code}`;
    log.warn(`pre-stop ${index}: "${command}" failed: ${detail}; going on`);
    return done('failed', detail);
  }
  if (ending.code === 0) return done('ok', 'exit 0');
  const detail = ending.signal ? `killed by ${ending.signal}` : ending.code !== null ? `exit ${ending.code}` : 'exit status unknown';
  log.warn(`pre-stop ${index}: "${command}" failed: ${detail}; going on`);
  return done('failed', detail);
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
