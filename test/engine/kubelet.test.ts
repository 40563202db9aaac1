// A kubelet-like harness on runc: the nginx recipe's root filesystem as an OCI bundle, run the way
// containerd runs a Kubernetes container, with docker/kubernetes/deployment.yaml's env and grace
// period. Pod deletion as the kubelet and containerd perform it: the preStop hook (httpGet, or an
// exec through `runc exec`), then the stop signal (the image's STOPSIGNAL, or the container's
// lifecycle.stopSignal, Kubernetes 1.33+), then SIGKILL at terminationGracePeriodSeconds counted
// from the start of the hook. Requests keep arriving meanwhile, as endpoints catch up.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { engine, images } from './engine.js';
import { constantLoad, nginxSite, request, tally } from './lib/load.mjs';
import { ociBundle, type PodContainer } from './lib/oci.mjs';
import { ROOT, freePort, sleep, tempDir, waitFor } from '../e2e/harness.js';

interface K8sContainer extends PodContainer {
  name: string;
  readinessProbe?: { periodSeconds?: number };
  lifecycle?: {
    preStop?: { httpGet?: { path: string; port: string | number; httpHeaders?: { name: string; value: string }[] }; exec?: { command: string[] } };
    stopSignal?: string;
  };
}
interface Pod {
  terminationGracePeriodSeconds: number;
  containers: K8sContainer[];
  volumes?: { name: string; secret?: { secretName: string } }[];
}
interface Secret {
  metadata: { name: string };
  stringData: Record<string, string>;
}

function deployment(): { pod: Pod; container: K8sContainer; secrets: Secret[] } {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'docker', 'kubernetes', 'deployment.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string });
  const pod = (docs.find((d) => d.kind === 'Deployment') as unknown as { spec: { template: { spec: Pod } } }).spec.template.spec;
  return { pod, container: pod.containers[0] as K8sContainer, secrets: docs.filter((d) => d.kind === 'Secret') as unknown as Secret[] };
}

/**
 * The pod's Secret volumes as the kubelet makes them (files of mode 0400 in a read-only mount),
 * with every placeholder value replaced by one random token, and the hook's headers to match.
 */
function withSecrets(dir: string, pod: Pod, container: K8sContainer, secrets: Secret[]): { container: K8sContainer; binds: [string, string][] } {
  const token = randomBytes(24).toString('base64');
  const secretVolumes = new Map((pod.volumes ?? []).filter((v) => v.secret).map((v) => [v.name, v.secret?.secretName]));
  const binds: [string, string][] = [];
  for (const mount of container.volumeMounts ?? []) {
    const secret = secrets.find((x) => x.metadata.name === secretVolumes.get(mount.name));
    if (!secret) continue;
    const hostDir = join(dir, `secret-${mount.name}`);
    mkdirSync(hostDir);
    for (const key of Object.keys(secret.stringData)) {
      writeFileSync(join(hostDir, key), token);
      chmodSync(join(hostDir, key), 0o400);
    }
    binds.push([hostDir, mount.mountPath]);
  }
  const httpGet = container.lifecycle?.preStop?.httpGet;
  const headers = httpGet?.httpHeaders?.map((h) => ({ ...h, value: h.value.replace(/^Bearer .*/, `Bearer ${token}`) }));
  return {
    container: {
      ...container,
      volumeMounts: (container.volumeMounts ?? []).filter((m) => !secretVolumes.has(m.name)),
      lifecycle: { ...container.lifecycle, ...(httpGet ? { preStop: { httpGet: { ...httpGet, httpHeaders: headers } } } : {}) },
    },
    binds,
  };
}

const SLOW_BYTES = 24 * 1024; // 1.5 s a download at 16k
/**
 * The Deployment's adaptive drain, as summarised: quiet once the load has stopped (2 s at least), or (on the
 * host's network namespace, where every other program's connections count) the 20 s maximum
 */
const ADAPTIVE = '(quiet for [\\d.]+m?s after [\\d.]+s|maximum reached \\(20s\\))';
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
  /** the hook's outcome: 'ok', 'http 403', ... (the exit code of an exec hook) */
  hookResult: string;
  stopSignal: string;
  readyzDuringHook: number | string;
  inFlight: ReturnType<typeof tally>;
  during: ReturnType<typeof tally>;
}

