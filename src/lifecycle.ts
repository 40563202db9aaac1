import { watchAppTraffic, type AppTraffic } from './app-traffic.js';
import { renderMetrics } from './metrics.js';
import { startReadyProbe, type ReadyProbe } from './ready-check.js';
import { formatStatusAddr, type Options } from './cli/options.js';
import { ExitError } from './errors.js';
import { parseHttpAction, shownPreStop } from './cli/http-action.js';
import type { Logger } from './log.js';
import { planShutdown, rewriteSignal, type ShutdownPlan } from './plan.js';
import { launchNatively, launchWithLibuv, type App } from './process/app.js';
import { appEnvironmentBytes } from './process/app-env.js';
import { guardTreeOnExit } from './process/exit-guard.js';
import { describeExit, exitCodeTable, remapStatus } from './process/exit-status.js';
import { leftoversOf, type Leftovers } from './process/leftovers.js';
import { rawCommand, rawEnvironment } from './process/raw-invocation.js';
import { ReapLoop } from './process/reap-loop.js';
import { dropStartupPagesLater } from './process/executable-pages.js';
import { keepHeapSmall } from './process/heap-floor.js';
import { sendSignal } from './process/send-signal.js';
import { KnownServer } from './profiles/known-server.js';
import type { Native } from './reaper/native.js';
import { summaryFields, summaryLine } from './render.js';
import { Shutdown } from './shutdown.js';
import { testHooks } from './test-hooks.js';
import type { SignalInbox } from './signal-inbox.js';
import { FORWARDED_SIGNALS, signalName, signalNumber } from './signals.js';
import type { StatusHooks, StatusServer } from './status-server.js';
import { monotonicMs, sleepFor } from './clock.js';
import { formatDuration } from './cli/duration.js';

export interface RunContext {
  options: Options;
  command: string[];
  log: Logger;
  inbox: SignalInbox;
  /** descriptors the init was started with, found before it opened any of its own */
  inheritedFds: number[];
  /** our parent's pid as the first line of main saw it */
  parentAtStart: number;
}

/**
 * The life of the init, top-down, like tini's main(): prepare → spawn the app → route every signal
 * (forward it, or run the shutdown on a stop signal) → the app exits → stop what it left behind →
 * exit with the app's status. Signals have been caught (and queued) since the first line of main.
 */
export async function runInit(ctx: RunContext, native: Native | null): Promise<number> {
  const { log } = ctx;
  // the table of servers' graceful stops (src/profiles): the server the command names, what its
  // entry adds to the options, and the signals it decides on as they arrive, from /proc then
  const known = new KnownServer(ctx.options, ctx.command, log);
  const options = known.options;
  const plan = planShutdown(options);
  for (const warning of plan.warnings) log.warn(warning);
  refuseForeignPreStopTargets(plan.preStop);
  const server = known.startLines();
  if (server.detected) log.debug(server.detected);
  for (const warning of server.warnings) log.warn(warning);

  if (native) takeSignalsNodeCannot(native, log);
  becomeParentOfOrphans(native, options, ctx.parentAtStart, log);
  // the status endpoint answers from before the app exists: it reads what is there when asked
  let shutdownExists: (shutdown: Shutdown) => void = () => {};
  const shutdownReady = new Promise<Shutdown>((resolve) => (shutdownExists = resolve));
  const live: Live = { shutdown: null, shutdownReady, app: null, appRunning: false, traffic: null, probe: null, reaped: () => 0, forwarded: new Map() };
  const status = options.statusAddr ? await listenForStatus(options, log, statusHooks(live, native, log)) : null;

  await testHooks?.beforeSpawn();
  const { app: running, reaped, collectExited } = launchApp(ctx, native);
  Object.assign(live, { app: running, reaped, appRunning: true });
  testHooks?.afterSpawn();
  // nothing to log and no terminal to take back: when the app exits and leaves nothing behind, the
  // SIGCHLD handler ends the init there and then, with its status (here already, if it is gone);
  // should the addon refuse, the exit simply stays with JavaScript below
  if (native && !log.verbose && !running.foreground) native.armQuickExit(running.pid, exitCodeTable(options.remapExit), process.pid === 1);
  native?.setSignalTarget(running.signalTarget);
  if (native) routeOrdinarySignals(native, plan, log, known.watched());
  log.debug(`spawned ${ctx.command.join(' ')}`, { pid: running.pid });
  void running.exited.then(() => (live.appRunning = false));

  const leftovers = leftoversOf(() => running.signalTarget);
  const unguard = guardTreeOnExit(leftovers);
  const traffic = (live.traffic = watchAppTraffic(native, options, log, () => status?.accepted ?? 0));
  const probe = (live.probe = options.readyCheck ? startReadyProbe(options.readyCheck, traffic ? () => traffic.ports.listening() : null) : null);
  const forward = (signal: NodeJS.Signals) => {
    // sent already by the C handler, which counts it too: only logged here
    const sentNatively = native?.claimRouted(signalNumber(signal)) ?? false;
    if (!sentNatively) live.forwarded.set(signal, (live.forwarded.get(signal) ?? 0) + 1);
    // said before it is sent: the app may exit at once, and the init with it
    known.forwarded(signal, running.pid);
    forwardSignal(plan, running, signal, log, sentNatively);
  };
  const stop = (live.shutdown = new Shutdown(plan, { ...appTarget(running, leftovers, native, known), traffic: traffic?.monitor ?? null }, forward, log));
  shutdownExists(stop);
  const startsShutdown = (signal: NodeJS.Signals) => plan.stopSignals.has(signal) || known.startsShutdown(signal, running.pid);
  ctx.inbox.deliverTo((signal) => (startsShutdown(signal) ? stop.onStopSignal(signal) : forward(signal)));
  testHooks?.afterSetUp();
  if (native) dropStartupPagesLater(native, log);
  // only what runs steadily (probes answered, checks, traffic polls) makes the heap grow
  if (status || probe || traffic) keepHeapSmall(native);

  const exit = await running.exited;
  const exitAtMs = stop.elapsed();
  native?.disarmQuickExit();
  native?.setSignalTarget(0);
  log.debug(`app ${describeExit(exit)}`, { pid: running.pid, phase: stop.phase });
  // a pre-stop command such as `nginx -s quit` is usually a moment from its own end when the app
  // goes: it gets the orphan grace to finish before it counts as left behind
  await stop.preStopSettled(Math.min(plan.orphanGraceMs, stop.remaining() ?? plan.orphanGraceMs));
  const left = await stopLeftovers(leftovers, stop, plan, log, collectExited);
  // stopped with the leftovers if it did not finish: its result (what killed it) for the summary
  await stop.preStopSettled(1000);
  stop.dispose();
  traffic?.monitor.stop();
  probe?.stop();
  unguard();

  const code = remapStatus(exit.status, options.remapExit);
  const record = stop.summaryRecord;
  if (record) log.summary(summaryLine(record, exit, exitAtMs, left, code), summaryFields(record, exit, exitAtMs, left, code));
  // let a /prestop answer that is being written reach the kubelet
  await status?.close(200);
  return code;
}

