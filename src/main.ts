import { SignalInbox } from './signal-inbox.js';
import { helpText, usageHint } from './cli/help.js';
import { parseInvocation, UsageError } from './cli/parse.js';
import { createLogger, type Logger } from './log.js';
import { runLifecycle } from './lifecycle.js';
import { describePlan, planShutdown } from './plan.js';
import { writeSync } from 'node:fs';

// First: from here on no signal is lost, even before the app exists.
const inbox = new SignalInbox();

declare const __GRACEFUL_INIT_VERSION__: string;
const VERSION = typeof __GRACEFUL_INIT_VERSION__ === 'string' ? __GRACEFUL_INIT_VERSION__ : 'dev';

function out(fd: number, text: string): void {
  try {
    writeSync(fd, text);
  } catch {
    // stdout closed: nothing to do
  }
}

let log: Logger = createLogger('text', 'normal');

process.on('uncaughtException', (err) => {
  log.error(`internal error: ${err.message}; stopping the app`, log.verbose ? { stack: err.stack } : {});
  process.exit(1);
});

async function main(argv: string[]): Promise<number> {
  let invocation;
  try {
    invocation = parseInvocation(argv, process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    log.error(`${err.message}; ${usageHint()}`);
    return 2;
  }
  const { options, command } = invocation;
  if (options.help) {
    out(1, helpText());
    return 0;
  }
  if (options.version) {
    out(1, `graceful-init ${VERSION} (node ${process.version})\n`);
    return 0;
  }
  log = createLogger(options.logFormat, options.verbosity);
  if (options.check) {
    const plan = planShutdown(options);
    out(1, `${describePlan(plan).join('\n')}\n`);
    for (const warning of plan.warnings) out(1, `warning: ${warning}\n`);
    return 0;
  }
  return runLifecycle({ options, command, log, inbox });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    log.error(`internal error: ${(err as Error).message ?? String(err)}`);
    process.exit(1);
  },
);
