// Real servers from Debian's packages under the init as PID 1, stopped while requests that take 3 s
// are in flight. Each test starts its server on a free loopback port in its own directory, so that
// the files run in parallel.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { freePort, httpGet, pid1Available, sleep, start, tempDir, waitFor } from '../e2e/harness.js';

/** A request's outcome: true when it was answered in full. */
export type Request = () => Promise<boolean>;

/** GET http://127.0.0.1:port/path: answered with 200 and `body` (or that many bytes). */
export function httpAnswered(port: number, path: string, body: string | number): Request {
  return async () => {
    const r = await httpGet(port, path, 10_000);
    return r.status === 200 && (typeof body === 'number' ? r.body.length === body : r.body === body);
  };
}

/** The first of `paths` that exists; in CI (CI=true) a missing server fails instead of skipping. */
export function serverBinary(paths: readonly string[], pkg: string): string | null {
  const found = paths.find(existsSync) ?? null;
  if (!found && process.env.CI === 'true') throw new Error(`CI=true but ${paths[0]} is missing (.ci/run installs ${pkg})`);
  return found && pid1Available() ? found : null;
}

/** `run` with a directory of its own (removed afterwards) and a free loopback port for the server. */
export async function inSite<T>(run: (dir: string, port: number) => Promise<T>): Promise<T> {
  const dir = tempDir();
  try {
    return await run(dir.path, await freePort());
  } finally {
    dir.cleanup();
  }
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
  // at once: the trickle's last request may wait for a worker the slow requests hold (Gunicorn's
  // sync workers) until they are done, and a stop sent after it would find nothing left to cut
  process.kill(pid, c.signal);
  await trickle;
  const answered = await Promise.all(inFlight);
  const r = await init.result;
  return { inFlight: answered.length, failed: answered.filter((ok) => !ok).length, load, code: r.code, stderr: r.stderr };
}

export interface ServerStops {
  title: string;
  /** the server's executable; null skips */
  binary: string | null;
  /** the server under the init with these options, stopped with requests in flight */
  stop(init: string[]): Promise<StopOutcome>;
  /** the summary line with no option */
  summary: RegExp;
  /** what the server does with the signal when the init forwards it as it is */
  fastStop: string;
  inFlight: number;
  /** more tests of the same server */
  more?: () => void;
}

/**
 * The two tests every verified server of the table has: with no option no request in flight fails;
 * with --profile none (plain forwarding, as tini and dumb-init do) the server's fast stop cuts
 * them, which shows that the first test can fail.
 */
export function describeServerStop(s: ServerStops): void {
  describe.skipIf(!s.binary)(s.title, () => {
    it('no option: the server is recognised and gets its graceful stop: no request in flight fails', async () => {
      const o = await s.stop([]);
      console.log(`${s.title}, auto: ${o.failed}/${o.inFlight} in flight failed (load before: ${o.load})`);
      expect(o.failed).toBe(0);
      expect(o.inFlight).toBe(s.inFlight);
      expect(o.stderr).toMatch(s.summary);
    });

    it(`the control, --profile none: ${s.fastStop}, and cuts them`, async () => {
      const o = await s.stop(['--profile', 'none']);
      console.log(`${s.title}, none: ${o.failed}/${o.inFlight} in flight failed`);
      expect(o.failed).toBeGreaterThan(0);
    });

    s.more?.();
  });
}
