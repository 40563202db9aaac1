// Reaping, observed by the app inside the namespace (bench/c/probe): an orphan counts as reaped
// when kill(pid, 0) says ESRCH (a zombie keeps its pid until its parent, the init, waits for it).
//   stream: 10 000 orphans, 10 every 2 ms (each batch: a child forks 10 grandchildren that exit at
//           once, then the child exits and they go to PID 1). Measured: the most orphans not yet
//           reaped at once (counted every 5 ms), the time from the last one made until none is
//           left, and the CPU time the init used meanwhile.
//   burst:  2 000 live orphans (their parent was SIGKILLed), released together by closing the pipe
//           they block on. Measured: time from the release until none is left, init CPU time.
// The init's CPU time is the sum of its threads' /proc/<pid>/task/<tid>/schedstat run time.
import { Namespace, fields } from '../ns.mjs';
import { cpuMsOf, rotate } from '../util.mjs';

async function run(ctx, init, app, start, key, timeoutMs) {
  const ns = new Namespace(ctx, init.cmd([ctx.helpers.probe, ...app]));
  try {
    if (!(await ns.lines.next(`${start} `, 10000))) throw new Error(`${init.id}: probe ${app[0]} never started: ${ns.stderr.trim()}`);
    const pid = await ns.initPid();
    const cpuBefore = cpuMsOf(pid);
    const line = await ns.lines.next(`${key} `, timeoutMs);
    const cpuAfter = cpuMsOf(pid);
    if (!line) throw new Error(`${init.id}: no result from probe ${app.join(' ')}: ${ns.stderr.trim()}`);
    await ns.finish(5000);
    return { values: fields(line).map((f) => BigInt(f)), cpuMs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore };
  } finally {
    ns.kill();
  }
}

export async function reap(ctx, inits, { streamRounds, burstRounds, orphans, burst, streamMs, giveUpMs, progress }) {
  const batch = 10;
  const intervalUs = Math.round((streamMs * 1000) / (orphans / batch));
  const out = Object.fromEntries(
    inits.map((i) => [i.id, { streamTailMs: [], streamPeak: [], streamLeft: [], streamMadeInMs: [], streamCpuMs: [], burstMs: [], burstLeft: [], burstCpuMs: [] }]),
  );
  const ms = (a, b) => Number(b - a) / 1e6;

  for (let r = 0; r < streamRounds; r++) {
    for (const init of rotate(inits, r)) {
      if (init.control && r > 0) continue;
      const app = ['stream', orphans, batch, intervalUs, giveUpMs].map(String);
      // the control leaves every orphan a zombie, and the probe's sweep (kill(pid, 0) for each one not
      // yet reaped, every 5 ms) then slows the stream down to ~20 s on a VM with slow system calls
      const { values, cpuMs } = await run(ctx, init, app, 'ready', 'stream', streamMs * (init.control ? 20 : 4) + giveUpMs + 10000);
      const [start, last, done, left, peak] = values;
      const o = out[init.id];
      o.streamTailMs.push(done < 0n ? null : ms(last, done));
      o.streamLeft.push(Number(left));
      o.streamPeak.push(Number(peak));
      o.streamMadeInMs.push(ms(start, last));
      o.streamCpuMs.push(cpuMs);
    }
    progress(`reaping stream ${r + 1}/${streamRounds}`);
  }
  for (let r = 0; r < burstRounds; r++) {
    for (const init of rotate(inits, r)) {
      if (init.control && r > 0) continue;
      const { values, cpuMs } = await run(ctx, init, ['burst', burst, giveUpMs].map(String), 'armed', 'burst', giveUpMs + 20000);
      const [released, done, left] = values;
      const o = out[init.id];
      o.burstMs.push(done < 0n ? null : ms(released, done));
      o.burstLeft.push(Number(left));
      o.burstCpuMs.push(cpuMs);
    }
    progress(`reaping burst ${r + 1}/${burstRounds}`);
  }
  return { out, params: { orphans, batch, intervalUs, streamMs, burst, giveUpMs } };
}
