// The rolling update in a real engine (npm run bench -- --rollout). Two replicas of nginx run in a
// private dockerd (--network host, each on its own loopback port) behind a load balancer: Debian's
// nginx on the host, with passive health checks and retries off (as kube-proxy: a request sent to
// a replica that no longer listens fails). A client keeps a constant load on the balancer. The
// rollout replaces both replicas one at a time: start the new one, wait until it answers, add it to
// the balancer, begin stopping the old one; the balancer drops the old replica only PROPAGATION_MS
// after the stop began (endpoints catching up). Each variant is one way of stopping:
//   init      the stand-in of the official nginx image under `docker run --init` (tini passes the
//             image's SIGQUIT on): `docker stop -t GRACE` at once (the control: it fails),
//   sleep     the same, with Kubernetes' usual workaround: a fixed sleep before the stop,
//   graceful  docker/examples/nginx as built (drain 5s, pre-stop `nginx -s quit`): `docker stop -t GRACE`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from '../../../test/engine/lib/dockerd.mjs';
import { docker, dockerOk } from '../../../test/engine/lib/docker.mjs';
import { prepareImages } from '../../../test/engine/lib/images.mjs';
import { constantLoad, nginxSite, request, tally } from '../../../test/engine/lib/load.mjs';
import { findNginx } from '../setup.mjs';
import { sleep } from '../util.mjs';

const PROPAGATION_MS = 3000;
const SLEEP_S = 5; // the preStop sleep of the workaround: more than the propagation delay
const GRACE_S = 30;
const SLOW_BYTES = 48 * 1024; // 3 s a download at 16k
const RATE = '16k';
const READ_ONLY = ['--read-only', '--tmpfs', '/var/cache/nginx', '--tmpfs', '/var/run'];

function freePort() {
  return import('node:net').then(
    ({ createServer }) =>
      new Promise((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          const { port } = server.address();
          server.close(() => resolve(port));
        });
      }),
  );
}

/** The load balancer: the host's nginx, upstreams rewritten and reloaded on demand. */
async function loadBalancer(nginx, dir) {
  const port = await freePort();
  const conf = join(dir, 'lb.conf');
  mkdirSync(join(dir, 'lb-tmp'));
  const write = (ports) =>
    writeFileSync(
      conf,
      `daemon off;
worker_processes 1;
pid ${dir}/lb.pid;
error_log ${dir}/lb-error.log warn;
events { worker_connections 2048; }
http {
  access_log off;
  client_body_temp_path ${dir}/lb-tmp; proxy_temp_path ${dir}/lb-tmp; fastcgi_temp_path ${dir}/lb-tmp;
  uwsgi_temp_path ${dir}/lb-tmp; scgi_temp_path ${dir}/lb-tmp;
  upstream replicas {
${ports.map((p) => `    server 127.0.0.1:${p} max_fails=0;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://replicas;
      proxy_next_upstream off;
      proxy_buffering off;
    }
  }
}
`,
    );
  let ports = [];
  return {
    port,
    start(initial) {
      ports = [...initial];
      write(ports);
      this.child = spawn(nginx, ['-e', join(dir, 'lb-error.log'), '-c', conf], { stdio: 'ignore' });
    },
    async set(next) {
      ports = [...next];
      write(ports);
      const r = spawnSync(nginx, ['-e', join(dir, 'lb-error.log'), '-c', conf, '-s', 'reload'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`load balancer reload: ${r.stderr}`);
      await sleep(100); // the new workers take over
    },
    ports: () => [...ports],
    async stop() {
      if (this.child?.pid) {
        this.child.kill('SIGTERM');
        await new Promise((r) => (this.child.exitCode !== null ? r() : this.child.once('close', r)));
      }
    },
  };
}

async function waitOk(port, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if ((await request(port, '/fast.txt', { expectBytes: 3, timeoutMs: 1000 })) === 'ok') return;
    await sleep(50);
  }
  throw new Error(`replica on ${port} never answered`);
}

async function startReplica(daemon, variant, site) {
  const port = await freePort();
  const id = await dockerOk(daemon, ['run', '-d', '--network', 'host', ...variant.runArgs, ...site.volumes(port), variant.image]);
  await waitOk(port, 20_000);
  return { id, port };
}

/** One rollout: both replicas replaced, one at a time, under constant load. */
async function rollout(daemon, variant, site, nginx) {
  const dir = mkdtempSync(join(tmpdir(), 'gi-bench-lb-'));
  const lb = await loadBalancer(nginx, dir);
  const containers = [];
  try {
    let replicas = [];
    for (let i = 0; i < 2; i++) replicas.push(await startReplica(daemon, variant, site));
    containers.push(...replicas.map((r) => r.id));
    lb.start(replicas.map((r) => r.port));
    await waitOk(lb.port, 10_000);
    const load = constantLoad(lb.port, [['/fast.txt', 3]], { everyMs: 20 });
    const slow = constantLoad(lb.port, [['/slow.bin', SLOW_BYTES]], { everyMs: 250 });
    await sleep(1000);
    const began = Date.now();
    const stops = [];
    for (const old of [...replicas]) {
      const fresh = await startReplica(daemon, variant, site);
      containers.push(fresh.id);
      await lb.set([...lb.ports(), fresh.port]);
      replicas = replicas.filter((r) => r !== old).concat(fresh);
      // the stop begins: the endpoint disappears from the balancer PROPAGATION_MS later
      const t0 = Date.now();
      const removal = sleep(PROPAGATION_MS).then(() => lb.set(lb.ports().filter((p) => p !== old.port)));
      if (variant.sleepS) await sleep(variant.sleepS * 1000);
      const stop = await docker(daemon, ['stop', '-t', String(GRACE_S), old.id], { timeoutMs: (GRACE_S + 30) * 1000 });
      if (stop.code !== 0) throw new Error(`docker stop: ${stop.stderr}`);
      await removal;
      const exit = Number(await dockerOk(daemon, ['inspect', '-f', '{{.State.ExitCode}}', old.id]));
      stops.push({ ms: Date.now() - t0, exit });
    }
    const durationMs = Date.now() - began;
    await sleep(1000);
    const fast = tally(await load.stop());
    const downloads = tally(await slow.stop());
    return { durationMs, fast, downloads, failed: fast.failed + downloads.failed, stops };
  } finally {
    await lb.stop();
    if (containers.length) await docker(daemon, ['rm', '-f', ...containers]);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function variants(images) {
  return [
    { id: 'init', label: "nginx under Docker's init (tini)", image: images.nginx, runArgs: ['--init'], control: true },
    { id: 'sleep', label: `the same, \`sleep ${SLEEP_S}\` before the stop`, image: images.nginx, runArgs: ['--init'], sleepS: SLEEP_S },
    { id: 'graceful', label: 'graceful-init, docker/examples/nginx', image: images.recipes.nginx, runArgs: READ_ONLY },
  ];
}

