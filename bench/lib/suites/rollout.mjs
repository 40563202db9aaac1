// The rolling update in a real engine (npm run bench -- --rollout), at several load-balancer lags.
// Two replicas of nginx run in a private dockerd, each in a network namespace of its own as a pod
// has (--network none: loopback only, so that the init watches its own replica's traffic and
// nothing else), reached through bench/lib/netns-forwarder.mjs (a Unix socket outside, TCP to the
// replica inside), behind a load balancer: Debian's nginx on the host, which sends each request to a replica drawn
// at random, with passive health checks and retries off (as kube-proxy in iptables mode: a request
// sent to a replica that no longer listens fails). A client keeps a constant load on the balancer. The rollout replaces both replicas one at a time: start the new
// one, wait until it answers, add it to the balancer, begin stopping the old one; the balancer
// drops the old replica LAG seconds after the stop began (endpoints catching up: 1, 3, 8 s).
// Each variant is one way of stopping:
//   init      the stand-in of the official nginx image under `docker run --init` (tini passes the
//             image's SIGQUIT on): `docker stop -t GRACE` at once (the control: it fails),
//   sleep     the same, with Kubernetes' usual workaround: a fixed sleep before the stop (preStop:
//             sleep), then nginx's graceful QUIT,
//   graceful  docker/examples/nginx as built from this tree (its drain settings are read from the
//             image): `docker stop -t GRACE` at once.
// Two request mixes: short requests only, and short requests with 5-second downloads (then a
// download is always in flight when the balancer drops a replica, and a stop that loses nothing
// lasts until it has finished). Per replica: the time from the stop's start to its exit, and how
// long after the last request it served ended (the balancer's access log) it exited.
import { spawn, spawnSync } from 'node:child_process';
import { get } from 'node:http';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from '../../../test/engine/lib/dockerd.mjs';
import { docker, dockerOk } from '../../../test/engine/lib/docker.mjs';
import { prepareImages } from '../../../test/engine/lib/images.mjs';
import { constantLoad, nginxSite, request, tally } from '../../../test/engine/lib/load.mjs';
import { chartAxes, esc, svgDocument, targetBand } from '../report.mjs';
import { BENCH, findNginx, which } from '../setup.mjs';
import { freePort, median, rotate, sleep } from '../util.mjs';

export const LAGS_S = [1, 3, 8];
const SLEEP_S = 5; // the preStop sleep of the workaround
const GRACE_S = 30;
const SLOW_S = 5;
const RATE_BYTES = 16 * 1024;
// nginx's limit_rate lets a second's worth go at once: 6 s worth takes 5 s (measured: the JSON's medianMs)
const SLOW_BYTES = (SLOW_S + 1) * RATE_BYTES;
const FAST_EVERY_MS = 20;
const SLOW_EVERY_MS = 100;
/** a replica's stop is within target when it exits at most this long after... (see TARGETS) */
const MARGIN_S = 2;
const READ_ONLY = ['--read-only', '--tmpfs', '/var/cache/nginx', '--tmpfs', '/var/run'];
/** where nginx listens in each replica's own network namespace */
const REPLICA_PORT = 8080;

export const MIXES = [
  { id: 'short', label: 'short requests only', paths: [['/fast.txt', 3, FAST_EVERY_MS]] },
  { id: 'long', label: `short and ${SLOW_S}-second requests`, paths: [['/fast.txt', 3, FAST_EVERY_MS], ['/slow.bin', SLOW_BYTES, SLOW_EVERY_MS]] },
];

/**
 * The load balancer: the host's nginx, upstreams rewritten and reloaded on demand. Its access log
 * says which replica served each request and when the answer ended ($msec, the wall clock).
 */
