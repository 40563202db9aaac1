#!/usr/bin/env node
// The cost of watching the app's traffic (issue 13): CPU time of polling the inbound connections
// through sock_diag at 10 polls a second with 10,000 loopback connections open, against reading
// and parsing /proc/net/tcp + tcp6 at the same rate. Not part of CI or `npm run bench`.
//
//   node bench/traffic-cost.mjs [--connections 10000] [--seconds 10] [--rate 10] [--clients 4]
//                               [--active 0.02] [--out bench/results/traffic-cost.json]
//
// An "app" process accepts the connections on 127.0.0.1 and answers every request with 2 bytes;
// client processes open them (a few thousand each, so that no process needs more than ~10,000
// descriptors) and every second a fraction --active of them sends a small request. This process
// plays the init: it holds none of the sockets and measures its own CPU time (user + system,
// the kernel's work for the netlink dump included) while a poller runs one kind of reading.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { Lines, median, sleep } from './lib/util.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pinnedNode = join(root, 'node_modules', '.bin', 'node');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const CONNECTIONS = Number(option('connections', '10000'));
const SECONDS = Number(option('seconds', '10'));
const RATE = Number(option('rate', '10'));
const CLIENTS = Number(option('clients', '4'));
const ACTIVE = Number(option('active', '0.02'));
const OUT = resolve(option('out', join(root, 'bench', 'results', 'traffic-cost.json')));

