// First: from here on no signal is lost, even before the app exists.
import { inbox } from './signal-inbox.js';
import { sealProcessStdio } from './output/seal-stdio.js';
import { inheritedDescriptors } from './process/inherited-fds.js';
import { writeSync } from 'node:fs';
import { helpText, usageHint } from './cli/help.js';
import { parseInvocation, requestedLogFormat } from './cli/parse.js';
import { ExitError, UsageError } from './errors.js';
import { installForm } from './install-form.js';
import { runInit } from './lifecycle.js';
import { createLogger, type Logger } from './log.js';
import { planShutdown } from './plan.js';
import { useNativeWrites } from './output/fd-writer.js';
import { addonHome, loadNative } from './reaper/load.js';
import type { Native } from './reaper/native.js';
import { describePlan } from './render.js';
import { KnownServer } from './profiles/known-server.js';

sealProcessStdio();
// Before the init opens anything of its own.
const inheritedFds = inheritedDescriptors();
// -p: a parent that died before the parent-death signal was set is noticed by comparison
const parentAtStart = process.ppid;

declare const __GRACEFUL_INIT_VERSION__: string;
const VERSION = typeof __GRACEFUL_INIT_VERSION__ === 'string' ? __GRACEFUL_INIT_VERSION__ : 'dev';

const LICENSE = `graceful-init ${VERSION} is released under the MIT License (SPDX: MIT): use, copy, modify and
distribute it freely, without warranty of any kind. The executable embeds the Node.js runtime
(MIT, with the licenses of the libraries it bundles), execa (MIT) and signal-exit (ISC).
`;

let log: Logger = createLogger('text', 'normal');
let native: Native | null = null;

function print(text: string): void {
  try {
    writeSync(1, text);
  } catch {
    // stdout closed: nothing to do
  }
}

/** The status is known and written: leave at once (the addon's _exit skips Node's exit work). */
function exit(code: number): never {
  if (native) native.exitNow(code);
  process.exit(code);
}

process.on('uncaughtException', (err) => {
  log.error(`internal error: ${err.message}; stopping the app`, log.verbose ? { stack: err.stack } : {});
  process.exit(1);
});

/**
 * The addon reaps, and forwards what Node cannot. PID 1 without it would leave every orphan a zombie:
 * it refuses to start. A plain child runs on with a warning: the namespace's PID 1 reaps the
 * orphans, and the app's own exit is seen through libuv; only the subreaper role and the native
 * forwarding are lost (a developer's shell, a CI runner whose /tmp is noexec).
 */
function loadNativeOrExplain(requireReaper: boolean, reaperPath: string | null): Native | null {
  const loaded = loadNative(reaperPath);
  useNativeWrites(loaded.native);
  if (loaded.native) {
    loaded.native.setName('graceful-init');
    log.debug('native reaper loaded', { from: loaded.from });
    // the candidate given is tried first: any reason is its own
    if (reaperPath && loaded.reasons.length > 0) log.warn(`--reaper-path: ${loaded.reasons[0]}; loaded ${loaded.from} instead`);
    return loaded.native;
  }
  const why = `cannot load the native reaper (${loaded.reasons.join('; ')}); put reaper.node in ${addonHome()} or give --reaper-path FILE`;
  if (process.pid === 1) throw new ExitError(1, `PID 1 must reap zombies, but ${why}`);
  if (requireReaper) throw new ExitError(1, `--require-reaper: ${why}`);
  log.warn(`zombie reaping is OFF: ${why}`);
  return null;
}

async function main(argv: string[]): Promise<number> {
  let invocation;
  try {
    invocation = parseInvocation(argv, process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    log = createLogger(requestedLogFormat(argv, process.env), 'normal');
    log.error(`${err.message}; ${usageHint()}`);
    return 2;
  }
  const { options, command, warnings } = invocation;
  if (options.help) return print(helpText()), 0;
  if (options.version) return print(`graceful-init ${VERSION} (${installForm()})\n`), 0;
  if (options.license) return print(LICENSE), 0;
  log = createLogger(options.logFormat, options.verbosity);
  if (options.check) {
    const known = new KnownServer(options, command, log);
    const plan = planShutdown(known.options);
    const server = known.startLines();
    const all = [...warnings, ...plan.warnings, ...server.warnings];
    if (server.detected) print(`${server.detected}\n`);
    print(`${describePlan(plan, known.planned()).join('\n')}\n`);
    for (const warning of all) print(`warning: ${warning}\n`);
    // a warning is something to fix before it ships: a CI step running --check fails on it
    return all.length > 0 ? 1 : 0;
  }
  for (const warning of warnings) log.warn(warning);
  try {
    if (options.sendPrestop) return await (await import('./send-prestop.js')).sendPrestop(options);
    native = loadNativeOrExplain(options.requireReaper, options.reaperPath);
    return await runInit({ options, command, log, inbox, inheritedFds, parentAtStart }, native);
  } catch (err) {
    if (!(err instanceof ExitError)) throw err;
    log.error(err.message);
    return err.exitCode;
  }
}

main(process.argv.slice(2)).then(exit, (err: unknown) => {
  log.error(`internal error: ${(err as Error).message ?? String(err)}`);
  process.exit(1);
});