async function loadBalancer(nginx, dir) {
  const port = await freePort();
  const conf = join(dir, 'lb.conf');
  const accessLog = join(dir, 'lb-access.log');
  mkdirSync(join(dir, 'lb-tmp'));
  const write = (upstreams) =>
    writeFileSync(
      conf,
      `daemon off;
worker_processes 1;
pid ${dir}/lb.pid;
error_log ${dir}/lb-error.log warn;
events { worker_connections 2048; }
http {
  log_format replica '$upstream_addr $msec $status $request_completion $request_time $uri';
  access_log ${accessLog} replica;
  client_body_temp_path ${dir}/lb-tmp; proxy_temp_path ${dir}/lb-tmp; fastcgi_temp_path ${dir}/lb-tmp;
  uwsgi_temp_path ${dir}/lb-tmp; scgi_temp_path ${dir}/lb-tmp;
  upstream replicas {
    random;
${upstreams.map((sock) => `    server unix:${sock} max_fails=0;`).join('\n')}
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
  let upstreams = [];
  return {
    port,
    start(initial) {
      upstreams = [...initial];
      write(upstreams);
      this.child = spawn(nginx, ['-e', join(dir, 'lb-error.log'), '-c', conf], { stdio: 'ignore' });
    },
    async set(next) {
      upstreams = [...next];
      write(upstreams);
      const r = spawnSync(nginx, ['-e', join(dir, 'lb-error.log'), '-c', conf, '-s', 'reload'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`load balancer reload: ${r.stderr}`);
      await sleep(100); // the new workers take over
    },
    upstreams: () => [...upstreams],
    /** the requests answered in full: which replica, when the answer ended (wall-clock ms), how long it took, the path */
    served() {
      const answers = [];
      for (const line of readFileSync(accessLog, 'utf8').split('\n')) {
        const [upstream, msec, status, completion, seconds, path] = line.split(' ');
        if (status === '200' && completion === 'OK') answers.push({ upstream, endedAt: Number(msec) * 1000, ms: Number(seconds) * 1000, path });
      }
      return answers;
    },
    async stop() {
      if (this.child?.pid) {
        this.child.kill('SIGTERM');
        await new Promise((r) => (this.child.exitCode !== null ? r() : this.child.once('close', r)));
      }
    },
  };
}

/** GET /fast.txt through a replica's Unix socket: true when it answered 200 "ok". */
function answers(sock) {
  return new Promise((resolve) => {
    const req = get({ socketPath: sock, path: '/fast.txt', agent: false, timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (b) => (body += b));
      res.on('end', () => resolve(res.statusCode === 200 && body === 'ok\n'));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });
}

/** `check` until it holds, every 50 ms for at most `ms`. */
async function waitUntil(what, check, ms) {
  for (const until = Date.now() + ms; Date.now() < until; await sleep(50)) if (await check()) return;
  throw new Error(`${what}: not within ${ms / 1000} s`);
}

/** A replica in its own network namespace, and its forwarder: answering through its Unix socket. */
async function startReplica(daemon, variant, site, dir, nsenter) {
  const id = await dockerOk(daemon, ['run', '-d', '--network', 'none', ...variant.runArgs, ...site.volumes(REPLICA_PORT), variant.image]);
  const pid = await dockerOk(daemon, ['inspect', '-f', '{{.State.Pid}}', id]);
  const sock = join(dir, `replica-${id.slice(0, 12)}.sock`);
  const forwarder = spawn(nsenter, [`--net=/proc/${pid}/ns/net`, process.execPath, join(BENCH, 'lib', 'netns-forwarder.mjs'), sock, String(REPLICA_PORT)], { stdio: ['ignore', 'pipe', 'ignore'] });
  const replica = { id, sock, forwarder };
  await waitUntil(`the replica ${id.slice(0, 12)} answering`, () => answers(sock), 20_000);
  return replica;
}

function stopForwarder(replica) {
  if (replica.forwarder.exitCode === null && replica.forwarder.signalCode === null) replica.forwarder.kill('SIGTERM');
}

/** When the container exited, wall-clock ms (docker's FinishedAt, cut to ms), and its exit code. */
async function exitOf(daemon, id) {
  const [finished, code] = (await dockerOk(daemon, ['inspect', '-f', '{{.State.FinishedAt}} {{.State.ExitCode}}', id])).split(' ');
  return { at: Date.parse(finished.replace(/(\.\d{3})\d*/, '$1')), code: Number(code) };
}

/** One rollout: both replicas replaced, one at a time, under constant load. */
async function rollout(daemon, variant, site, tools, { lagS, mix }) {
  const dir = mkdtempSync(join(tmpdir(), 'gi-bench-lb-'));
  chmodSync(dir, 0o755); // the balancer's workers (nobody) reach the replicas' sockets here
  const lb = await loadBalancer(tools.nginx, dir);
  const started = [];
  try {
    for (let i = 0; i < 2; i++) started.push(await startReplica(daemon, variant, site, dir, tools.nsenter));
    let replicas = [...started];
    lb.start(replicas.map((r) => r.sock));
    await waitUntil('the load balancer answering', async () => (await request(lb.port, '/fast.txt', { expectBytes: 3, timeoutMs: 1000 })) === 'ok', 10_000);
    const loads = mix.paths.map(([path, bytes, everyMs]) => constantLoad(lb.port, [[path, bytes]], { everyMs }));
    await sleep(1000);
    const began = Date.now();
    const stops = [];
    for (const old of [...replicas]) {
      const fresh = await startReplica(daemon, variant, site, dir, tools.nsenter);
      started.push(fresh);
      await lb.set([...lb.upstreams(), fresh.sock]);
      replicas = replicas.filter((r) => r !== old).concat(fresh);
      // the stop begins (the pod is deleted): the balancer drops the replica lagS later
      const t0 = Date.now();
      const removal = sleep(lagS * 1000).then(async () => {
        await lb.set(lb.upstreams().filter((u) => u !== old.sock));
        return Date.now();
      });
      if (variant.sleepS) await sleep(variant.sleepS * 1000);
      const stop = await docker(daemon, ['stop', '-t', String(GRACE_S), old.id], { timeoutMs: (GRACE_S + 30) * 1000 });
      if (stop.code !== 0) throw new Error(`docker stop: ${stop.stderr}`);
      const droppedAt = await removal;
      const exit = await exitOf(daemon, old.id);
      stopForwarder(old);
      stops.push({ sock: old.sock, startedAt: t0, droppedMs: droppedAt - t0, exitMs: exit.at - t0, exitCode: exit.code });
    }
    const durationMs = stops[stops.length - 1].startedAt + stops[stops.length - 1].exitMs - began;
    await sleep(1000);
    const tallies = await Promise.all(loads.map(async (l) => tally(await l.stop())));
    // every answer has been logged by now: when each old replica answered its last request
    const served = lb.served();
    for (const s of stops) {
      const mine = served.filter((a) => a.upstream === `unix:${s.sock}`);
      s.lastServedMs = mine.length ? Math.max(...mine.map((a) => a.endedAt)) - s.startedAt : null;
      s.beyondMs = s.lastServedMs === null ? null : s.exitMs - s.lastServedMs;
    }
    const requests = Object.fromEntries(
      mix.paths.map(([path], i) => [path, { ...tallies[i], medianMs: median(served.filter((a) => a.path === path).map((a) => a.ms)) }]),
    );
    return { durationMs, requests, failed: tallies.reduce((n, t) => n + t.failed, 0), total: tallies.reduce((n, t) => n + t.total, 0), stops };
  } finally {
    await lb.stop();
    started.forEach(stopForwarder);
    if (started.length) await docker(daemon, ['rm', '-f', ...started.map((r) => r.id)]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The recipe's shutdown settings as built: its image's GRACEFUL_INIT_* variables. */
async function recipeSettings(daemon, image) {
  const env = JSON.parse(await dockerOk(daemon, ['inspect', '-f', '{{json .Config.Env}}', image]));
  return Object.fromEntries(env.filter((e) => e.startsWith('GRACEFUL_INIT_')).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/** "drain until 1s quiet, 2s–15s; pre-stop `nginx -s quit`" from the recipe's variables. */
export function describeRecipe(env) {
  const quiet = env.GRACEFUL_INIT_DRAIN_QUIET && env.GRACEFUL_INIT_DRAIN_QUIET !== 'off' ? env.GRACEFUL_INIT_DRAIN_QUIET : null;
  const max = env.GRACEFUL_INIT_DRAIN_DELAY;
  const drain = quiet ? `drain until ${quiet} quiet, ${env.GRACEFUL_INIT_DRAIN_MIN ?? '0s'}–${max ?? '?'}` : max ? `drain ${max}` : 'no drain';
  return env.GRACEFUL_INIT_PRE_STOP ? `${drain}, pre-stop \`${env.GRACEFUL_INIT_PRE_STOP}\`` : drain;
}

export function variants(images, recipe) {
  return [
    { id: 'init', label: "nginx under Docker's --init (tini passes SIGQUIT on)", short: "nginx under Docker's --init", image: images.nginx, runArgs: ['--init'], control: true },
    { id: 'sleep', label: `the same, \`sleep ${SLEEP_S}\` first (preStop: sleep)`, short: `the same, sleep ${SLEEP_S} first`, image: images.nginx, runArgs: ['--init'], sleepS: SLEEP_S },
    { id: 'graceful', label: `graceful-init, docker/examples/nginx (${describeRecipe(recipe)})`, short: 'graceful-init, docker/examples/nginx', image: images.recipes.nginx, runArgs: READ_ONLY },
  ];
}

export async function rolloutBench({ rounds, progress, notes }) {
  const tools = { nginx: findNginx(notes), nsenter: which('nsenter') };
  if (!tools.nginx) throw new Error('the load balancer needs nginx on the host (apt-get install nginx)');
  if (!tools.nsenter) throw new Error("each replica's forwarder runs in its network namespace: nsenter (util-linux) is needed");
  const daemon = await startDaemon({ log: progress });
  const siteDir = mkdtempSync(join(tmpdir(), 'gi-bench-site-'));
  try {
    const images = await prepareImages(daemon, { log: progress, recipes: ['nginx'] });
    const recipe = await recipeSettings(daemon, images.recipes.nginx);
    const site = nginxSite(siteDir, { slowBytes: SLOW_BYTES, rate: `${RATE_BYTES / 1024}k` });
    const list = variants(images, recipe);
    const out = Object.fromEntries(list.map((v) => [v.id, { label: v.label, short: v.short, control: Boolean(v.control), runs: [] }]));
    // the order rotates within each (mix, lag) set, so that no variant always follows the same one
    let set = 0;
    for (let r = 0; r < rounds; r++) {
      for (const mix of MIXES) {
        for (const lagS of LAGS_S) {
          for (const v of rotate(list, set++)) {
            const run = await rollout(daemon, v, site, tools, { lagS, mix });
            out[v.id].runs.push({ mix: mix.id, lagS, ...run });
            const stopsS = run.stops.map((s) => (s.exitMs / 1000).toFixed(1)).join(', ');
            progress(`rollout ${mix.id} L=${lagS}s ${v.id} ${r + 1}/${rounds}: ${run.failed} failed, stops ${stopsS} s, ${(run.durationMs / 1000).toFixed(1)} s`);
          }
        }
      }
    }
    return {
      out,
      recipe,
      params: {
        lagsS: LAGS_S,
        mixes: MIXES.map(({ id, label, paths }) => ({ id, label, requests: paths.map(([path, bytes, everyMs]) => ({ path, bytes, everyMs })) })),
        sleepS: SLEEP_S,
        graceS: GRACE_S,
        slowS: SLOW_S,
        rateBytesPerS: RATE_BYTES,
        marginS: MARGIN_S,
        rounds,
      },
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

/** Per variant, mix and lag: failed requests, the stops' medians, the rollouts' median duration. */
export function summarize(result) {
  const rows = [];
  for (const mix of result.params.mixes) {
    for (const lagS of result.params.lagsS) {
      for (const [id, v] of Object.entries(result.out)) {
        const runs = v.runs.filter((r) => r.mix === mix.id && r.lagS === lagS);
        if (runs.length === 0) continue;
        const stops = runs.flatMap((r) => r.stops);
        const kinds = {};
        for (const r of runs) for (const t of Object.values(r.requests)) for (const [k, n] of Object.entries(t.kinds)) kinds[k] = (kinds[k] ?? 0) + n;
        const beyond = stops.map((s) => s.beyondMs).filter((x) => x !== null);
        rows.push({
          mix: mix.id,
          lagS,
          id,
          label: v.label,
          control: v.control,
          rollouts: runs.length,
          failed: runs.reduce((n, r) => n + r.failed, 0),
          total: runs.reduce((n, r) => n + r.total, 0),
          kinds,
          exitS: median(stops.map((s) => s.exitMs)) / 1000,
          worstExitS: Math.max(...stops.map((s) => s.exitMs)) / 1000,
          beyondS: beyond.length ? median(beyond) / 1000 : null,
          worstBeyondS: beyond.length ? Math.max(...beyond) / 1000 : null,
          durationS: median(runs.map((r) => r.durationMs)) / 1000,
        });
      }
    }
  }
  return rows;
}

/**
 * The targets for graceful-init, each judged on every replica's stop of a mix: 0 failed requests at
 * every lag; exit ≤ lag + 2 s (stop time); exit ≤ 2 s after the last request the replica served.
 */
export function judge(rows, marginS = MARGIN_S) {
  const verdicts = {};
  for (const mix of [...new Set(rows.map((r) => r.mix))]) {
    const mine = rows.filter((r) => r.mix === mix && r.id === 'graceful');
    verdicts[mix] = {
      failed: mine.every((r) => r.failed === 0),
      exitWithinLag: mine.every((r) => r.worstExitS <= r.lagS + marginS),
      exitAfterLastRequest: mine.every((r) => r.worstBeyondS !== null && r.worstBeyondS <= marginS),
    };
  }
  return verdicts;
}

const s1 = (x) => (x === null || Number.isNaN(x) ? '–' : `${x.toFixed(1)} s`);
const pass = (ok) => (ok ? '**PASS**' : '**MISS**');

/** The results section for the README: the method in two lines, one table per mix, the targets. */
export function renderRollout(result) {
  const { params } = result;
  const rows = summarize(result);
  const verdicts = judge(rows, params.marginS);
  const rounds = params.rounds ?? rows[0]?.rollouts ?? 1;
  const lines = [
    `Rolling update in a real engine (\`npm run bench -- --rollout\`, bench/lib/suites/rollout.mjs): 2 replicas of nginx in dockerd behind a load balancer (nginx, no retries) that drops a stopping replica L seconds after its stop began; constant load; ${rounds} rollout${rounds === 1 ? '' : 's'} (${2 * rounds} replica stops) per row. Stop: from the stop's start (the pod's deletion) to the replica's exit; after its last request: from the end of the last answer it gave (the balancer's log) to its exit. Medians, worst in brackets.`,
    '',
  ];
  for (const mix of params.mixes) {
    const took = (path) => median(Object.values(result.out).flatMap((v) => v.runs.filter((r) => r.mix === mix.id).map((r) => r.requests[path]?.medianMs)).filter(Number.isFinite));
    const each = (q) => (q.path === '/slow.bin' ? `, ${params.slowS} s each (${s1((took(q.path) ?? NaN) / 1000)} measured)` : '');
    lines.push(`**${mix.label[0].toUpperCase()}${mix.label.slice(1)}** (${mix.requests.map((q) => `\`GET ${q.path}\` every ${q.everyMs} ms${each(q)}`).join('; ')}):`, '');
    lines.push('| L | replicas | failed requests | stop | after its last request | rollout |', '| ---: | --- | --- | ---: | ---: | ---: |');
    for (const r of rows.filter((x) => x.mix === mix.id)) {
      const why = Object.entries(r.kinds).map(([k, n]) => `${n} ${k}`).join(', ');
      const failed = `${r.failed} of ${r.total}${why ? ` (${why})` : ''}`;
      lines.push(`| ${r.lagS} s | ${r.label} | ${r.failed > 0 ? `**${failed}**` : failed} | ${s1(r.exitS)} (${s1(r.worstExitS)}) | ${s1(r.beyondS)} (${s1(r.worstBeyondS)}) | ${s1(r.durationS)} |`);
    }
    const v = verdicts[mix.id];
    if (v) {
      lines.push('', `graceful-init, ${mix.label}: 0 failed at every L ${pass(v.failed)}; every stop ≤ L + ${params.marginS} s ${pass(v.exitWithinLag)}; every stop ≤ ${params.marginS} s after the replica's last request ${pass(v.exitAfterLastRequest)}.`);
    }
    lines.push('');
  }
  lines.push('![Rolling update: stop time and failed requests by load-balancer lag](bench/results/rollout.svg)', '');
  return lines.join('\n');
}

/**
 * The chart: per mix, each variant's median stop time against L; red where requests failed; the
 * band is the target (the stop within L + 2 s). With 5-second requests, the dotted line is L + 5 s:
 * when a request that started just before the balancer dropped the replica ends.
 */
export function renderRolloutSvg(result) {
  const { params, meta } = result;
  const rows = summarize(result);
  const colors = { init: '#8c959f', sleep: '#bf8700', graceful: '#1f6feb' };
  const W = 820;
  const parts = [];
  const xMax = Math.max(...params.lagsS) + 1;
  const yMax = 2 * Math.ceil(Math.max(xMax + params.slowS + 1, ...rows.map((r) => r.exitS)) / 2);
  const [x0, pw, ph] = [60, 440, 200];
  let y = 64;
  for (const mix of params.mixes) {
    const mine = rows.filter((r) => r.mix === mix.id);
    parts.push(`<text x="10" y="${y}" class="t">${esc(mix.label)}: each replica's stop (median) by when the balancer drops it</text>`);
    const top = y + 24;
    const { px, py } = chartAxes(parts, { x0, top, width: pw, height: ph, xMax, yMax, yStep: 2, xTicks: params.lagsS, xLabel: 'L: the balancer drops the replica (s after the stop began) →', yLabel: '↑ the replica exits (s after the stop began)' });
    targetBand(parts, { px, py, xMax, margin: params.marginS });
    const long = mix.requests.some((q) => q.path === '/slow.bin');
    if (long) parts.push(`<line x1="${px(0)}" y1="${py(params.slowS)}" x2="${px(xMax)}" y2="${py(xMax + params.slowS)}" stroke="#57606a" stroke-width="1" stroke-dasharray="1 3"/>`);
    let ly = top + 8;
    for (const [k, id] of Object.keys(result.out).entries()) {
      const points = params.lagsS.map((lagS) => mine.find((r) => r.id === id && r.lagS === lagS)).filter(Boolean);
      if (points.length === 0) continue;
      const color = colors[id] ?? '#57606a';
      parts.push(`<polyline points="${points.map((p) => `${px(p.lagS)},${py(p.exitS)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
      for (const p of points) {
        parts.push(`<circle cx="${px(p.lagS)}" cy="${py(p.exitS)}" r="3.5" fill="${p.failed ? '#cf222e' : color}"/>`);
        // the counts of variants that stop alike would overlap: each variant's to one side
        if (p.failed) parts.push(`<text x="${Number(px(p.lagS)) + 7}" y="${Number(py(p.exitS)) + 12 * k - 8}" class="f">${p.failed}</text>`);
      }
      const label = result.out[id].short ?? result.out[id].label;
      parts.push(`<line x1="${x0 + pw + 20}" y1="${ly}" x2="${x0 + pw + 40}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
      parts.push(`<text x="${x0 + pw + 46}" y="${ly + 4}" class="l">${esc(label)}</text>`);
      const failed = points.map((p) => p.failed).join(' / ');
      parts.push(`<text x="${x0 + pw + 46}" y="${ly + 18}" class="${points.some((p) => p.failed) ? 'f' : 'v'}">failed: ${failed}</text>`);
      const beyond = points.map((p) => (p.beyondS === null ? '–' : p.beyondS.toFixed(1))).join(' / ');
      parts.push(`<text x="${x0 + pw + 46}" y="${ly + 32}" class="v">after its last request: ${beyond} s</text>`);
      ly += 50;
    }
    parts.push(`<text x="${x0 + pw + 20}" y="${ly - 4}" class="s">(the figures at L = ${params.lagsS.join(' / ')} s)</text>`);
    parts.push(`<text x="${x0 + pw + 20}" y="${ly + 14}" class="s">red dot: requests failed (count)</text>`);
    parts.push(`<text x="${x0 + pw + 20}" y="${ly + 28}" class="s">green band: exit within L + ${params.marginS} s</text>`);
    if (long) parts.push(`<text x="${x0 + pw + 20}" y="${ly + 42}" class="s">dotted: L + ${params.slowS} s, a request started at L ends</text>`);
    y = Math.max(top + ph + 56, ly + 60);
  }
  const subtitle = `${meta.date.slice(0, 10)} · ${meta.cpu}, ${meta.cores} cores · dockerd, 2 replicas, ${params.rounds} rollout${params.rounds === 1 ? '' : 's'} per point · load average ${meta.loadAverage1m.before.toFixed(2)} at the start`;
  return svgDocument({ width: W, height: y, title: 'Rolling update: stop time and failed requests by load-balancer lag', subtitle, parts });
}
