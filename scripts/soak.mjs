// npm run soak [-- --minutes N] : runs dist/graceful-init for N minutes (default 3) as PID 1 of a new
// PID namespace (root + unshare; else as a plain child) with an app that forks all the time, signals
// sent to the init and status-endpoint traffic, then prints the init's memory and descriptors at the
// start and at the end. Not part of CI: it measures, it does not judge.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { dist } from './lib/paths.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const minutes = Number(arg('minutes', '3'));
const binary = arg('binary', join(dist, 'graceful-init'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});

// forks all the time: short children, and grandchildren orphaned to the init (the reaper's job)
const APP = `trap "" HUP USR2 WINCH ALRM; trap "exit 0" TERM
while :; do (sleep 0.02 &); true; sleep 0.01; done`;
const args = ['--status-addr', `127.0.0.1:${port}`, '--pre-stop', 'sh -c "echo pre-stop output"', '--pre-stop-wait', '0', '--', 'sh', '-c', APP];
const unshare = ['/usr/bin/unshare', '/bin/unshare'].find(existsSync);
const asPid1 = process.getuid?.() === 0 && unshare !== undefined;
const child = asPid1
  ? spawn(unshare, ['--pid', '--fork', '--mount-proc', '--kill-child', binary, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  : spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
child.stderr.on('data', (b) => (stderr = (stderr + b.toString()).slice(-4000)));
const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));

function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
let initPid = child.pid;
if (asPid1) {
  for (let i = 0; i < 300 && !childrenOf(child.pid)[0]; i++) await sleep(10);
  initPid = childrenOf(child.pid)[0];
}
if (!initPid) throw new Error('the init did not start');

function sample() {
  const status = readFileSync(`/proc/${initPid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  const zombies = childrenOf(initPid).filter((p) => {
    try {
      return /\) Z /.test(readFileSync(`/proc/${p}/stat`, 'utf8'));
    } catch {
      return false;
    }
  }).length;
  return { rssKB: kb('VmRSS'), rssAnonKB: kb('RssAnon'), vmHwmKB: kb('VmHWM'), fds: readdirSync(`/proc/${initPid}/fd`).length, threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]), zombieChildren: zombies };
}

const counts = { signals: 0, requests: 0, ok: 0, failed: 0, abusive: 0 };
let running = true;

async function signals() {
  const names = ['SIGHUP', 'SIGUSR2', 'SIGWINCH', 'SIGALRM'];
  for (let i = 0; running; i++) {
    try {
      process.kill(initPid, names[i % names.length]);
      counts.signals++;
    } catch {
      return;
    }
    await sleep(20);
  }
}

function get(method, path) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, timeout: 3000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function traffic() {
  const probes = [['GET', '/healthz'], ['GET', '/readyz'], ['HEAD', '/healthz'], ['HEAD', '/prestop'], ['POST', '/prestop'], ['GET', '/nope']];
  for (let i = 0; running; i++) {
    const [method, path] = probes[i % probes.length];
    const status = await get(method, path);
    counts.requests++;
    if (status === 0) counts.failed++;
    else counts.ok++;
    if (i % 10 === 0) {
      // a client that sends half a request and goes silent, and one that sends garbage
      for (const data of ['GET /healthz HTTP/1.1\r\nX: ', '\x00\x01garbage\r\n\r\n']) {
        const s = connect({ host: '127.0.0.1', port });
        s.on('error', () => {});
        s.on('connect', () => s.write(data));
        setTimeout(() => s.destroy(), 5000);
        counts.abusive++;
      }
    }
    await sleep(10);
  }
}

await sleep(2000);
const start = sample();
console.log(`soak: ${minutes} min, init ${asPid1 ? 'as PID 1' : 'as a plain child (not root or no unshare)'}, pid ${initPid}`);
console.log('start', JSON.stringify(start));
const load = [signals(), traffic()];
const until = Date.now() + minutes * 60_000;
while (Date.now() < until) {
  await sleep(Math.min(30_000, until - Date.now()));
  console.log(`t+${Math.round((Date.now() - (until - minutes * 60_000)) / 1000)}s`, JSON.stringify(sample()));
}
running = false;
await Promise.all(load);
const end = sample();
console.log('end', JSON.stringify(end));
console.log('load', JSON.stringify(counts));
process.kill(initPid, 'SIGTERM');
const code = await Promise.race([exited, sleep(30_000).then(() => 'did not exit within 30s')]);
console.log(`init exit: ${code}; last line: ${stderr.trim().split('\n').at(-1)}`);
if (typeof code !== 'number') child.kill('SIGKILL');
