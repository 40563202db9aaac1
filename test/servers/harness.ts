// Real servers from Debian's packages under the init as PID 1, stopped while requests that take 3 s
// are in flight. Each test starts its server on a free loopback port in its own directory, so that
// the files run in parallel.
import { existsSync } from 'node:fs';
import { pid1Available, sleep, start, waitFor } from '../e2e/harness.js';

/** A request's outcome: true when it was answered in full. */
export type Request = () => Promise<boolean>;

/** The first of `paths` that exists; in CI (CI=true) a missing server fails instead of skipping. */
export function serverBinary(paths: readonly string[], pkg: string): string | null {
  const found = paths.find(existsSync) ?? null;
  if (!found && process.env.CI === 'true') throw new Error(`CI=true but ${paths[0]} is missing (.ci/run installs ${pkg})`);
  return found && pid1Available() ? found : null;
}

export interface StopCase {
  /** options for the init, before `--` */
  init: string[];
  command: string[];
  env?: NodeJS.ProcessEnv;
  /** a quick request that succeeds once the server serves */
  ready: Request;
  /** one request that takes about 3 s */
  slow: Request;
  /** sent to the init once the slow requests are in flight */
  signal: NodeJS.Signals;
  /** slow requests in flight */
  inFlight?: number;
}

export interface StopOutcome {
  inFlight: number;
  failed: number;
  /** quick requests answered while the slow ones were on their way (the load before the stop) */
  load: number;
  code: number | null;
  stderr: string;
}

/**
 * Starts the server under the init as PID 1, keeps a trickle of quick requests going, puts the slow
 * requests in flight, sends the stop signal 1 s into them and counts those that were not answered.
 */
export async function stopWithRequestsInFlight(c: StopCase): Promise<StopOutcome> {
  const init = start('pid1', [...c.init, '--', ...c.command], { env: c.env, timeoutMs: 40_000 });
  const pid = await init.initPid();
  await waitFor('the server to answer', async () => (await c.ready()) || undefined, 15_000);
  let loading = true;
  let load = 0;
  const trickle = (async () => {
    while (loading) {
      if (await c.ready()) load++;
      await sleep(50);
    }
  })();
  const inFlight = Array.from({ length: c.inFlight ?? 12 }, () => c.slow());
  await sleep(1000);
  loading = false;
  await trickle;
  process.kill(pid, c.signal);
  const answered = await Promise.all(inFlight);
  const r = await init.result;
  return { inFlight: answered.length, failed: answered.filter((ok) => !ok).length, load, code: r.code, stderr: r.stderr };
}