/** What the status endpoint reads, filled in as the init's life goes on. */
interface Live {
  shutdown: Shutdown | null;
  /** settles once the app exists, and with it the shutdown that stops it */
  shutdownReady: Promise<Shutdown>;
  app: App | null;
  appRunning: boolean;
  traffic: AppTraffic | null;
  probe: ReadyProbe | null;
  reaped: () => number;
  /** forwarded signals by name (the C handler counts its own) */
  forwarded: Map<string, number>;
}

function statusHooks(live: Live, native: Native | null, log: Logger): StatusHooks {
  const isReady = () => (live.shutdown?.serving ?? true) && (live.probe?.passing() ?? true);
  return {
    isAlive: () => live.appRunning,
    isReady,
    metrics: () =>
      renderMetrics({
        forwarded: withNativeCounts(live.forwarded, native),
        zombiesReaped: live.reaped(),
        connections: live.traffic ? connectionCounts(live.traffic) : null,
        ready: isReady(),
        phase: live.shutdown?.phase ?? 'running',
        phaseSeconds: live.shutdown?.phaseSeconds() ?? new Map(),
        logLinesDropped: log.dropped,
      }),
    preStop: async () => {
      // before the app exists there is nothing to stop yet: the sequence starts once it does, as
      // for a stop signal that came that early
      (await live.shutdownReady).startFromHook();
      await live.app?.exited;
    },
  };
}

/**
 * Real-time signals (Node cannot catch them) and PIPE (Node ignores it) are forwarded by a C
 * handler, held until the app exists; USR1, kept blocked by --disable-sigusr1 so that it never opens
 * the inspector, is handed to our listener; a fault signal sent from outside is ignored and a real
 * fault kills the app before the init dies.
 */
function takeSignalsNodeCannot(native: Native, log: Logger): void {
  const [min, max] = native.realtimeRange();
  // each on its own: one refused must not leave the others (USR1 above all) untaken
  const failed = [
    native.routeSignals(new Map([signalNumber('SIGPIPE'), ...Array.from({ length: max - min + 1 }, (_, i) => min + i)].map((s) => [s, s]))),
    native.guardFaults(),
    native.unblockSignal(signalNumber('SIGUSR1')),
  ].filter((why) => why !== null);
  if (failed.length > 0) log.warn(`cannot take over real-time, fault and USR1 signals (${failed.join(', ')})`);
}

