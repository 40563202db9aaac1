// The nginx rollout. Debian's nginx runs in the foreground under each init, on a loopback port,
// from a private prefix; /slow.bin is sent at limit_rate so one response takes ~1.5 s.
//   1. 20 slow requests are started and are mid-body (300 ms after their headers),
//   2. TERM goes to the init from outside, as the kubelet sends it,
//   3. for 2 s after it, new requests keep coming (the endpoints are not removed yet): one for
//      /fast.txt and one for /slow.bin every 100 ms,
//   4. every request is counted as ok (200 and the whole body) or failed: refused, reset,
//      truncated body, or other.
import { request } from '../../../test/engine/lib/load.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { nginxSite } from '../../../test/fixtures/nginx-site.mjs';
import { Namespace } from '../ns.mjs';
import { freePort, rotate, sleep } from '../util.mjs';

const SLOW_BYTES = 150 * 1024;
const RATE = '100k';
const IN_FLIGHT = 20;
const NEW_FOR_MS = 2000;
const NEW_EVERY_MS = 100;

function site(nginx) {
  const dir = mkdtempSync(join(tmpdir(), 'gi-bench-nginx-'));
  return {
    dir,
    ...nginxSite(dir, { nginx, slowBytes: SLOW_BYTES, rate: RATE }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}


async function waitListening(port, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if ((await request(port, '/fast.txt', { expectBytes: 3, timeoutMs: 15_000 })) === 'ok') return true;
    await sleep(20);
  }
  return false;
}

async function rollout(ctx, variant, s) {
  const port = await freePort();
  const { conf, argv } = s.configure(port);
  const options = variant.options(conf);
  const ns = new Namespace(ctx, variant.init.cmd(argv, { options }));
  try {
    if (!(await waitListening(port, 10000))) throw new Error(`nginx under ${variant.id} never listened: ${ns.stderr.trim()}`);
    const pid = await ns.initPid();
    let started = 0;
    const inFlight = Array.from({ length: IN_FLIGHT }, () => request(port, '/slow.bin', { expectBytes: SLOW_BYTES, timeoutMs: 15_000, onHeaders: () => started++ }));
    for (let i = 0; i < 200 && started < IN_FLIGHT; i++) await sleep(10);
    await sleep(300);
    process.kill(pid, 'SIGTERM');
    const fresh = [];
    const until = Date.now() + NEW_FOR_MS;
    while (Date.now() < until) {
      fresh.push(request(port, '/fast.txt', { expectBytes: 3, timeoutMs: 15_000 }), request(port, '/slow.bin', { expectBytes: SLOW_BYTES, timeoutMs: 15_000 }));
      await sleep(NEW_EVERY_MS);
    }
    const a = await Promise.all(inFlight);
    const b = await Promise.all(fresh);
    const exit = await ns.finish(15000);
    const count = (list) => {
      const kinds = {};
      for (const o of list) if (o !== 'ok') kinds[o] = (kinds[o] ?? 0) + 1;
      return { total: list.length, failed: list.filter((o) => o !== 'ok').length, kinds };
    };
    return { inFlight: count(a), fresh: count(b), exit: exit.code ?? exit.signal };
  } finally {
    ns.kill();
    await ns.exited;
  }
}

export function nginxVariants(inits, nginx) {
  const variants = [];
  for (const init of inits) {
    if (init.control) continue;
    variants.push({ id: init.id, init, options: () => [] });
  }
  const gi = inits.find((i) => i.id === 'graceful-init');
  variants.push({
    id: 'graceful-init+drain',
    label: "graceful-init --drain-delay 2s --pre-stop 'nginx -s quit'",
    init: gi,
    options: (conf) => ['--drain-delay', '2s', '--pre-stop', `${nginx} -e ${join(dirname(conf), 'error.log')} -c ${conf} -s quit`],
  });
  return variants;
}

export async function nginxRollout(ctx, inits, { rounds, progress }) {
  const variants = nginxVariants(inits, ctx.nginx);
  const s = site(ctx.nginx);
  const out = Object.fromEntries(variants.map((v) => [v.id, { label: v.label ?? v.id, runs: [] }]));
  try {
    for (let r = 0; r < rounds; r++) {
      for (const v of rotate(variants, r)) out[v.id].runs.push(await rollout(ctx, v, s));
      progress(`nginx ${r + 1}/${rounds}`);
    }
  } finally {
    s.cleanup();
  }
  return {
    out,
    params: { inFlight: IN_FLIGHT, newForMs: NEW_FOR_MS, newEveryMs: NEW_EVERY_MS, slowBytes: SLOW_BYTES, rate: RATE },
  };
}
