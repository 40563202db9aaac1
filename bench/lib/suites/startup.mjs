// Start-up: for each init, interleaved round by round,
//   `init true`          wall time from just before the init's exec (bench/c/stamp) to the end of
//   `init -- /bin/true`  the namespace (bench/c/timed, the parent of unshare); its peak RSS
//                        (timed's wait4: ru_maxrss, the largest process of the namespace at its peak)
//   `init -- probe first` time from the init's exec to the app's first statement, and from then
//                        (the probe exits at once) until the namespace is gone
// plus, for scale, the same Node 24 runtime alone as PID 1: `node -e 0` (wall time and peak RSS),
// and a node that prints the time and then calls _exit(2) through the init's own addon, as the init
// does once the app has gone (from there until the namespace is gone: the runtime's exit floor).
//
// Each round starts from a cold page cache, with the two big binaries (graceful-init, the node
// reference: private copies) written anew: every binary is dropped from the page cache and run once,
// uncounted. On the VMs this was tuned on, the same 104 MiB binary started up to 24 ms later from one
// file than from a copy of it, dropped and read in alike, and stayed so over 15 rounds; which file
// draws that is luck, so each round draws anew and the medians average it out. The readahead those
// first runs start goes on after them: the measured runs wait until the disk is idle.
import { Namespace, fields } from '../ns.mjs';
import { rotate } from '../util.mjs';
import { dropPageCache, rewriteInPlace, waitDiskIdle } from '../setup.mjs';

const KINDS = [
  { id: 'true', app: ['true'], dashdash: false },
  { id: 'bintrue', app: ['/bin/true'], dashdash: true },
  { id: 'first', app: null, dashdash: true },
];

// process.hrtime.bigint() is libuv's uv_hrtime: CLOCK_MONOTONIC in ns on Linux, the probes' clock
const NODE_LAST = "process.stdout.write('first ' + process.hrtime.bigint() + '\\n')";
const nodeExitAtOnce = (addon) =>
  `const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(addon)}); ` +
  "require('node:fs').writeSync(1, 'first ' + process.hrtime.bigint() + '\\n'); m.exports.exitNow(0)";

async function once(ctx, argv) {
  const ns = new Namespace(ctx, argv, { timed: true });
  const result = await ns.finish(10000);
  const line = (p) => ns.lines.all.find((l) => l.startsWith(`${p} `));
  const stamp = fields(line('stamp'))[0];
  const [end, , maxRssKb] = fields(line('end'));
  const first = fields(line('first'))[0];
  if (!stamp || !end || result.code !== 0) {
    throw new Error(`start-up run failed (${argv.join(' ')}): exit ${result.code} ${ns.stderr.trim()}`);
  }
  const ms = (a, b) => Number(BigInt(b) - BigInt(a)) / 1e6;
  return {
    wallMs: ms(stamp, end),
    firstMs: first ? ms(stamp, first) : null,
    exitMs: first ? ms(first, end) : null,
    // an older bench/build/timed prints no peak
    peakKb: maxRssKb === undefined ? null : Number(maxRssKb),
  };
}

export async function startup(ctx, inits, { rounds, progress }) {
  const samples = {};
  for (const kind of [...KINDS, { id: 'exit' }, { id: 'peak' }]) samples[kind.id] = Object.fromEntries(inits.map((i) => [i.id, []]));
  const nodeRef = [];
  const nodeRefPeakKb = [];
  const nodeRefExit = [];
  const argvFor = (init, kind) => init.cmd(kind.app ?? [ctx.helpers.probe, 'first'], { dashdash: kind.dashdash });

  const nodeLast = ctx.addon ? nodeExitAtOnce(ctx.addon) : NODE_LAST;
  const binaries = inits.map((i) => i.bin).concat(ctx.node ? [ctx.node] : []);
  // the page cache as exec leaves it, and the reaper extracted: not counted
  const ours = [inits.find((i) => i.id === 'graceful-init')?.bin, ctx.node].filter(Boolean);
  const warmUp = async () => {
    for (const file of ours) rewriteInPlace(file);
    dropPageCache(binaries, ours);
    for (const init of inits) await once(ctx, argvFor(init, KINDS[1]));
    if (ctx.node) await once(ctx, [ctx.node, '-e', '0']);
    await waitDiskIdle();
  };

  for (let r = 0; r < rounds; r++) {
    await warmUp();
    for (const kind of rotate(KINDS, r)) {
      for (const init of rotate(inits, r)) {
        const { wallMs, firstMs, exitMs, peakKb } = await once(ctx, argvFor(init, kind));
        samples[kind.id][init.id].push(kind.id === 'first' ? firstMs : wallMs);
        if (kind.id === 'first') samples.exit[init.id].push(exitMs);
        if (kind.id === 'bintrue') samples.peak[init.id].push(peakKb);
      }
    }
    if (ctx.node) {
      // the two references in turn, which one first rotating too
      const refs = [
        async () => {
          const { wallMs, peakKb } = await once(ctx, [ctx.node, '-e', '0']);
          nodeRef.push(wallMs);
          nodeRefPeakKb.push(peakKb);
        },
        async () => nodeRefExit.push((await once(ctx, [ctx.node, '-e', nodeLast])).exitMs),
      ];
      for (const ref of rotate(refs, r)) await ref();
    }
    progress(`start-up ${r + 1}/${rounds}`);
  }
  return { samples, nodeRef, nodeRefPeakKb, nodeRefExit };
}