/**
 * From here on the C handler forwards every ordinary signal (after --rewrite) the moment it arrives,
 * however busy the event loop is; with -v it then hands it on to Node's listener for the log and a
 * claim (otherwise nothing in the init wakes up: the C handler counts it for /metrics). Only
 * once the app exists: the ones that came earlier wait in the inbox, in order, and are forwarded from
 * JavaScript. Stop signals start the shutdown and stay with JavaScript; so do dropped ones, and
 * those the table of servers decides on when they arrive (`decidedLater`: QUIT, an image's STOPSIGNAL).
 */
function routeOrdinarySignals(native: Native, plan: ShutdownPlan, log: Logger, decidedLater: readonly NodeJS.Signals[]): void {
  const routes = new Map<number, number>();
  for (const signal of FORWARDED_SIGNALS) {
    const to = rewriteSignal(plan, signal);
    if (!plan.stopSignals.has(signal) && !decidedLater.includes(signal) && to !== null) routes.set(signalNumber(signal), signalNumber(to));
  }
  const refused = native.routeSignals(routes, log.verbose);
  if (refused) log.warn(`cannot forward signals from the native handler (${refused}): forwarded from JavaScript instead`);
}

/**
 * An HTTP pre-stop action calls the app next to the init: on loopback, or at one of the pod's own
 * addresses (read here, in its network namespace), never elsewhere. Refused before the app starts.
 */
