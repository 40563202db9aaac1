import { writeSync } from 'node:fs';
import { execa } from 'execa';
import { splitCommand } from './cli/split-command.js';
import type { Logger } from './log.js';
import { appEnvironment } from './process/app-env.js';
import { trackOwned, untrackOwned } from './process/owned-pids.js';

export interface PreStopResult {
  command: string;
  outcome: 'ok' | 'failed' | 'timed-out' | 'not-run';
  detail: string;
  durationMs: number;
}

/**
 * One pre-stop command, without a shell, output passed through line by line with a prefix.
 * Never rejects: whatever happens, the shutdown sequence goes on.
 */
export async function runPreStop(command: string, index: number, timeoutMs: number, log: Logger): Promise<PreStopResult> {
  const started = Date.now();
  const done = (outcome: PreStopResult['outcome'], detail: string): PreStopResult => ({
    command,
    outcome,
    detail,
    durationMs: Date.now() - started,
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
  const subprocess = execa(file, args, {
    stdin: 'ignore',
    // the app's environment: under the npm entry the init's own NODE_OPTIONS is not the app's
    env: appEnvironment(process.env),
    extendEnv: false,
    buffer: false,
    reject: false,
    // our own clean-up runs at exit; execa's would install signal-exit signal handlers of its own
    cleanup: false,
    timeout: Math.max(1, timeoutMs),
    forceKillAfterDelay: 1000,
  });
  if (subprocess.pid !== undefined) trackOwned(subprocess.pid);
  const prefix = `graceful-init: pre-stop ${index}: `;
  passLines(subprocess.stdout, 1, prefix);
  passLines(subprocess.stderr, 2, prefix);
  const result = await subprocess;
  if (subprocess.pid !== undefined) untrackOwned(subprocess.pid);

  if (result.timedOut) {
    log.warn(`pre-stop ${index}: "${command}" did not finish within ${timeoutMs}ms and was killed`);
    return done('timed-out', `killed after ${timeoutMs}ms`);
  }
  if (result.failed) {
    const code = (result as { code?: string }).code;
    const detail =
      code === 'ENOENT' ? `"${file}" not found` : result.signal ? `killed by ${result.signal}` : `exit ${result.exitCode ?? '?'}`;
    log.warn(`pre-stop ${index}: "${command}" failed: ${detail}; going on`);
    return done('failed', detail);
  }
  return done('ok', 'exit 0');
}

function passLines(stream: NodeJS.ReadableStream | null, fd: number, prefix: string): void {
  if (!stream) return;
  let partial = '';
  const write = (text: string) => {
    try {
      writeSync(fd, text);
    } catch {
      // the init's own stdio is gone; the command still runs
    }
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    if (lines.length > 0) write(lines.map((l) => prefix + l).join('\n') + '\n');
  });
  stream.on('end', () => {
    if (partial !== '') write(`${prefix}${partial}\n`);
  });
}
