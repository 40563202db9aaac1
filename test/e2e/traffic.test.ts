// Traffic-aware shutdown on the built binary, in a network namespace of its own (so that no other
// test's connections count): --drain-quiet, --wait-idle, --ready-check and /metrics.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BINARY, FIXTURES, childrenOf, cleanEnv, pid1Available, sleep, waitFor } from './harness.js';

const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

const APP = join(FIXTURES, 'http-app.py');
const LOAD = join(FIXTURES, 'http-load.py');
const PORT = 18080;

interface Init {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
  /** the init's pid as seen from here */
  pid(): Promise<number>;
  /** runs a command in the init's network namespace: its first line (once printed), and all of its output */
  inside(args: string[]): { first: Promise<string>; all: Promise<string> };
}

/**
 * The init as a plain child of `unshare --net` (loopback up), or as PID 1 of a PID namespace of
 * its own too, running the HTTP app.
 */
function startInit(args: string[], mode: 'child' | 'pid1' = 'child'): Init {
  const pidns = mode === 'pid1' ? ['--pid', '--fork', '--mount-proc', '--kill-child'] : [];
  const child = spawn('unshare', ['--net', ...pidns, 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', BINARY, ...args, '--', 'python3', APP, String(PORT)], {
    env: cleanEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  started.push(child);
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const inside = (cmd: string[]) => {
    const c = spawn('nsenter', [`--net=/proc/${child.pid}/ns/net`, ...cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
    started.push(c);
    let out = '';
    let gotFirst: (line: string) => void = () => {};
    const first = new Promise<string>((resolve) => (gotFirst = resolve));
    c.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) gotFirst(out.slice(0, out.indexOf('\n')));
    });
    const all = new Promise<string>((resolve) => c.on('close', () => (gotFirst(''), resolve(out.trim()))));
    return { first, all };
  };
  const pid = async () => (mode === 'child' ? (child.pid as number) : waitFor('the init under unshare', () => childrenOf(child.pid as number)[0]));
  return { child, stderr: () => stderr, exited, pid, inside };
}

/** Until the init's network namespace exists (nsenter before that would enter ours). */
async function ownNetwork(init: Init): Promise<void> {
  const ours = readlinkSync('/proc/self/ns/net');
  await waitFor('the network namespace', () => {
    try {
      return readlinkSync(`/proc/${init.child.pid}/ns/net`) !== ours;
    } catch {
      return false;
    }
  });
}

async function appListening(init: Init): Promise<void> {
  await waitFor('the app to listen', async () => (await init.inside(['python3', LOAD, String(PORT), '/fast', '0', '0']).all).endsWith('1 0') || undefined, 15_000);
}

/** "ok failed" from the load's last line. */
function counts(output: string): [number, number] {
  const [ok, failed] = (output.split('\n').at(-1) ?? '').split(' ').map(Number);
  return [ok ?? NaN, failed ?? NaN];
}

/** root for the namespace, python3 for the app and the load, curl, ip and nsenter; in CI all are required */
function ok(): boolean {
  const have = ['python3', 'curl', 'ip', 'nsenter'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);
  if (!have && process.env.CI === 'true') throw new Error('CI=true but python3, curl, ip or nsenter is missing (.ci/run installs them)');
  return pid1Available() && have;
}

describe.skipIf(!ok())('traffic-aware shutdown (own network namespace)', () => {
  it.each([1, 3])('--drain-delay 20s --drain-quiet 1s: traffic for %is after TERM is served, the init exits about then + 1 s', async (d) => {
    const init = startInit(['--drain-delay', '20s', '--drain-quiet', '1s']);
    await appListening(init);
    const load = init.inside(['python3', LOAD, String(PORT), '/fast', String(d), '100']);
    expect(await load.first).toBe('flowing');
    const t0 = Date.now();
    process.kill(init.child.pid as number, 'SIGTERM');
    const [okCount, failed] = counts(await load.all);
    await init.exited;
    const took = (Date.now() - t0) / 1000;
    expect(failed, `requests that failed; the init said: ${init.stderr()}`).toBe(0);
    expect(okCount).toBeGreaterThan(d * 5);
    expect(took).toBeGreaterThan(d);
    expect(took, 'the drain ends when the traffic stops, not at 20 s').toBeLessThan(d + 6);
    expect(init.stderr()).toMatch(/shutdown on SIGTERM, drain quiet for 1s after [\d.]+s, SIGTERM to app/);
  }, 40_000);

  it('--wait-idle lets 3-second requests finish for an app with no graceful stop; without it they are cut', async () => {
    for (const waitIdle of [true, false]) {
      const init = startInit(waitIdle ? ['--wait-idle', '10s'] : []);
      await appListening(init);
      const load = init.inside(['python3', LOAD, String(PORT), '/slow/3000', '0', '0', '5']);
      expect(await load.first).toBe('flowing');
      await sleep(300); // the requests are sent once connected
      process.kill(init.child.pid as number, 'SIGTERM');
      const [okCount, failed] = counts(await load.all);
      await init.exited;
      if (waitIdle) {
        expect({ okCount, failed }).toEqual({ okCount: 5, failed: 0 });
        expect(init.stderr()).toMatch(/connections idle after [\d.]+s, SIGTERM to app/);
      } else {
        expect(failed, 'the control loses them').toBe(5);
      }
    }
  }, 40_000);

  // the app's ports were looked for at most once a second, the first time before it listened: a
  // TERM in that first second found no ports, and "no ports" read as "idle" and "quiet"
  it.each(['pid1', 'child'] as const)('a TERM 0.1 s after the app first listens: --wait-idle lets the requests in flight finish (%s)', async (mode) => {
    const init = startInit(['--wait-idle', '10s'], mode);
    await ownNetwork(init);
    await init.pid();
    // connects the moment the app listens, and sends five 2-second requests at once
    const load = init.inside(['python3', LOAD, String(PORT), '/slow/2000', '0', '0', '5', 'wait']);
    expect(await load.first).toBe('flowing');
    await sleep(100);
    process.kill(await init.pid(), 'SIGTERM');
    const [okCount, failed] = counts(await load.all);
    await init.exited;
    expect({ okCount, failed }, init.stderr()).toEqual({ okCount: 5, failed: 0 });
    expect(init.stderr()).toMatch(/connections idle after (1\.[5-9]|[2-4](\.\d)?)s, SIGTERM to app/);
  }, 40_000);

  it.each(['pid1', 'child'] as const)('a TERM 0.1 s after the app first listens: --drain-quiet sees the requests on a kept-alive connection and drains until they stop (%s)', async (mode) => {
    const init = startInit(['--drain-delay', '10s', '--drain-quiet', '300ms'], mode);
    await ownNetwork(init);
    await init.pid();
    // one connection, kept alive: a request every 50 ms for 2 s, no new connection after the first
    const load = init.inside(['python3', LOAD, String(PORT), '/fast', '2', '50', '1', 'wait', 'keepalive']);
    expect(await load.first).toBe('flowing');
    await sleep(100);
    const t0 = Date.now();
    process.kill(await init.pid(), 'SIGTERM');
    const [okCount, failed] = counts(await load.all);
    await init.exited;
    expect(failed, `requests that failed; the init said: ${init.stderr()}`).toBe(0);
    expect(okCount).toBeGreaterThan(15);
    expect(Date.now() - t0).toBeGreaterThan(1800);
    expect(init.stderr()).toMatch(/shutdown on SIGTERM, drain quiet for 3\d\dms after (1\.[6-9]|[2-5](\.\d)?)s, SIGTERM to app/);
  }, 40_000);

  it.each(['pid1', 'child'] as const)('--ready-check listening: /readyz looks at the app\'s listeners when asked, 200 the moment it listens (%s)', async (mode) => {
    const init = startInit(['--status-addr', '18090', '--ready-check', 'listening'], mode);
    await ownNetwork(init);
    await init.pid();
    const readyz = 'curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:18090/readyz';
    // /readyz right after the app's first answer
    const script = `until curl -s -o /dev/null http://127.0.0.1:${PORT}/fast; do sleep 0.005; done; ${readyz}`;
    expect(await init.inside(['sh', '-c', script]).all).toBe('200');
    process.kill(await init.pid(), 'SIGTERM');
    await init.exited;
  }, 40_000);

  it('the init\'s own --ready-check probes of the app\'s port are not traffic: a quiet app drains for --drain-quiet, not --drain-delay', async () => {
    // a probe every second would otherwise keep 1.5 s of quiet from ever coming
    const init = startInit(['--status-addr', '18090', '--ready-check', `http://127.0.0.1:${PORT}/fast`, '--drain-quiet', '1500ms', '--drain-delay', '8s']);
    await appListening(init);
    await waitFor('ready', async () => (await init.inside(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:18090/readyz']).all) === '200' || undefined, 5000);
    await sleep(1500); // the probes go on; nothing else reaches the app
    process.kill(init.child.pid as number, 'SIGTERM');
    await init.exited;
    expect(init.stderr()).toMatch(/shutdown on SIGTERM, drain quiet for 1\.5s after 1\.[5-9]s, SIGTERM to app/);
  }, 40_000);

  it('--ready-check flips /readyz with the app and the shutdown; /metrics parses', async () => {
    const init = startInit(['--status-addr', '18090', '--ready-check', `http://127.0.0.1:${PORT}/fast`, '--drain-delay', '2s', '--pre-stop', 'sleep 2', '--pre-stop-wait', '0']);
    const readyz = async () => (await init.inside(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:18090/readyz']).all) || 'none';
    await appListening(init);
    await waitFor('ready', async () => (await readyz()) === '200' || undefined, 5000);
    const metrics = await init.inside(['curl', '-s', 'http://127.0.0.1:18090/metrics']).all;
    for (const line of metrics.split('\n').filter((l) => l && !l.startsWith('#'))) {
      expect(line).toMatch(/^graceful_init_[a-z_]+(\{[a-z]+="[^"]*"\})? -?[\d.]+$/);
    }
    expect(metrics).toMatch(/^graceful_init_ready 1$/m);
    expect(metrics).toMatch(/^graceful_init_shutdown_phase\{phase="running"\} 1$/m);
    process.kill(init.child.pid as number, 'SIGTERM');
    // serving through the drain (KEP-1669), not ready once the app is told to stop
    const during = await init.inside(['curl', '-s', 'http://127.0.0.1:18090/metrics']).all;
    expect(during).toMatch(/^graceful_init_shutdown_phase\{phase="draining"\} 1$/m);
    expect(await readyz()).toBe('200');
    await waitFor('not ready once the pre-stop action runs', async () => (await readyz()) === '503' || undefined, 4000);
    await init.exited;
  }, 40_000);
});
