// Signal forwarding, ping-pong: send USR1 (then USR2, alternately) to the init from outside its
// namespace, as a container runtime does; the app (bench/c/probe recv) stamps each arrival with
// sigwaitinfo + CLOCK_MONOTONIC; the next signal goes out only after the previous one arrived (or
// was declared lost after a timeout). Latency = arrival - send, both on CLOCK_MONOTONIC.
// Each round starts one namespace per init and interleaves signal by signal: A, B, C, A, B, C...,
// from 1.3 s after the last of them started: latencies of inits at rest, not of their start-up.
// The init's RSS is read from /proc/<pid>/status while the app runs, after the round's signals and
// at least 1.6 s after its start (graceful-init drops the pages start-up read at 1 s), and the
// resident part of its executable's mappings from /proc/<pid>/smaps. For scale, each round also
// opens the same Node 24 runtime alone as PID 1 of its own namespace (a node waiting on a timer),
// read the same way at the same moment. Then the app is stopped directly (INT to the app, not
// to the init): from its last statement until the namespace is gone is the init's exit after an
// app that ran for a while.
import { Namespace, fields } from '../ns.mjs';
import { exeResidentKb } from '../exe-resident.mjs';
import { memoryOf, nowNs, rotate, sleep } from '../util.mjs';

const LOST_AFTER_MS = 250;
const SETTLED_AFTER_MS = 1300;
const SAMPLE_AFTER_MS = 1600;

async function open(ctx, init) {
  const openedAt = Date.now();
  const ns = new Namespace(ctx, init.cmd([ctx.helpers.probe, 'recv']), { timed: true });
  if (!(await ns.lines.next('ready', 10000))) {
    ns.kill();
    throw new Error(`${init.id}: the app never started: ${ns.stderr.trim()}`);
  }
  return { ns, pid: await ns.initPid(), app: await ns.appPid(ctx.helpers.probe), openedAt };
}

/** one signal there and back: latency in µs, or null when lost */
async function ping(session, signal) {
  const sent = nowNs();
  process.kill(session.pid, signal);
  const line = await session.ns.lines.next('sig ', LOST_AFTER_MS);
  return line ? Number(BigInt(fields(line)[1]) - sent) / 1e3 : null;
}

/** The bare runtime as PID 1, idle: no signal goes to it (it has no handler: PID 1 would drop them). */
async function openNode(ctx) {
  const ns = new Namespace(ctx, [ctx.node, '-e', "process.stdout.write('ready\\n'); setTimeout(() => {}, 1e6)"]);
  if (!(await ns.lines.next('ready', 10000))) {
    ns.kill();
    throw new Error(`node reference: it never started: ${ns.stderr.trim()}`);
  }
  return { ns, pid: await ns.initPid() };
}

function sample(o, pid) {
  const memory = memoryOf(pid);
  if (!memory) return;
  o.rssKb.push(memory.rssKb);
  o.hwmKb.push(memory.hwmKb);
  o.anonKb.push(memory.anonKb);
  o.exeKb.push(exeResidentKb(pid));
}

/** Stops the app itself; returns ms from its last statement until the namespace is gone, or null. */
async function close(session) {
  try {
    process.kill(session.app ?? session.pid, session.app ? 'SIGINT' : 'SIGTERM');
  } catch {
    // gone
  }
  await session.ns.finish(3000);
  session.ns.kill();
  const stamp = (prefix) => fields(session.ns.lines.all.find((l) => l.startsWith(`${prefix} `)))[0];
  const [term, end] = [stamp('term'), stamp('end')];
  return session.app && term && end ? Number(BigInt(end) - BigInt(term)) / 1e6 : null;
}

export async function forward(ctx, inits, { rounds, perRound, controlSignals, progress }) {
  const out = Object.fromEntries(inits.map((i) => [i.id, { latenciesUs: [], lost: 0, sent: 0, rssKb: [], hwmKb: [], anonKb: [], exeKb: [], exitMs: [] }]));
  const nodeRef = { rssKb: [], hwmKb: [], anonKb: [], exeKb: [] };
  // warm-up, not counted
  for (const init of inits.filter((i) => !i.control)) {
    const s = await open(ctx, init);
    for (let i = 0; i < 5; i++) await ping(s, 'SIGUSR1');
    await close(s);
  }
  for (let r = 0; r < rounds; r++) {
    // the control loses every signal (each costs the full timeout): a few in the first round prove it
    const active = rotate(inits, r).filter((i) => !i.control || r === 0);
    const sessions = [];
    let node = null;
    try {
      for (const init of active) sessions.push({ init, ...(await open(ctx, init)) });
      if (ctx.node) node = await openNode(ctx);
      // every init at rest: graceful-init drops the pages start-up read 1 s after its set-up
      await sleep(Math.max(100, Math.max(...sessions.map((s) => s.openedAt)) + SETTLED_AFTER_MS - Date.now()));
      for (let i = 0; i < perRound; i++) {
        const signal = i % 2 === 0 ? 'SIGUSR1' : 'SIGUSR2';
        for (const s of sessions) {
          if (s.init.control && i >= controlSignals) continue;
          const o = out[s.init.id];
          const latency = await ping(s, signal);
          o.sent++;
          if (latency === null) o.lost++;
          else o.latenciesUs.push(latency);
          await sleep(1 + (i % 3)); // 1-3 ms apart, never in phase with a timer
        }
      }
      await sleep(Math.max(50, Math.max(...sessions.map((s) => s.openedAt)) + SAMPLE_AFTER_MS - Date.now()));
      for (const s of sessions) sample(out[s.init.id], s.pid);
      if (node) sample(nodeRef, node.pid);
    } finally {
      node?.ns.kill();
      if (node) await node.ns.exited;
      // one at a time: each exit measured on a machine otherwise quiet
      for (const s of sessions) {
        const ms = await close(s);
        if (ms !== null) out[s.init.id].exitMs.push(ms);
      }
    }
    progress(`forwarding ${r + 1}/${rounds}`);
  }
  // not an init: a key no init has
  if (ctx.node) out.nodeRef = nodeRef;
  return out;
}
