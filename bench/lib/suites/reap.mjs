// Reaping, observed by the app inside the namespace (bench/c/probe): an orphan counts as reaped
// when kill(pid, 0) says ESRCH (a zombie keeps its pid until its parent, the init, waits for it).
//   stream: 10 000 orphans, 10 every 2 ms (each batch: a child forks 10 grandchildren that exit at
//           once, then the child exits and they go to PID 1); measured: time from the last orphan
//           made until none is left, and the most not-yet-reaped orphans seen during the stream.
//   burst:  2 000 live orphans (their parent was SIGKILLed), released together by closing the pipe
//           they block on; measured: time from the release until none is left.
import { Namespace, fields } from '../ns.mjs';

async function run(ctx, init, app, key, timeoutMs) {
  const ns = new Namespace(ctx, init.cmd([ctx.helpers.probe, ...app]));
  try {
    const line = await ns.lines.next(`${key} `, timeoutMs);
    if (!line) throw new Error(`${init.id}: no result from probe ${app.join(' ')}: ${ns.stderr.trim()}`);
    await ns.finish(5000);
    return fields(line).map((f) => BigInt(f));
  } finally {
    ns.kill();
  }
}

export async function reap(ctx, inits, { streamRounds, burstRounds, orphans, burst, streamMs, giveUpMs, progress }) {
  const batch = 10;
  const intervalUs = Math.round((streamMs * 1000) / (orphans / batch));
  const out = Object.fromEntries(inits.map((i) => [i.id, { streamTailMs: [], streamPeak: [], streamLeft: [], burstMs: [], burstLeft: [] }]));
  const ms = (a, b) => Number(b - a) / 1e6;

  for (let r = 0; r < streamRounds; r++) {
    for (const init of inits) {
      if (init.control && r > 0) continue;
      const [, last, done, left, peak] = await run(ctx, init, ['stream', orphans, batch, intervalUs, giveUpMs].map(String), 'stream', streamMs * 3 + giveUpMs + 10000);
      const o = out[init.id];
      o.streamTailMs.push(done < 0n ? null : ms(last, done));
      o.streamLeft.push(Number(left));
      o.streamPeak.push(Number(peak));
    }
    progress(`reaping stream ${r + 1}/${streamRounds}`);
  }
  for (let r = 0; r < burstRounds; r++) {
    for (const init of inits) {
      if (init.control && r > 0) continue;
      const [released, done, left] = await run(ctx, init, ['burst', burst, giveUpMs].map(String), 'burst', giveUpMs + 20000);
      const o = out[init.id];
      o.burstMs.push(done < 0n ? null : ms(released, done));
      o.burstLeft.push(Number(left));
    }
    progress(`reaping burst ${r + 1}/${burstRounds}`);
  }
  return { out, params: { orphans, batch, intervalUs, burst, giveUpMs } };
}
