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

// The traffic modules as one ESM file (the bench runs plain Node, the sources are TypeScript).
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
  return import(pathToFileURL(outfile).href);
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

async function measure(name, startPoller, task) {
  const wall = [];
  const timed = () => {
    const t0 = performance.now();
    task();
    wall.push(performance.now() - t0);
  };
  await sleep(200);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const poller = startPoller(timed, { intervalMs: 1000 / RATE });
  await sleep(SECONDS * 1000);
  poller.stop();
  const elapsedMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  const row = {
    name,
    polls: wall.length,
    cpuPercentOfCore: (100 * cpuMs) / elapsedMs,
    userMs: c.user / 1000,
    systemMs: c.system / 1000,
    medianPollMs: median(wall),
    maxPollMs: Math.max(...wall),
  };
  console.log(
    `${name.padEnd(52)} ${row.cpuPercentOfCore.toFixed(2).padStart(6)} % of a core   ` +
      `(user ${row.userMs.toFixed(0)} ms, sys ${row.systemMs.toFixed(0)} ms in ${(elapsedMs / 1000).toFixed(1)} s; ` +
      `median poll ${row.medianPollMs.toFixed(2)} ms, max ${row.maxPollMs.toFixed(2)} ms)`,
  );
  return row;
}

/** CPU of this process while `start()`'s own timers run for SECONDS. */
async function measureRunning(name, start) {
  await sleep(200);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const stop = start();
  await sleep(SECONDS * 1000);
  const extra = stop();
  const elapsedMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  const row = { name, cpuPercentOfCore: (100 * cpuMs) / elapsedMs, userMs: c.user / 1000, systemMs: c.system / 1000, ...extra };
  console.log(
    `${name.padEnd(52)} ${row.cpuPercentOfCore.toFixed(2).padStart(6)} % of a core   ` +
      `(user ${row.userMs.toFixed(0)} ms, sys ${row.systemMs.toFixed(0)} ms in ${(elapsedMs / 1000).toFixed(1)} s; ${JSON.stringify(extra)})`,
  );
  return row;
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

const scratch = mkdtempSync(join(tmpdir(), 'traffic-cost-'));
const children = [];
try {
  const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-addon.mjs')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('addon build failed');
  const addon = { exports: {} };
  process.dlopen(addon, join(root, 'dist', 'reaper.node'));
  const traffic = await bundleTraffic(scratch);
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
      `${(ACTIVE * 100).toFixed(0)} % of them send a request every second; ${RATE} polls/s for ${SECONDS} s each`,
  );

  const rows = [];
  const oneDumpMs = cpuPerCall(() => diag.connections([port]));
  const walkOnlyMs = cpuPerCall(() => diag.connections([1]));
  const countersMs = cpuPerCall(() => traffic.readTcpCounters(), 200);
  console.log(
    `one dump of the ${seen.value.count} connections: ${oneDumpMs.toFixed(2)} ms CPU; a dump that matches nothing (the walk alone): ` +
      `${walkOnlyMs.toFixed(2)} ms; reading /proc/net/snmp: ${(countersMs * 1000).toFixed(0)} µs`,
  );
  const tracker = new traffic.TrafficTracker();
  const tracker2 = new traffic.TrafficTracker();
  const manyPorts = Array.from({ length: 600 }, (_, i) => 1 + i).concat(port); // past the kernel filter's limit
  rows.push(await measure('idle poller (baseline)', traffic.startPoller, () => {}));
  rows.push(
    await measure('sock_diag dump at every poll', traffic.startPoller, () => {
      diag.connections([port]);
    }),
  );
  rows.push(
    await measure('dump + tracker at every poll', traffic.startPoller, () => {
      const r = diag.connections([port]);
      if (r.ok) tracker.observe(r.value, performance.now());
    }),
  );
  rows.push(
    await measure('dump + tracker at every poll, no kernel filter', traffic.startPoller, () => {
      const r = diag.connections(manyPorts);
      if (r.ok) tracker2.observe(r.value, performance.now());
    }),
  );
  const monitorRow = (name) =>
    measureRunning(name, () => {
      const m = traffic.startTrafficMonitor({ diag, ports: () => [port], intervalMs: 1000 / RATE });
      return () => {
        m.stop();
        return { ...m.stats, connections: m.tracker.latest?.connections, active: m.tracker.latest?.active };
      };
    });
  rows.push(await monitorRow('monitor (counters gate, 0.5 % budget), traffic'));
  const drainLike = (name) =>
    measureRunning(name, () => {
      const m = traffic.startTrafficMonitor({ diag, ports: () => [port], intervalMs: 1000 / RATE });
      const t = setInterval(() => m.pollNow(), 1000); // drainUntilQuiet with --drain-quiet 1s under steady traffic
      return () => {
        clearInterval(t);
        m.stop();
        return { ...m.stats };
      };
    });
  rows.push(await drainLike('monitor + pollNow every 1 s (drain-quiet 1s), traffic'));
  for (const c of children.slice(1)) c.kill('SIGUSR1'); // the clients fall silent
  await sleep(1500);
  rows.push(await monitorRow('monitor, traffic stopped'));
  for (const c of children.slice(1)) c.kill('SIGUSR1');
  rows.push(
    await measure('/proc/net/tcp{,6} read + parse at every poll', traffic.startPoller, () => {
      procNetTcp(port);
    }),
  );

  const result = {
    date: new Date().toISOString(),
    node: process.version,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    cpus: (await import('node:os')).cpus().length,
    loadavg: (await import('node:os')).loadavg(),
    connections: seen.value.count,
    ratePerSecond: RATE,
    seconds: SECONDS,
    activeFraction: ACTIVE,
    oneDumpCpuMs: oneDumpMs,
    walkOnlyCpuMs: walkOnlyMs,
    countersReadCpuMs: countersMs,
    rows,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written: ${OUT}`);
} finally {
  for (const p of children) if (p.pid) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  rmSync(scratch, { recursive: true, force: true });
}
