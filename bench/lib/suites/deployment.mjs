// The footprint in the recommended configuration: graceful-init with the environment of
// docker/kubernetes/deployment.yaml's container (the status endpoint on every interface, the
// /prestop token, --ready-check asking nginx, the adaptive drain and so the traffic watcher),
// Debian's nginx as the app on 127.0.0.1:80, as PID 1 of fresh PID and network namespaces (a pod's
// own loopback), probed as the kubelet probes it: GET /readyz and /healthz every readiness period
// (2 s), from inside the namespace. Beside it, the same runtime alone, idle, as PID 1 of its own
// namespace. Each round starts from fresh copies of both binaries dropped from the page cache (as
// an image layer writes them); RSS, RssAnon and the resident part of the executable are read every
// SAMPLE_MS from WARMUP_MS on, for WINDOW_MS: the median and the highest of each.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { nginxSite } from '../../../test/fixtures/nginx-site.mjs';
import { exeResidentKb } from '../exe-resident.mjs';
import { Namespace, benchEnv } from '../ns.mjs';
import { BENCH, ROOT, dropPageCache, findNginx, rewriteInPlace, waitDiskIdle, which } from '../setup.mjs';
import { median, memoryOf, sleep } from '../util.mjs';
import { inside } from './drain.mjs';

const WARMUP_MS = 15_000;
const WINDOW_MS = 30_000;
const SAMPLE_MS = 500;
const APP_PORT = 80; // the Deployment's --ready-check asks http://127.0.0.1:80/

/** The Deployment's container: its GRACEFUL_INIT_* variables and its probes. */
export function deploymentSettings(file = join(ROOT, 'docker', 'kubernetes', 'deployment.yaml')) {
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS());
  const container = docs.find((d) => d?.kind === 'Deployment').spec.template.spec.containers[0];
  const env = Object.fromEntries((container.env ?? []).filter((e) => e.name.startsWith('GRACEFUL_INIT_')).map((e) => [e.name, String(e.value)]));
  const probes = [container.readinessProbe, container.livenessProbe].filter(Boolean).map((p) => ({ path: p.httpGet.path, periodS: p.periodSeconds }));
  return { env, probes };
}

/** nginx (the app), ip (the namespace's loopback up) and nsenter (the probes inside it), or null. */
export function deploymentTools(notes) {
  const tools = { nginx: findNginx(notes), ip: which('ip'), nsenter: which('nsenter') };
  if (tools.nginx && tools.ip && tools.nsenter) return tools;
  notes.push("the Deployment's configuration needs nginx, ip and nsenter: not measured");
  return null;
}

function sample(into, pid) {
  const m = memoryOf(pid);
  if (!m) return;
  into.rssKb.push(m.rssKb);
  into.anonKb.push(m.anonKb);
  into.exeKb.push(exeResidentKb(pid));
}

const summary = (s) => ({
  rssKb: median(s.rssKb),
  anonKb: median(s.anonKb),
  exeKb: median(s.exeKb),
  highestRssKb: Math.max(...s.rssKb),
  highestAnonKb: Math.max(...s.anonKb),
  samples: s.anonKb.length,
});

/** One round: both binaries written anew, the init in the Deployment's configuration and node idle, sampled side by side. */
async function round(ctx, init, settings, tools) {
  const ours = [init.bin, ctx.node].filter(Boolean);
  for (const file of ours) rewriteInPlace(file);
  dropPageCache(ours, ours);
  await waitDiskIdle();
  const dir = mkdtempSync(join(tmpdir(), 'gi-bench-deploy-'));
  const nginx = nginxSite(dir, { nginx: tools.nginx, slowBytes: 1024, rate: '100k' });
  writeFileSync(join(dir, 'www', 'index.html'), 'hello from nginx\n');
  const token = join(dir, 'token');
  writeFileSync(token, `bench-${process.pid}-${Date.now()}-token`);
  chmodSync(token, 0o400);
  const env = { ...settings.env, GRACEFUL_INIT_PRESTOP_TOKEN_FILE: token };
  const statusPort = Number(/:(\d+)$/.exec(env.GRACEFUL_INIT_STATUS_ADDR ?? '')?.[1]);
  if (!statusPort) throw new Error(`the Deployment sets no status address: ${JSON.stringify(settings.env)}`);
  const app = nginx.configure(APP_PORT).argv;
  const argv = ['sh', '-c', `${tools.ip} link set lo up && exec "$@"`, 'sh', ...init.cmd(app)];
  const ns = new Namespace(ctx, argv, { net: true, stamp: false, env: benchEnv(env) });
  const node = ctx.node ? new Namespace(ctx, [ctx.node, '-e', 'setTimeout(() => {}, 1e9)'], { stamp: false }) : null;
  try {
    const pid = await ns.initPid();
    const nodePid = node ? await node.initPid() : null;
    const every = 1000 * Math.min(...settings.probes.map((p) => p.periodS));
    const seconds = (WARMUP_MS + WINDOW_MS) / 1000;
    const probes = inside(tools, pid, [process.execPath, join(BENCH, 'lib', 'kubelet-probes.mjs'), String(statusPort), String(every), String(seconds), ...settings.probes.map((p) => p.path)]);
    await sleep(WARMUP_MS);
    const gi = { rssKb: [], anonKb: [], exeKb: [] };
    const ref = { rssKb: [], anonKb: [], exeKb: [] };
    for (const until = Date.now() + WINDOW_MS; Date.now() < until; ) {
      sample(gi, pid);
      if (nodePid) sample(ref, nodePid);
      await sleep(SAMPLE_MS);
    }
    const answers = JSON.parse((await probes) || '{}');
    if (gi.anonKb.length === 0) throw new Error(`graceful-init did not run in the Deployment's configuration: ${ns.stderr.trim()}`);
    return { init: summary(gi), node: ref.anonKb.length ? summary(ref) : null, probes: answers };
  } finally {
    ns.kill();
    node?.kill();
    await Promise.all([ns.exited, node?.exited]);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function deployment(ctx, inits, { rounds, progress }) {
  const init = inits.find((i) => i.id === 'graceful-init');
  const settings = deploymentSettings();
  const runs = [];
  for (let r = 0; r < rounds; r++) {
    const run = await round(ctx, init, settings, ctx.deploymentTools);
    runs.push(run);
    const mib = (kb) => (kb / 1024).toFixed(1);
    progress(`Deployment's configuration ${r + 1}/${rounds}: RSS ${mib(run.init.rssKb)} MiB, private ${mib(run.init.anonKb)} (highest ${mib(run.init.highestAnonKb)}); node alone ${run.node ? mib(run.node.rssKb) : '–'} MiB; probes ${JSON.stringify(run.probes)}`);
  }
  return { runs, params: { env: settings.env, probes: settings.probes, warmupMs: WARMUP_MS, windowMs: WINDOW_MS, sampleMs: SAMPLE_MS } };
}
