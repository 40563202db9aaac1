import { UsageError } from '../errors.js';

/**
 * The variables of tini and dumb-init, with their meaning there, so that swapping the binary in an
 * image that sets them is enough. Their flags are rows of the option table (-s -g -e -p -v -w -l,
 * -c -r -V). Calls `set(long, value, variable)` for each option a variable stands for; the
 * GRACEFUL_INIT_* variables and the command line come after, and win.
 */
export function applyDropInEnvironment(env: NodeJS.ProcessEnv, set: (long: string, raw: true, variable: string) => void): void {
  // tini: set at all (even empty) means on
  if (env.TINI_SUBREAPER !== undefined) set('subreaper', true, 'TINI_SUBREAPER');
  if (env.TINI_KILL_PROCESS_GROUP !== undefined) set('process-group', true, 'TINI_KILL_PROCESS_GROUP');
  const verbosity = env.TINI_VERBOSITY;
  if (verbosity !== undefined) {
    if (!/^\s*\d+\s*$/.test(verbosity)) throw new UsageError(`TINI_VERBOSITY: "${verbosity}" is not a level; write 0 (errors only), 1 (warnings, the default), 2 or 3 (-v)`);
    const level = Number(verbosity);
    if (level === 0) set('quiet', true, 'TINI_VERBOSITY');
    else if (level >= 2) set('verbose', true, 'TINI_VERBOSITY');
  }
  // dumb-init: only "0" turns its setsid mode (signals to the whole group) off, only "1" turns debug on
  const setsid = env.DUMB_INIT_SETSID;
  if (setsid !== undefined) set(setsid === '0' ? 'single-child' : 'process-group', true, 'DUMB_INIT_SETSID');
  if (env.DUMB_INIT_DEBUG === '1') set('verbose', true, 'DUMB_INIT_DEBUG');
}
