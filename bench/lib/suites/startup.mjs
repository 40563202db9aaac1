// Start-up: for each init, interleaved round by round,
//   `init true`          wall time from just before the init's exec (bench/c/stamp) to the end of
//   `init -- /bin/true`  the namespace (bench/c/timed, the parent of unshare)
//   `init -- probe first` time from the init's exec to the app's first statement, and from then
//                        (the probe exits at once) until the namespace is gone
// plus, for scale, a bare `node -e 0` of the same Node 24 runtime as PID 1.
import { Namespace, fields } from '../ns.mjs';
import { rotate } from '../util.mjs';

const KINDS = [
  { id: 'true', app: ['true'], dashdash: false },
  { id: 'bintrue', app: ['/bin/true'], dashdash: true },
  { id: 'first', app: null, dashdash: true },
];

async function once(ctx, argv) {
  const ns = new Namespace(ctx, argv, { timed: true });
  const result = await ns.finish(10000);
  const line = (p) => ns.lines.all.find((l) => l.startsWith(`${p} `));
  const stamp = fields(line('stamp'))[0];
  const end = fields(line('end'))[0];
  const first = fields(line('first'))[0];
  if (!stamp || !end || result.code !== 0) {
    throw new Error(`start-up run failed (${argv.join(' ')}): exit ${result.code} ${ns.stderr.trim()}`);
  }
  const ms = (a, b) => Number(BigInt(b) - BigInt(a)) / 1e6;
  return { wallMs: ms(stamp, end), firstMs: first ? ms(stamp, first) : null, exitMs: first ? ms(first, end) : null };
}

export async function startup(ctx, inits, { rounds, progress }) {
  const samples = {};
  for (const kind of [...KINDS, { id: 'exit' }]) samples[kind.id] = Object.fromEntries(inits.map((i) => [i.id, []]));
  const nodeRef = [];
  const argvFor = (init, kind) => init.cmd(kind.app ?? [ctx.helpers.probe, 'first'], { dashdash: kind.dashdash });

  // warm-up (page cache, the reaper extracted once): not counted
  for (const init of inits) await once(ctx, argvFor(init, KINDS[1]));
  if (ctx.node) await once(ctx, [ctx.node, '-e', '0']);

  for (let r = 0; r < rounds; r++) {
    for (const kind of rotate(KINDS, r)) {
      for (const init of rotate(inits, r)) {
        const { wallMs, firstMs, exitMs } = await once(ctx, argvFor(init, kind));
        samples[kind.id][init.id].push(kind.id === 'first' ? firstMs : wallMs);
        if (kind.id === 'first') samples.exit[init.id].push(exitMs);
      }
    }
    if (ctx.node) nodeRef.push((await once(ctx, [ctx.node, '-e', '0'])).wallMs);
    progress(`start-up ${r + 1}/${rounds}`);
  }
  return { samples, nodeRef };
}
