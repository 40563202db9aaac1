import { join } from 'node:path';
import { childrenOf, sleep, waitFor, type Mode, type Started } from '../e2e/harness.js';
import { lines, linesAtLeast, startInit, startWrapped } from './target.js';

export const LOGGER = join(import.meta.dirname, 'fixtures', 'log-signals.sh');

export interface Logged {
  init: Started;
  pid: number;
  log: string;
  appPid: number;
}

export async function startLogger(mode: Mode, dir: string, trapped: number[], flags: string[] = [], wrapper?: string[]): Promise<Logged> {
  const log = join(dir, 'signals');
  const command = [LOGGER, log, ...trapped.map(String)];
  const init = wrapper ? startWrapped(mode, wrapper, flags, command) : startInit(mode, flags, command);
  const pid = await init.initPid();
  await waitFor('the app to be ready', () => lines(log).includes('ready'), 15_000);
  // the app's pid as seen from here (it wrote its own, which inside a PID namespace is another number)
  const appPid = await waitFor('the app', () => childrenOf(pid)[0]);
  return { init, pid, log, appPid };
}

/** Sends each signal and waits for the app to log it before the next, so the kernel cannot merge two. */
export async function sendEach(l: { log: string; pid: number }, signals: number[]): Promise<void> {
  const base = lines(l.log).length;
  for (const [i, sig] of signals.entries()) {
    try {
      process.kill(l.pid, sig);
    } catch {
      return; // the init is gone: what the app logged tells the rest
    }
    await linesAtLeast(l.log, base + i + 1, `signal ${sig} to reach the app`, 5000).catch(() => undefined);
  }
  // anything sent twice would show up by now
  await sleep(300);
}

