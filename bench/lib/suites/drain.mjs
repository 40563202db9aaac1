// The drain against a load balancer that lags (issue 13). The lag is modelled simply: after the
// stop signal a client keeps sending requests (a new connection every EVERY_MS) for DELAY seconds,
// the time the endpoints take to catch up, then stops. A request fails when refused or reset.
// The app is test/fixtures/http-app.py, which has no graceful stop (TERM ends it at once), under
// graceful-init as PID 1 of fresh PID and network namespaces: the client runs inside that network
// namespace (nsenter), so the traffic the init watches is the client's and nothing else's.
// Each variant is one way to drain: a fixed --drain-delay, short or long, or --drain-quiet.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, which } from '../setup.mjs';
import { Namespace } from '../ns.mjs';
import { nowNs, rotate, sleep } from '../util.mjs';

const APP = join(ROOT, 'test', 'fixtures', 'http-app.py');
const LOAD = join(ROOT, 'test', 'fixtures', 'http-load.py');
const PORT = 18080; // the namespace's own loopback: no clash with anything else
const EVERY_MS = 50;
const LEAD_MS = 500; // the client starts this long before the stop signal

export const DRAIN_VARIANTS = [
  { id: 'fixed2', options: ['--drain-delay', '2s'] },
  { id: 'fixed10', options: ['--drain-delay', '10s'] },
  { id: 'quiet', options: ['--drain-quiet', '1s', '--drain-delay', '15s'] },
];

/** python3 itself (not a shim that takes its time to start), or null; with ip and nsenter. */
export function drainTools(notes) {
  const found = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  const python = found.status === 0 ? found.stdout.trim() : null;
  const ip = which('ip');
  const nsenter = which('nsenter');
  if (python && ip && nsenter) return { python, ip, nsenter };
  notes.push('the drain suite needs python3, ip and nsenter: not run');
  return null;
}

/** Runs a command in the network namespace of `pid` (with `tools.nsenter`); resolves with its stdout. */
export function inside(tools, pid, argv) {
  return new Promise((resolve) => {
    const child = spawn(tools.nsenter, [`--net=/proc/${pid}/ns/net`, ...argv], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.on('close', () => resolve(out.trim()));
  });
}

async function listening(tools, pid, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if ((await inside(tools, pid, [tools.python, LOAD, String(PORT), '/fast', '0', '0'])).endsWith('1 0')) return true;
    await sleep(50);
  }
  return false;
}

/** One stop: TERM, DELAY seconds of traffic after it; requests failed and the time to exit. */
async function stopOnce(ctx, tools, init, variant, delayS) {
  const app = [tools.python, APP, String(PORT)];
  const argv = ['sh', '-c', `${tools.ip} link set lo up && exec "$@"`, 'sh', ...init.cmd(app, { options: variant.options })];
  const ns = new Namespace(ctx, argv, { net: true, stamp: false });
  try {
    const pid = await ns.initPid();
    if (!(await listening(tools, pid, 10_000))) throw new Error(`the app never listened: ${ns.stderr.trim()}`);
    // the client stops at an exact moment on the machine's one monotonic clock, however long
    // python takes to start; it exits once its last request has been answered or has failed
    const endNs = nowNs() + BigInt((LEAD_MS + delayS * 1000) * 1e6);
    let t0;
    const since = () => Number(nowNs() - t0) / 1e9;
    const load = inside(tools, pid, [tools.python, LOAD, String(PORT), '/fast', `@${Number(endNs) / 1e9}`, String(EVERY_MS)]).then((counts) => ({ counts, endS: since() }));
    await sleep(LEAD_MS);
    t0 = nowNs();
    process.kill(pid, 'SIGTERM');
    await ns.finish(30_000);
    const exitS = since();
    const { counts, endS: trafficS } = await load;
    // its last line: "ok failed" (the first says the load is flowing)
    const [ok, failed] = (counts.split('\n').at(-1) ?? '').split(' ').map(Number);
    const summary = ns.stderr.split('\n').find((l) => l.includes('shutdown on')) ?? '';
    return { delayS, exitS, trafficS, stopsS: Number(endNs - t0) / 1e9, ok, failed, summary: summary.replace(/^.*?shutdown on/, 'shutdown on') };
  } finally {
    ns.kill();
  }
}

/** Every variant at every delay, interleaved: at each delay the order of the variants rotates. */
export async function drain(ctx, inits, { delaysS, progress }) {
  const init = inits.find((i) => i.id === 'graceful-init');
  const out = Object.fromEntries(DRAIN_VARIANTS.map((v) => [v.id, []]));
  for (const [r, delayS] of delaysS.entries()) {
    for (const v of rotate(DRAIN_VARIANTS, r)) {
      const run = await stopOnce(ctx, ctx.drainTools, init, v, delayS);
      out[v.id].push(run);
      progress(`drain ${v.options.join(' ')}, traffic for ${delayS} s after TERM: ${run.failed} of ${run.ok + run.failed} failed, exit after ${run.exitS.toFixed(2)} s`);
    }
  }
  return { out, params: { variants: DRAIN_VARIANTS, delaysS, everyMs: EVERY_MS, leadMs: LEAD_MS } };
}