function refuseForeignPreStopTargets(preStop: readonly string[]): void {
  const remote = preStop.map((line) => [line, parseHttpAction(line)] as const).filter(([, action]) => action && !action.loopback);
  if (remote.length === 0) return;
  const own = Object.values(process.getBuiltinModule('node:os').networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
  for (const [line, action] of remote) {
    if (action && !own.includes(action.host)) {
      throw new ExitError(2, `--pre-stop "${shownPreStop(line)}": ${action.host} is not an address of this pod; an HTTP action calls the app next to the init: use 127.0.0.1 (or ${own.filter((a) => !a.startsWith('127.') && a !== '::1').join(', ') || 'no other address here'})`);
    }
  }
}

function becomeParentOfOrphans(native: Native | null, options: Options, parentAtStart: number, log: Logger): void {
  if (process.pid !== 1) {
    const refused = native ? native.setChildSubreaper() : 'no native addon';
    if (refused && options.subreaper) throw new ExitError(1, `--subreaper: cannot register as child subreaper (${refused})`);
    if (refused) log.warn(`not PID 1 and not a subreaper (${refused}): orphans of the app will not come back to the init`);
    else log.debug('registered as child subreaper');
  }
  if (options.pdeathSignal) {
    const refused = native ? native.setParentDeathSignal(signalNumber(options.pdeathSignal)) : 'no native addon';
    if (refused) throw new ExitError(1, `--pdeath-signal: cannot set it (${refused})`);
    // the parent died while Node was starting: the kernel will not send it any more
    if (process.ppid !== parentAtStart) process.kill(process.pid, options.pdeathSignal);
  }
}

/** Forwarded counts from JavaScript, and from the C handler for the signals it owns. */
function withNativeCounts(counts: ReadonlyMap<string, number>, native: Native | null): Map<string, number> {
  const all = new Map(counts);
  native?.forwardedCounts().forEach((n, signo) => {
    if (n > 0) all.set(signalName(signo), (all.get(signalName(signo)) ?? 0) + n);
  });
  return all;
}

/** The app's connections as of the last reading, read again when it is more than a second old. */
function connectionCounts(traffic: AppTraffic): { active: number; idle: number } | null {
  const stale = (traffic.monitor.tracker.latest?.at ?? -Infinity) < monotonicMs() - 1000;
  if (stale) traffic.monitor.pollNow();
  const latest = traffic.monitor.tracker.latest;
  return latest ? { active: latest.active, idle: latest.idle } : null;
}

function launchApp({ options, command, inheritedFds, log }: RunContext, native: Native | null): { app: App; reaped: () => number; collectExited: () => void } {
  const env = appEnvironmentBytes(rawEnvironment());
  // socket activation: the descriptors are for the app, so LISTEN_PID must name it (spawn.c); the
  // names are looked up where Node has them already (the raw bytes hold the same entries)
  const listenPid = process.env.LISTEN_FDS !== undefined;
  if (listenPid && process.env.LISTEN_PID === undefined) env.push(Buffer.from('LISTEN_PID='));
  const request = {
    command,
    argv: rawCommand(command),
    env,
    processGroup: options.processGroup,
    keepFds: inheritedFds,
    listenPid,
    nofile: options.appNofile,
  };
  if (!native) return { app: launchWithLibuv(request), reaped: () => 0, collectExited: () => {} };
  const warnOnReap = options.warnOnReap ? (n: number) => log.warn(`reaped ${n === 1 ? 'a zombie process' : `${n} zombie processes`}`) : undefined;
  const reapLoop = new ReapLoop(native, warnOnReap);
  return { app: launchNatively(native, reapLoop, request), reaped: () => reapLoop.reaped, collectExited: () => reapLoop.collect() };
}

function appTarget(app: App, leftovers: Leftovers, native: Native | null, known: KnownServer) {
  return {
    exited: app.exited,
    beginning: () => {
      native?.disarmQuickExit();
      const quiet = known.quiet(app.pid);
      if (quiet) sendSignal(quiet.pid ?? app.signalTarget, quiet.signal);
    },
    // a server behind a shell gets it itself: the shell would die of QUIT and leave it to be cut
    sendStop: (received: NodeJS.Signals | null, planned: NodeJS.Signals | null) => {
      const stop = known.stop(app.pid, received, planned);
      if (stop.signal) sendSignal(stop.pid ?? app.signalTarget, stop.signal);
      return { signal: stop.signal, server: stop.server?.title ?? null };
    },
    killEverything: () => {
      sendSignal(app.signalTarget, 'SIGKILL');
      leftovers.signal('SIGKILL');
    },
  };
}

function forwardSignal(plan: ShutdownPlan, app: App, signal: NodeJS.Signals, log: Logger, sentNatively: boolean): void {
  const to = rewriteSignal(plan, signal);
  if (to === null) return log.debug(`dropped ${signal} (--rewrite)`);
  const sent = sentNatively || sendSignal(app.signalTarget, to);
  log.debug(`forwarded ${signal}${to === signal ? '' : ` as ${to}`} to ${app.signalTarget}`, sent ? {} : { failed: true });
}

/** After the deadline's SIGKILL, how long the processes it reached may take to be gone. */
const DYING_MS = 500;

/**
 * The app is gone; what it left behind gets the stop signal of the shutdown (TERM outside one),
 * then KILL: during a shutdown at the deadline, so that an app a shell-form CMD left behind keeps
 * its stop time; otherwise after --orphan-grace. Repeated while anything is still there (a process
 * that keeps forking must not escape one pass). Returns what happened, for the summary.
 */
async function stopLeftovers(leftovers: Leftovers, shutdown: Shutdown, plan: ShutdownPlan, log: Logger, collectExited: () => void): Promise<string> {
  if (!leftovers.findable) {
    log.warn('cannot find the processes the app left: not PID 1 and no /proc');
    return 'none';
  }
  // one that died with the app (the deadline's SIGKILL reaches every process) may be a zombie
  // whose SIGCHLD has not come through yet, or still on its way out: collected first, and after
  // the deadline given a moment to finish dying, it is not left over
  collectExited();
  const dyingUntil = monotonicMs() + (shutdown.phase === 'killing' ? DYING_MS : 0);
  while (leftovers.anyLeft() && monotonicMs() < dyingUntil) {
    await sleepFor(5);
    collectExited();
  }
  if (!leftovers.anyLeft()) return 'none';
  const signal = shutdown.leftoverSignal();
  const sentAt = monotonicMs();
  leftovers.signal(signal);
  log.debug(`sent ${signal} to the processes the app left`);
  const untilDeadline = shutdown.started;
  const graceUntil = sentAt + (shutdown.remaining() ?? plan.orphanGraceMs);
  while (monotonicMs() < graceUntil) {
    await sleepFor(Math.min(10, graceUntil - monotonicMs()));
    collectExited();
    if (!leftovers.anyLeft()) return `stopped by ${signal} in ${formatDuration(monotonicMs() - sentAt)}`;
  }
  const killedAfter = formatDuration(monotonicMs() - sentAt);
  const giveUp = monotonicMs() + 5000;
  do {
    leftovers.signal('SIGKILL');
    await sleepFor(10);
    collectExited();
  } while (leftovers.anyLeft() && monotonicMs() < giveUp);
  log.debug('sent SIGKILL to the processes the app left');
  const killed = untilDeadline ? `killed at the deadline, ${killedAfter} after ${signal}` : `killed ${killedAfter} after ${signal}`;
  return leftovers.anyLeft() ? `${killed}, some still running` : killed;
}

async function listenForStatus(options: Options, log: Logger, hooks: StatusHooks): Promise<StatusServer> {
  const addr = options.statusAddr as NonNullable<Options['statusAddr']>;
  const [{ startStatusServer }, { loadPrestopToken }] = await Promise.all([import('./status-server.js'), import('./prestop-token.js')]);
  const token = options.prestopTokenFile ? loadPrestopToken(options.prestopTokenFile) : null;
  if (token?.warning) log.warn(token.warning);
  try {
    return await startStatusServer(addr, hooks, log, token?.bytes ?? null);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ExitError(2, `--status-addr ${formatStatusAddr(addr)}: cannot listen (${why}); choose a free port and a local address`);
  }
}