// The init runs on the pinned Node 24: measure there.
if (!process.version.startsWith('v24.')) {
  const r = spawnSync(pinnedNode, process.argv.slice(1), { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

/** Runs `script` (CommonJS, for `node -e`) with RLIMIT_NOFILE raised to the hard limit. */
function child(script, args) {
  const p = spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; node="$0"; script="$1"; shift; exec "$node" -e "$script" -- "$@"', pinnedNode, script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return { p, lines: new Lines(p.stdout) };
}

const APP = `
const net = require('net');
let open = 0;
const server = net.createServer({ noDelay: true }, (s) => {
  open++;
  s.on('data', () => s.write('ok'));
  s.on('error', () => {});
  s.on('close', () => open--);
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => console.log('port ' + server.address().port));
setInterval(() => console.log('open ' + open), 500);
`;

const CLIENT = `
const net = require('net');
const [port, count, active] = process.argv.slice(1).map(Number);
const socks = [];
let pending = 0, started = 0;
function more() {
  while (pending < 200 && started < count) {
    started++; pending++;
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => {
      pending--; socks.push(s);
      if (socks.length === count) console.log('ready');
      more();
    });
    s.on('data', () => {});
    s.on('error', (e) => { console.log('error ' + e.code); process.exit(1); });
  }
}
more();
let sending = true;
process.on('SIGUSR1', () => { sending = !sending; });
setInterval(() => {
  if (sending) for (const s of socks) if (Math.random() < active) s.write('GET / HTTP/1.1\\r\\nhost: x\\r\\n\\r\\n');
}, 1000);
`;

// The traffic modules as one ESM file (the bench runs plain Node, the sources are TypeScript); its path.
function bundleTraffic(dir) {
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    ['sock-diag', 'traffic-tracker', 'poller', 'tcp-counters', 'traffic-monitor']
      .map((m) => `export * from ${JSON.stringify(join(root, 'src', 'traffic', `${m}.ts`))};`)
      .join('\n'),
  );
  const outfile = join(dir, 'traffic.mjs');
  buildSync({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', outfile, logLevel: 'error' });
  return outfile;
}

/** /proc/net/tcp{,6} read and parsed as a /proc-based watcher would: fields of the lines on `port`. */
function procNetTcp(port) {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  let found = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    let start = text.indexOf('\n') + 1;
    while (start > 0 && start < text.length) {
      const end = text.indexOf('\n', start);
      const line = text.slice(start, end < 0 ? text.length : end);
      start = end + 1;
      const f = line.trim().split(/\s+/);
      // local address, state, tx_queue:rx_queue, inode
      if (f[1]?.endsWith(hexPort.trim()) && f[3] !== '0A') {
        const [tx, rx] = (f[4] ?? '0:0').split(':').map((h) => parseInt(h, 16));
        if (tx >= 0 && rx >= 0 && Number(f[9]) >= 0) found++;
      }
      if (end < 0) break;
    }
  }
  return found;
}

/** Runs `task` from a poller for SECONDS; CPU of this process over that time. */
async function pollRow(startPoller, task) {
  const wall = [];
  const poller = startPoller(() => {
    const t0 = performance.now();
    task();
    wall.push(performance.now() - t0);
  }, { intervalMs: 1000 / RATE });
  await sleep(1000); // warm-up
  wall.length = 0;
  const row = await cpuOver(SECONDS * 1000);
  poller.stop();
  return { ...row, polls: wall.length, medianPollMs: median(wall), maxPollMs: Math.max(...wall) };
}

async function cpuOver(ms) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(ms);
  const elapsedMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { cpuPercentOfCore: (100 * (c.user + c.system)) / 1000 / elapsedMs, userMs: c.user / 1000, systemMs: c.system / 1000, elapsedMs };
}

/** CPU time of one call, median of `n`. */
function cpuPerCall(f, n = 20) {
  f();
  const samples = [];
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    samples.push((c.user + c.system) / 1000);
  }
  return median(samples);
}

/** The measuring process: one mode, in a fresh process (a heap that earlier modes filled would cost GC time). */
async function measurer(mode, port, bundle) {
  const traffic = await import(pathToFileURL(bundle).href);
  const addon = { exports: {} };
  process.dlopen(addon, join(root, 'dist', 'reaper.node'));
  const diag = traffic.sockDiagFrom(addon.exports);
  const tracker = new traffic.TrafficTracker();
  const manyPorts = Array.from({ length: 600 }, (_, i) => 1 + i).concat(port); // past the kernel filter's limit
  const monitorRow = async (extraPollsMs) => {
    const m = traffic.startTrafficMonitor({ diag, ports: () => [port], intervalMs: 1000 / RATE });
    const t = extraPollsMs ? setInterval(() => m.pollNow(), extraPollsMs) : undefined;
    await sleep(1000); // warm-up
    const before = { ...m.stats };
    const row = await cpuOver(SECONDS * 1000);
    clearInterval(t);
    m.stop();
    const stats = Object.fromEntries(['dumps', 'unchanged', 'deferred'].map((k) => [k, m.stats[k] - before[k]]));
    return { ...row, ...stats, lastDumpCpuMs: m.stats.lastDumpCpuMs, connections: m.tracker.latest?.connections };
  };
  let row;
  switch (mode) {
    case 'calls':
      row = {
        oneDumpCpuMs: cpuPerCall(() => diag.connections([port])),
        oneDumpAndTrackCpuMs: cpuPerCall(() => {
          const r = diag.connections([port]);
          if (r.ok) tracker.observe(r.value, performance.now());
        }),
        walkOnlyCpuMs: cpuPerCall(() => diag.connections([1])),
        countersReadCpuMs: cpuPerCall(() => traffic.readTcpCounters(), 200),
        procNetTcpCpuMs: cpuPerCall(() => procNetTcp(port), 10),
        connections: diag.connections([port]).value.count,
      };
      break;
    case 'baseline':
      row = await pollRow(traffic.startPoller, () => {});
      break;
    case 'dump':
      row = await pollRow(traffic.startPoller, () => diag.connections([port]));
      break;
    case 'dump+track':
      row = await pollRow(traffic.startPoller, () => {
        const r = diag.connections([port]);
        if (r.ok) tracker.observe(r.value, performance.now());
      });
      break;
    case 'dump+track-unfiltered':
      row = await pollRow(traffic.startPoller, () => {
        const r = diag.connections(manyPorts);
        if (r.ok) tracker.observe(r.value, performance.now());
      });
      break;
    case 'monitor':
      row = await monitorRow(0);
      break;
    case 'monitor+drain':
      row = await monitorRow(1000); // drainUntilQuiet with --drain-quiet 1s rechecks about once a second
      break;
    case 'procnet':
      row = await pollRow(traffic.startPoller, () => procNetTcp(port));
      break;
    default:
      throw new Error(`unknown mode ${mode}`);
  }
  console.log(`result ${JSON.stringify(row)}`);
}

if (process.argv.includes('--measure')) {
  await measurer(option('measure', ''), Number(option('port', '0')), option('bundle', ''));
  process.exit(0);
}

const loadavgBefore = (await import('node:os')).loadavg();
const scratch = mkdtempSync(join(tmpdir(), 'traffic-cost-'));
const children = [];
try {
  const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-addon.mjs')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('addon build failed');
  const bundle = await bundleTraffic(scratch);
  const addon = { exports: {} };
  process.dlopen(addon, join(root, 'dist', 'reaper.node'));
  const traffic = await import(pathToFileURL(bundle).href);
  const diag = traffic.sockDiagFrom(addon.exports);
  if (!diag) throw new Error('the addon has no sock_diag functions');

  const app = child(APP, []);
  children.push(app.p);
  const port = Number((await app.lines.next('port ', 10_000))?.slice(5));
  const per = Math.ceil(CONNECTIONS / CLIENTS);
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) {
    const c = child(CLIENT, [String(port), String(Math.min(per, CONNECTIONS - i * per)), String(ACTIVE)]);
    children.push(c.p);
    clients.push(c);
  }
  for (const c of clients) {
    const line = await c.lines.next('', 120_000);
    if (line !== 'ready') throw new Error(`client: ${line ?? 'no answer'}`);
  }
  const seen = diag.connections([port]);
  if (!seen.ok) throw new Error(`sock_diag: ${seen.error.code}`);
  const lines = (f) => {
    try {
      return readFileSync(f, 'latin1').split('\n').length - 2;
    } catch {
      return 0;
    }
  };
  console.log(
    `${seen.value.count} inbound connections on 127.0.0.1:${port} (${lines('/proc/net/tcp') + lines('/proc/net/tcp6')} lines in /proc/net/tcp{,6}), ` +
      `${(ACTIVE * 100).toFixed(0)} % of them send a request every second; ${RATE} polls/s, ${SECONDS} s per row, each in a fresh process`,
  );

  const measureIn = async (mode) => {
    const m = spawn(pinnedNode, [fileURLToPath(import.meta.url), '--measure', mode, '--port', String(port), '--bundle', bundle,
      '--seconds', String(SECONDS), '--rate', String(RATE)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Lines(m.stdout).next('result ', (SECONDS + 60) * 1000);
    if (!line) throw new Error(`measuring ${mode} failed`);
    return JSON.parse(line.slice(7));
  };
  const calls = await measureIn('calls');
  console.log(
    `one dump of the ${calls.connections} connections: ${calls.oneDumpCpuMs.toFixed(2)} ms CPU (with the tracker ${calls.oneDumpAndTrackCpuMs.toFixed(2)} ms); ` +
      `a dump that matches nothing (the walk alone): ${calls.walkOnlyCpuMs.toFixed(2)} ms; /proc/net/snmp: ${(calls.countersReadCpuMs * 1000).toFixed(0)} µs; ` +
      `/proc/net/tcp{,6} read + parse: ${calls.procNetTcpCpuMs.toFixed(1)} ms`,
  );
  const rows = [];
  const show = (name, mode, row) => {
    rows.push({ name, mode, ...row });
    const extra = row.polls !== undefined
      ? `median poll ${row.medianPollMs.toFixed(2)} ms, max ${row.maxPollMs.toFixed(2)} ms`
      : `dumps ${row.dumps}, unchanged ${row.unchanged}, deferred ${row.deferred}, last dump ${row.lastDumpCpuMs.toFixed(1)} ms`;
    console.log(
      `${name.padEnd(50)} ${row.cpuPercentOfCore.toFixed(2).padStart(6)} % of a core  (user ${row.userMs.toFixed(0)} ms, sys ${row.systemMs.toFixed(0)} ms; ${extra})`,
    );
  };
  const modes = [
    ['idle poller (baseline)', 'baseline'],
    ['sock_diag dump at every poll', 'dump'],
    ['dump + tracker at every poll', 'dump+track'],
    ['dump + tracker at every poll, no kernel filter', 'dump+track-unfiltered'],
    ['monitor as shipped, traffic', 'monitor'],
    ['monitor + a forced dump a second (drain-quiet 1s)', 'monitor+drain'],
  ];
  for (const [name, mode] of modes) show(name, mode, await measureIn(mode));
  for (const c of children.slice(1)) c.kill('SIGUSR1'); // the clients fall silent
  await sleep(1500);
  show('monitor as shipped, traffic stopped', 'monitor', await measureIn('monitor'));
  for (const c of children.slice(1)) c.kill('SIGUSR1');
  show('/proc/net/tcp{,6} read + parse at every poll', 'procnet', await measureIn('procnet'));

  const result = {
    date: new Date().toISOString(),
    node: process.version,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    cpus: (await import('node:os')).cpus().length,
    loadavg: loadavgBefore,
    connections: seen.value.count,
    loadavgAfter: (await import('node:os')).loadavg(),
    ratePerSecond: RATE,
    seconds: SECONDS,
    activeFraction: ACTIVE,
    calls,
    rows,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written: ${OUT}`);
} finally {
  for (const p of children) if (p.pid) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  rmSync(scratch, { recursive: true, force: true });
}
