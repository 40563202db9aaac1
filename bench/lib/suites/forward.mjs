// Signal forwarding, ping-pong: send USR1 (then USR2, alternately) to the init from outside its
// namespace, as a container runtime does; the app (bench/c/probe recv) stamps each arrival with
// sigwaitinfo + CLOCK_MONOTONIC; the next signal goes out only after the previous one arrived (or
// was declared lost after a timeout). Latency = arrival - send, both on CLOCK_MONOTONIC.
// The init's RSS is read from /proc/<pid>/status while the app runs, after the signals.
import { Namespace, fields } from '../ns.mjs';
import { memoryOf, nowNs, sleep } from '../util.mjs';

const LOST_AFTER_MS = 250;

async function session(ctx, init, count) {
  const ns = new Namespace(ctx, init.cmd([ctx.helpers.probe, 'recv']));
  try {
    if (!(await ns.lines.next('ready', 10000))) throw new Error(`${init.id}: the app never started: ${ns.stderr.trim()}`);
    const pid = await ns.initPid();
    await sleep(100); // let the init finish whatever it does right after spawning
    const latencies = [];
    let lost = 0;
    for (let i = 0; i < count; i++) {
      const signal = i % 2 === 0 ? 'SIGUSR1' : 'SIGUSR2';
      const sent = nowNs();
      process.kill(pid, signal);
      const line = await ns.lines.next('sig ', LOST_AFTER_MS);
      if (line) latencies.push(Number(BigInt(fields(line)[1]) - sent) / 1e3);
      else lost++;
      await sleep(1 + (i % 3)); // 1-3 ms apart, never in phase with a timer
    }
    await sleep(50);
    const memory = memoryOf(pid);
    process.kill(pid, 'SIGTERM');
    await ns.finish(3000);
    return { latencies, lost, memory };
  } finally {
    ns.kill();
  }
}

export async function forward(ctx, inits, { rounds, perRound, controlSignals, progress }) {
  const out = Object.fromEntries(inits.map((i) => [i.id, { latenciesUs: [], lost: 0, sent: 0, rssKb: [], hwmKb: [], anonKb: [] }]));
  for (const init of inits) if (!init.control) await session(ctx, init, 5); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const init of inits) {
      // the control loses every signal (each costs the full timeout): one short session is proof enough
      if (init.control && r > 0) continue;
      const count = init.control ? controlSignals : perRound;
      const s = await session(ctx, init, count);
      const o = out[init.id];
      o.latenciesUs.push(...s.latencies);
      o.lost += s.lost;
      o.sent += count;
      if (s.memory) {
        o.rssKb.push(s.memory.rssKb);
        o.hwmKb.push(s.memory.hwmKb);
        o.anonKb.push(s.memory.anonKb);
      }
    }
    progress(`forwarding ${r + 1}/${rounds}`);
  }
  return out;
}
