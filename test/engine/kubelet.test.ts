// A kubelet-like harness on runc: the nginx recipe's root filesystem as an OCI bundle, run the way
// containerd runs a Kubernetes container, with docker/kubernetes/deployment.yaml's env and grace
// period. Pod deletion as the kubelet and containerd perform it: the preStop hook (httpGet, or an
// exec through `runc exec`), then the stop signal (the image's STOPSIGNAL, or the container's
// lifecycle.stopSignal, Kubernetes 1.33+), then SIGKILL at terminationGracePeriodSeconds counted
// from the start of the hook. Requests keep arriving meanwhile, as endpoints catch up.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { engine, images } from './engine.js';
import { constantLoad, nginxSite, request, tally } from './lib/load.mjs';
import { ociBundle, type PodContainer } from './lib/oci.mjs';
import { ROOT, freePort, sleep, tempDir, waitFor } from '../e2e/harness.js';

interface K8sContainer extends PodContainer {
  name: string;
  lifecycle?: {
    preStop?: { httpGet?: { path: string; port: string | number }; exec?: { command: string[] } };
    stopSignal?: string;
  };
}
interface Pod {
  terminationGracePeriodSeconds: number;
  containers: K8sContainer[];
}

function deployment(): { pod: Pod; container: K8sContainer } {
  const doc = parse(readFileSync(join(ROOT, 'docker', 'kubernetes', 'deployment.yaml'), 'utf8')) as { spec: { template: { spec: Pod } } };
  const pod = doc.spec.template.spec;
  return { pod, container: pod.containers[0] as K8sContainer };
}

