import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { nginxSite } from '../fixtures/nginx-site.mjs';
import { freePort, httpGet, killAll, pid1Available, sleep, start, tempDir, waitFor } from './harness.js';

afterEach(killAll);

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find(existsSync);

function nginxAvailable(): boolean {
  if (!NGINX && process.env.CI === 'true') throw new Error('CI=true but nginx is not installed (.ci/run installs it)');
  return Boolean(NGINX) && pid1Available();
}

const SLOW_BYTES = 24 * 1024;

interface Outcome {
  inFlight: number;
  inFlightFailed: number;
  during: number;
  duringFailed: number;
  exitCode: number | null;
  stderr: string;
}

/**
 * A rollout: 20 slow requests in flight, then the stop signal, then new requests for 1.8 s (the
 * endpoints are not removed yet). A request fails when refused, reset, or its body comes up short.
 */
async function rollout(initArgs: string[], signal: NodeJS.Signals, slowBytes = SLOW_BYTES): Promise<Outcome> {
  const dir = tempDir();
  try {
    const port = await freePort();
    // /slow.bin trickles out at 16 KB/s: about 1.5 s a response
    const site = nginxSite(dir.path, { nginx: NGINX as string, slowBytes, rate: '16k' }).configure(port);
    const argv = initArgs.map((a) => a.replace('{conf}', site.conf).replace('{nginx}', NGINX as string));
    const init = start('pid1', [...argv, '--', ...site.argv], { timeoutMs: 30_000 });
    const pid = await init.initPid();
    await waitFor('nginx to listen', async () => (await httpGet(port, '/fast.txt', 500)).status === 200 || undefined);

    const ok = (want: number) => (r: { status: number | string; body: string }) => r.status === 200 && r.body.length === want;
    const slowMs = (slowBytes / 16_384) * 1000 + 5000;
    const inFlight = Array.from({ length: 20 }, () => httpGet(port, '/slow.bin', slowMs).then(ok(slowBytes)));
    await sleep(300);
    process.kill(pid, signal);
    const during: Promise<boolean>[] = [];
    const until = Date.now() + 1800;
    while (Date.now() < until) {
      during.push(httpGet(port, '/fast.txt', 5000).then(ok(3)));
      during.push(httpGet(port, '/slow.bin', slowMs).then(ok(slowBytes)));
      await sleep(100);
    }
    const a = await Promise.all(inFlight);
    const b = await Promise.all(during);
    const r = await init.result;
    return {
      inFlight: a.length,
      inFlightFailed: a.filter((x) => !x).length,
      during: b.length,
      duringFailed: b.filter((x) => !x).length,
      exitCode: r.code,
      stderr: r.stderr,
    };
  } finally {
    dir.cleanup();
  }
}

describe.skipIf(!nginxAvailable())('nginx rollout (real nginx, the init as PID 1)', () => {
  it('plain forwarding (--profile none, as tini and dumb-init forward) drops requests: TERM is nginx fast shutdown (the test can fail)', async () => {
    const o = await rollout(['--profile', 'none'], 'SIGTERM');
    console.log(`plain forwarding: ${o.inFlightFailed}/${o.inFlight} in-flight and ${o.duringFailed}/${o.during} new requests failed`);
    expect(o.inFlightFailed).toBeGreaterThan(0);
    expect(o.duringFailed).toBeGreaterThan(0);
  });

  it('--drain-delay 2 --pre-stop "nginx -s quit": every request succeeds', async () => {
    const o = await rollout(['--drain-delay', '2', '--pre-stop', '{nginx} -c {conf} -s quit'], 'SIGTERM');
    expect({ inFlightFailed: o.inFlightFailed, duringFailed: o.duringFailed }).toEqual({ inFlightFailed: 0, duringFailed: 0 });
    expect(o.inFlight).toBe(20);
    expect(o.during).toBeGreaterThanOrEqual(20);
    expect(o.exitCode).toBe(0);
    // nginx's own notice comes through with the pre-stop prefix; the summary is the last line
    expect(o.stderr).toMatch(/^graceful-init: pre-stop 1: .*signal process started/m);
    expect(o.stderr).toMatch(/\ngraceful-init: shutdown on SIGTERM, drain 2s, pre-stop 1 ok in .*, app exited with 0 at .*, exit 0\n$/);
  });

  it('the README headline settings keep downloads that outlast the drain + 5 s: nginx finishes them by itself', async () => {
    // 9-second downloads: the old timeline sent TERM 5 s after `nginx -s quit` and cut every one
    const o = await rollout(['--drain-delay', '2s', '--pre-stop', '{nginx} -c {conf} -s quit'], 'SIGTERM', 9 * 16_384);
    expect({ inFlightFailed: o.inFlightFailed, duringFailed: o.duringFailed }).toEqual({ inFlightFailed: 0, duringFailed: 0 });
    expect(o.exitCode).toBe(0);
    expect(o.stderr).toMatch(/\ngraceful-init: shutdown on SIGTERM, drain 2s, pre-stop 1 ok in .*, no stop signal needed, app exited with 0 at (9|10|11)\.\ds, exit 0\n$/);
  }, 40_000);

  it('the same with QUIT received (the nginx image STOPSIGNAL), with no --stop-signals', async () => {
    // the init recognises nginx: QUIT, the official image's STOPSIGNAL, starts the sequence like TERM
    const o = await rollout(['--drain-delay', '2', '--pre-stop', '{nginx} -c {conf} -s quit'], 'SIGQUIT');
    expect({ inFlightFailed: o.inFlightFailed, duringFailed: o.duringFailed }).toEqual({ inFlightFailed: 0, duringFailed: 0 });
    expect(o.exitCode).toBe(0);
  });
});