interface RunningPod {
  port: number;
  status: number;
  image: Awaited<ReturnType<typeof ociBundle>>;
  /** `runc kill` with this signal (fails harmlessly once the container is gone) */
  kill(signal: string): Promise<unknown>;
  exited: Promise<number | null>;
  stderr(): string;
  /** the container's preStop hook as the kubelet runs it: what it was, and its outcome */
  preStopHook(timeoutMs: number): { name: string; done: Promise<string> };
}

/** Runs the container on runc, with the nginx site and the pod's secrets, until nginx and /readyz answer. */
async function startPod(pod: Pod, asWritten: K8sContainer, secrets: Secret[]): Promise<RunningPod> {
  const e = engine();
  if (!e) throw new Error('no engine');
  const dir = tempDir();
  cleanups.push(() => dir.cleanup());
  const state = join(dir.path, 'state');
  const bundle = join(dir.path, 'bundle');
  const { container, binds: secretBinds } = withSecrets(dir.path, pod, asWritten, secrets);
  mkdirSync(join(dir.path, 'site'));
  const site = nginxSite(join(dir.path, 'site'), { slowBytes: SLOW_BYTES, rate: '16k' });
  const [port, status] = [await freePort(), await freePort()];
  // the changes to the pod's env: no pod IP here, the host's network, so the status endpoint on
  // loopback and a free port, and the ready check on the port nginx serves here
  const moved: Record<string, string> = { GRACEFUL_INIT_STATUS_ADDR: `127.0.0.1:${status}`, GRACEFUL_INIT_READY_CHECK: `http://127.0.0.1:${port}/fast.txt` };
  const env = (container.env ?? []).map((v) => (v.name in moved ? { name: v.name, value: moved[v.name] as string } : v));
  const image = await ociBundle(e, images().recipes.nginx, bundle, { container: { ...container, env }, binds: [...site.mounts(port), ...secretBinds] });

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
  const preStopHook = (timeoutMs: number) => {
    const preStop = container.lifecycle?.preStop;
    if (preStop?.httpGet) {
      const p = preStop.httpGet.port;
      const hookPort = p === 'status' || p === 8081 ? status : Number(p);
      const headers = Object.fromEntries((preStop.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
      return { name: `httpGet ${preStop.httpGet.path}`, done: request(hookPort, preStop.httpGet.path, { headers, timeoutMs }) };
    }
    if (preStop?.exec) {
      const done = runc(state, ['exec', id, ...preStop.exec.command]).then((r) => `exit ${r.code}${r.stderr ? `: ${r.stderr.trim()}` : ''}`);
      return { name: `exec ${preStop.exec.command.join(' ')}`, done };
    }
    return { name: 'none', done: Promise.resolve('none') };
  };
  return { port, status, image, kill: (signal) => runc(state, ['kill', id, signal]), exited, stderr: () => stderr, preStopHook };
}

/** Runs the container on runc until ready, then deletes the pod as the kubelet does. */
async function deletePod(pod: Pod, asWritten: K8sContainer, secrets: Secret[]): Promise<Deletion> {
  const { port, status, image, kill, exited, stderr, preStopHook } = await startPod(pod, asWritten, secrets);
  let started = 0;
  const inFlight = Array.from({ length: 20 }, () => request(port, '/slow.bin', { expectBytes: SLOW_BYTES, onHeaders: () => started++ }));
  await waitFor('the downloads to start', () => started === 20);

  // the kubelet's clock starts with the hook
  let killedByHarness = false;
  const deadline = setTimeout(() => {
    killedByHarness = true;
    void kill('KILL');
  }, pod.terminationGracePeriodSeconds * 1000);
  const load = constantLoad(port, [['/fast.txt', 3], ['/slow.bin', SLOW_BYTES]], { everyMs: 100 });
  const hook = preStopHook(pod.terminationGracePeriodSeconds * 1000);
  await sleep(1000);
  const readyzDuringHook = await request(status, '/readyz', { timeoutMs: 1000 }).then((o) => (o === 'ok' ? 200 : o.startsWith('http ') ? Number(o.slice(5)) : o));
  await sleep(2000);
  const during = await load.stop();
  const hookResult = await hook.done;
  const stopSignal = asWritten.lifecycle?.stopSignal ?? image.StopSignal ?? 'SIGTERM';
  await kill(stopSignal.replace(/^SIG/, '')); // fails harmlessly when the container is gone
  const exitCode = await exited;
  clearTimeout(deadline);
  return {
    exitCode,
    stderr: stderr(),
    killedByHarness,
    hook: hook.name,
    hookResult,
    stopSignal,
    readyzDuringHook,
    inFlight: tally(await Promise.all(inFlight)),
    during: tally(during),
  };
}

/** The init stopped nginx by itself, before the kubelet's SIGKILL, started by `trigger`, and no request failed. */
function expectCleanStop(d: Deletion, trigger: string): void {
  console.log(`${d.hook} (${d.hookResult}), then ${d.stopSignal}: in flight ${JSON.stringify(d.inFlight)}, during ${JSON.stringify(d.during)}`);
  expect(d.killedByHarness).toBe(false);
  expect(d.exitCode).toBe(0);
  expect(d.stderr).toMatch(new RegExp(`^graceful-init: shutdown on ${trigger}, drain ${ADAPTIVE}, pre-stop 1 ok in .*, app exited with 0 at .*, exit 0$`, 'm'));
  expect({ inFlight: d.inFlight.failed, during: d.during.failed }).toEqual({ inFlight: 0, during: 0 });
}

/**
 * A Service with this one pod as its only endpoint, as kube-proxy sees it since Kubernetes 1.28
 * (KEP-1669): once the pod is terminating there is no ready endpoint left, so the traffic goes to
 * the terminating endpoint while it is *serving*, i.e. while its readiness probe (the Deployment's
 * /readyz, every periodSeconds) passes; with no serving endpoint a request is rejected (refused).
 * The pod is deleted with the requests still coming; returns what was sent before /readyz turned
 * 503 (the end of the drain), and after.
 */
async function deleteSingleReplica(pod: Pod, container: K8sContainer, secrets: Secret[]) {
  const { port, status, kill, exited, stderr, preStopHook } = await startPod(pod, container, secrets);
  const periodMs = (container.readinessProbe?.periodSeconds ?? 10) * 1000;
  let serving = true;
  let drainEndedAt = Number.POSITIVE_INFINITY;
  // The drain ended before any probe that found it ended was sent: both probes mark it, by their
  // sending time, so no request the kube-proxy rejected falls inside the drain.
  const probe = async () => {
    const sentAt = Date.now();
    const ok = (await request(status, '/readyz', { timeoutMs: 1000 })) === 'ok';
    if (!ok) drainEndedAt = Math.min(drainEndedAt, sentAt);
    return ok;
  };
  const prober = setInterval(() => void probe().then((ok) => (serving = ok)), periodMs);
  const watcher = setInterval(() => void probe(), 100);
  const sent: { at: number; outcome: Promise<string> }[] = [];
  const load = setInterval(() => sent.push({ at: Date.now(), outcome: request(serving ? port : 1, '/fast.txt', { expectBytes: 3, timeoutMs: 5000 }) }), 100);
  try {
    const hook = preStopHook(pod.terminationGracePeriodSeconds * 1000);
    const hookAt = Date.now();
    await waitFor('the drain to end', () => drainEndedAt < Number.POSITIVE_INFINITY, pod.terminationGracePeriodSeconds * 1000);
    await sleep(periodMs + 500); // until the endpoint is seen not serving
    clearInterval(load);
    const hookResult = await hook.done;
    await kill((container.lifecycle?.stopSignal ?? 'SIGTERM').replace(/^SIG/, ''));
    const exitCode = await exited;
    const outcomes = await Promise.all(sent.map(async (s) => ({ at: s.at, outcome: await s.outcome })));
    const between = (from: number, to: number) => tally(outcomes.filter((o) => o.at >= from && o.at < to).map((o) => o.outcome));
    return {
      exitCode,
      hookResult,
      stderr: stderr(),
      drainMs: drainEndedAt - hookAt,
      duringDrain: between(hookAt, drainEndedAt),
      /** what a kube-proxy that follows the probe sent in the drain's first 19 s */
      first19s: between(hookAt, hookAt + 19_000),
      afterDrain: between(drainEndedAt, Number.POSITIVE_INFINITY),
    };
  } finally {
    clearInterval(prober);
    clearInterval(watcher);
    clearInterval(load);
  }
}

describe.skipIf(!engine())('kubelet-like pod deletion on runc, docker/kubernetes/deployment.yaml', () => {
  it('the Deployment as written: httpGet /prestop with the Secret\'s token, then the image\'s STOPSIGNAL; the init exits with its summary before the kubelet\'s SIGKILL, 0 failed requests', async () => {
    const { pod, container, secrets } = deployment();
    expect(container.lifecycle?.preStop?.httpGet?.path).toBe('/prestop');
    const d = await deletePod(pod, container, secrets);
    // /prestop starts the sequence (it reports the hook, not a signal)
    expectCleanStop(d, 'GET /prestop');
    expect(d.hookResult).toBe('ok');
    // the image's STOPSIGNAL, kept from the nginx base: it comes after the hook, when nginx has exited
    expect(d.stopSignal).toBe('SIGQUIT');
    expect(d.readyzDuringHook, 'serving through the drain (KEP-1669)').toBe(200);
    expect(d.during.total).toBeGreaterThanOrEqual(40);
  });

  it('the exec form of the hook, graceful-init --send-prestop (runc exec, the container\'s env and token file), then the image\'s STOPSIGNAL: the hook runs the sequence, 0 failed requests', async () => {
    const { pod, container, secrets } = deployment();
    const changed: K8sContainer = { ...container, lifecycle: { preStop: { exec: { command: ['/opt/graceful-init/bin/graceful-init', '--send-prestop'] } } } };
    const d = await deletePod(pod, changed, secrets);
    expectCleanStop(d, 'GET /prestop');
    expect(d.hookResult).toBe('exit 0');
    expect(d.readyzDuringHook, 'serving through the drain (KEP-1669)').toBe(200);
  });

  it('an exec preStop (runc exec), then a per-container stopSignal SIGINT (Kubernetes 1.33+): the signal starts the sequence', async () => {
    const { pod, container, secrets } = deployment();
    const changed: K8sContainer = { ...container, lifecycle: { preStop: { exec: { command: ['sleep', '1'] } }, stopSignal: 'SIGINT' } };
    const d = await deletePod(pod, changed, secrets);
    expectCleanStop(d, 'SIGINT');
  });

  it('a single-replica Service (no other endpoint): kube-proxy keeps sending to the terminating pod while /readyz says serving, and every request is served through the drain', async () => {
    const { pod, container, secrets } = deployment();
    const d = await deleteSingleReplica(pod, container, secrets);
    console.log(`single replica: drain ${d.drainMs} ms, during ${JSON.stringify(d.duringDrain)}, after ${JSON.stringify(d.afterDrain)}`);
    expect(d.hookResult).toBe('ok');
    expect(d.exitCode).toBe(0);
    expect(d.first19s.failed, `refused once the probe said not serving: ${JSON.stringify(d.first19s.kinds)}`).toBe(0);
    // the traffic never stops, so the drain lasts its maximum, serving all along
    expect(d.stderr).toMatch(/^graceful-init: shutdown on .*drain maximum reached \(20s\), pre-stop 1 ok in .*, exit 0$/m);
    expect(d.drainMs).toBeGreaterThan(19_000);
    expect(d.duringDrain.failed, JSON.stringify(d.duringDrain.kinds)).toBe(0);
    expect(d.duringDrain.total).toBeGreaterThan(150);
  });

  it('the control: a grace period shorter than the init\'s drain, the harness\'s SIGKILL comes first and no summary is logged', async () => {
    const { pod, container, secrets } = deployment();
    const d = await deletePod({ ...pod, terminationGracePeriodSeconds: 4 }, container, secrets);
    expect(d.killedByHarness).toBe(true);
    expect(d.stderr).not.toMatch(/^graceful-init: shutdown on .*, exit \d+$/m);
  });
});