const SLOW_BYTES = 24 * 1024; // 1.5 s a download at 16k
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function runc(state: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('runc', ['--root', state, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

interface Deletion {
  exitCode: number | null;
  stderr: string;
  killedByHarness: boolean;
  hook: string;
  stopSignal: string;
  readyzDuringHook: number | string;
  inFlight: ReturnType<typeof tally>;
  during: ReturnType<typeof tally>;
}

/** Runs the container on runc until ready, then deletes the pod as the kubelet does. */
async function deletePod(pod: Pod, container: K8sContainer): Promise<Deletion> {
  const e = engine();
  if (!e) throw new Error('no engine');
  const dir = tempDir();
  cleanups.push(() => dir.cleanup());
  const state = join(dir.path, 'state');
  const bundle = join(dir.path, 'bundle');
  mkdirSync(join(dir.path, 'site'));
  const site = nginxSite(join(dir.path, 'site'), { slowBytes: SLOW_BYTES, rate: '16k' });
  const [port, status] = [await freePort(), await freePort()];
  // the changes to the pod's env: no pod IP here, the host's network, so the status endpoint on
  // loopback and a free port, and the ready check on the port nginx serves here
  const moved: Record<string, string> = { GRACEFUL_INIT_STATUS_ADDR: `127.0.0.1:${status}`, GRACEFUL_INIT_READY_CHECK: `http://127.0.0.1:${port}/fast.txt` };
  const env = (container.env ?? []).map((v) => (v.name in moved ? { name: v.name, value: moved[v.name] as string } : v));
  const image = await ociBundle(e, images().recipes.nginx, bundle, { container: { ...container, env }, binds: site.mounts(port) });

  const id = `gi-kubelet-${process.pid}-${Date.now()}`;
  const child = spawn('runc', ['--root', state, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(async () => {
    await runc(state, ['kill', id, 'KILL']);
    await runc(state, ['delete', '--force', id]);
    child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  await waitFor('nginx', async () => (await request(port, '/fast.txt', { expectBytes: 3, timeoutMs: 1000 })) === 'ok', 20_000);
  await waitFor('/readyz', async () => (await request(status, '/readyz', { timeoutMs: 1000 })) === 'ok', 10_000);

  let started = 0;
  const inFlight = Array.from({ length: 20 }, () => request(port, '/slow.bin', { expectBytes: SLOW_BYTES, onHeaders: () => started++ }));
  await waitFor('the downloads to start', () => started === 20);

  // the kubelet's clock starts with the hook
  let killedByHarness = false;
  const deadline = setTimeout(() => {
    killedByHarness = true;
    void runc(state, ['kill', id, 'KILL']);
  }, pod.terminationGracePeriodSeconds * 1000);
  const load = constantLoad(port, [['/fast.txt', 3], ['/slow.bin', SLOW_BYTES]], { everyMs: 100 });
  const preStop = container.lifecycle?.preStop;
  let hook: Promise<unknown> = Promise.resolve();
  let hookName = 'none';
  if (preStop?.httpGet) {
    const p = preStop.httpGet.port;
    const hookPort = p === 'status' || p === 8081 ? status : Number(p);
    hookName = `httpGet ${preStop.httpGet.path}`;
    hook = request(hookPort, preStop.httpGet.path, { timeoutMs: pod.terminationGracePeriodSeconds * 1000 });
  } else if (preStop?.exec) {
    hookName = `exec ${preStop.exec.command.join(' ')}`;
    hook = runc(state, ['exec', id, ...preStop.exec.command]);
  }
  await sleep(1000);
  const readyzDuringHook = await request(status, '/readyz', { timeoutMs: 1000 }).then((o) => (o === 'ok' ? 200 : o.startsWith('http ') ? Number(o.slice(5)) : o));
  await sleep(2000);
  const during = await load.stop();
  await hook;
  const stopSignal = container.lifecycle?.stopSignal ?? image.StopSignal ?? 'SIGTERM';
  await runc(state, ['kill', id, stopSignal.replace(/^SIG/, '')]); // fails harmlessly when the container is gone
  const exitCode = await exited;
  clearTimeout(deadline);
  return {
    exitCode,
    stderr,
    killedByHarness,
    hook: hookName,
    stopSignal,
    readyzDuringHook,
    inFlight: tally(await Promise.all(inFlight)),
    during: tally(during),
  };
}

describe.skipIf(!engine())('kubelet-like pod deletion on runc, docker/kubernetes/deployment.yaml', () => {
  it('the Deployment as written: httpGet /prestop, then the image\'s STOPSIGNAL; the init exits with its summary before the kubelet\'s SIGKILL, 0 failed requests', async () => {
    const { pod, container } = deployment();
    expect(container.lifecycle?.preStop?.httpGet?.path).toBe('/prestop');
    const d = await deletePod(pod, container);
    console.log(`deployment: ${d.hook}, then ${d.stopSignal}: in flight ${JSON.stringify(d.inFlight)}, during ${JSON.stringify(d.during)}`);
    expect(d.stopSignal).toBe('SIGTERM');
    expect(d.readyzDuringHook, 'serving through the drain (KEP-1669)').toBe(200);
    expect(d.killedByHarness).toBe(false);
    expect(d.exitCode).toBe(0);
    // /prestop starts the sequence (it reports the hook, not a signal)
    expect(d.stderr).toMatch(/^graceful-init: shutdown on .*drain 10s, pre-stop 1 ok in .*, app exited with 0 at .*, exit 0$/m);
    expect({ inFlight: d.inFlight.failed, during: d.during.failed }).toEqual({ inFlight: 0, during: 0 });
    expect(d.during.total).toBeGreaterThanOrEqual(40);
  });

  it('an exec preStop (runc exec), then a per-container stopSignal SIGINT (Kubernetes 1.33+): the signal starts the sequence', async () => {
    const { pod, container } = deployment();
    const changed: K8sContainer = { ...container, lifecycle: { preStop: { exec: { command: ['sleep', '1'] } }, stopSignal: 'SIGINT' } };
    const d = await deletePod(pod, changed);
    console.log(`exec hook: ${d.hook}, then ${d.stopSignal}: in flight ${JSON.stringify(d.inFlight)}, during ${JSON.stringify(d.during)}`);
    expect(d.killedByHarness).toBe(false);
    expect(d.exitCode).toBe(0);
    expect(d.stderr).toMatch(/^graceful-init: shutdown on SIGINT, drain 10s, pre-stop 1 ok in .*, app exited with 0 at .*, exit 0$/m);
    expect({ inFlight: d.inFlight.failed, during: d.during.failed }).toEqual({ inFlight: 0, during: 0 });
  });

  it('the control: a grace period shorter than the init\'s drain, the harness\'s SIGKILL comes first and no summary is logged', async () => {
    const { pod, container } = deployment();
    const d = await deletePod({ ...pod, terminationGracePeriodSeconds: 4 }, container);
    expect(d.killedByHarness).toBe(true);
    expect(d.stderr).not.toMatch(/^graceful-init: shutdown on .*, exit \d+$/m);
  });
});