export async function rolloutBench({ rounds, progress, notes }) {
  const nginx = findNginx(notes);
  if (!nginx) throw new Error('the load balancer needs nginx on the host (apt-get install nginx)');
  const daemon = await startDaemon({ log: progress });
  const siteDir = mkdtempSync(join(tmpdir(), 'gi-bench-site-'));
  try {
    const images = await prepareImages(daemon, { log: progress, recipes: ['nginx'] });
    const site = nginxSite(siteDir, { slowBytes: SLOW_BYTES, rate: RATE });
    const list = variants(images);
    const out = Object.fromEntries(list.map((v) => [v.id, { label: v.label, control: Boolean(v.control), runs: [] }]));
    for (let r = 0; r < rounds; r++) {
      for (const v of [...list.slice(r % list.length), ...list.slice(0, r % list.length)]) {
        const run = await rollout(daemon, v, site, nginx);
        out[v.id].runs.push(run);
        progress(`rollout ${v.id} ${r + 1}/${rounds}: ${run.failed} failed, ${(run.durationMs / 1000).toFixed(1)} s`);
      }
    }
    return {
      out,
      params: { propagationMs: PROPAGATION_MS, sleepS: SLEEP_S, graceS: GRACE_S, slowBytes: SLOW_BYTES, rate: RATE, fastEveryMs: 20, slowEveryMs: 250 },
      versions: {
        dockerd: spawnSync('dockerd', ['--version'], { encoding: 'utf8' }).stdout.trim(),
        runc: spawnSync('runc', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0],
      },
    };
  } finally {
    rmSync(siteDir, { recursive: true, force: true });
    await daemon.stop();
  }
}

/** The README row's table: failed requests (all runs) and the median rollout duration. */
export function renderRollout(result) {
  const { out, params } = result;
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const rows = Object.values(out).map((v) => {
    const failed = v.runs.reduce((n, r) => n + r.failed, 0);
    const total = v.runs.reduce((n, r) => n + r.fast.total + r.downloads.total, 0);
    const kinds = {};
    for (const r of v.runs) for (const t of [r.fast, r.downloads]) for (const [k, n] of Object.entries(t.kinds)) kinds[k] = (kinds[k] ?? 0) + n;
    const why = Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ');
    const verdict = v.control ? (failed > 0 ? 'fails, as a control must' : 'MISS: the control did not fail') : '';
    return `| ${v.label} | ${failed} of ${total}${why ? ` (${why})` : ''} | ${(median(v.runs.map((r) => r.durationMs)) / 1000).toFixed(1)} s | ${verdict} |`;
  });
  return [
    `Rolling update in a real engine (bench/lib/suites/rollout.mjs): 2 replicas behind a load balancer that drops a replica ${params.propagationMs / 1000} s after its stop begins, constant load, ${Object.values(out)[0].runs.length} rollouts each:`,
    '',
    '| replicas | failed requests | rollout (median) | |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

export function readRollout(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}
