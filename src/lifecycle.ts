import type { Server } from 'node:http';
import { formatDuration } from './cli/duration.js';
import type { Options } from './cli/options.js';
import type { Logger } from './log.js';
import { planShutdown } from './plan.js';
import { LaunchError, type App } from './process/app.js';
import { describeExit, remapStatus, type AppExit } from './process/exit-status.js';
import { guardTreeOnExit } from './process/exit-guard.js';
import { appEnvironment } from './process/app-env.js';
import { SetupError, Supervisor } from './process/supervisor.js';
import { leftoversOf, type Leftovers } from './process/tree.js';
import { ShutdownSequence } from './shutdown.js';
import type { SignalInbox } from './signal-inbox.js';
import { testingCrash, testingSpawnDelay } from './testing-hooks.js';

export interface RunContext {
  options: Options;
  command: string[];
  log: Logger;
  inbox: SignalInbox;
}

/**
 * The life of the init, top-down:
 *   spawn the app → forward signals / run the shutdown sequence on a stop signal →
 *   the app exits → stop what it left behind → exit with the app's status.
 * Signals have been caught (and queued) since the first line of main.
 */
export async function runLifecycle({ options, command, log, inbox }: RunContext): Promise<number> {
  const plan = planShutdown(options);

  let app: App;
  try {
    const supervisor = new Supervisor(options, log);
    await testingSpawnDelay(process.env);
    app = supervisor.spawnApp({ command, processGroup: options.processGroup, env: appEnvironment(process.env) });
  } catch (err) {
    if (err instanceof LaunchError || err instanceof SetupError) {
      log.error(err.message);
      return err instanceof LaunchError ? err.exitCode : 1;
    }
    throw err;
  }
  log.debug(`spawned ${command.join(' ')}`, { pid: app.pid });
  testingCrash(process.env);

  const leftovers = leftoversOf(() => [app.signalTarget]);
  const unguard = guardTreeOnExit(leftovers);
  const sequence = new ShutdownSequence(plan, app, leftovers, log);

  inbox.deliverTo((signal) => {
    if (plan.stopSignals.has(signal)) sequence.onStopSignal(signal);
    else sequence.forward(signal);
  });

  const status = options.statusAddr ? await startStatus(options.statusAddr, sequence, app, log) : null;

  const exit = await app.exited;
  log.debug(`app ${describeExit(exit)}`, { pid: app.pid, phase: sequence.phase });
  const left = await stopLeftovers(leftovers, sequence, options.orphanGraceMs, log);
  sequence.dispose();
  unguard();

  const code = remapStatus(exit.status, options.remapExit);
  if (sequence.started) log.summary(summaryLine(sequence, exit, left, code));
  await closeStatus(status);
  return code;
}

async function startStatus(
  addr: NonNullable<Options['statusAddr']>,
  sequence: ShutdownSequence,
  app: App,
  log: Logger,
): Promise<Server | null> {
  const { startStatusServer } = await import('./status-server.js');
  try {
    return await startStatusServer(
      addr,
      {
        isReady: () => !sequence.started,
        preStop: async () => {
          sequence.startFromHook();
          await app.exited;
        },
      },
      log,
    );
  } catch (err) {
    log.warn(`cannot serve the status endpoint: ${(err as Error).message}; running on without it`);
    return null;
  }
}

async function closeStatus(server: Server | null): Promise<void> {
  if (!server) return;
  // let a /prestop answer that is being written reach the kubelet
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 200);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * The app is gone; what it left behind gets TERM, then KILL after --orphan-grace or at the shutdown
 * deadline, whichever comes first. Returns what happened, for the summary.
 */
async function stopLeftovers(leftovers: Leftovers, sequence: ShutdownSequence, graceMs: number, log: Logger): Promise<string> {
  if (!leftovers.anyLeft()) return 'none';
  leftovers.signal('SIGTERM');
  log.debug('sent SIGTERM to the processes the app left');
  const until = Date.now() + Math.min(graceMs, sequence.remaining() ?? graceMs);
  while (Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (!leftovers.anyLeft()) return 'stopped by SIGTERM';
  }
  leftovers.signal('SIGKILL');
  log.debug('sent SIGKILL to the processes the app left');
  return 'killed';
}

function summaryLine(sequence: ShutdownSequence, exit: AppExit, left: string, code: number): string {
  const parts = [sequence.describe(), `app ${describeExit(exit)} at ${formatDuration(sequence.elapsed())}`];
  if (left !== 'none') parts.push(`leftovers ${left}`);
  parts.push(`exit ${code}`);
  return parts.join(', ');
}
