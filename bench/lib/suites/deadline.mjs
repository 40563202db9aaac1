// Kill deadline: the app ignores TERM (bench/c/probe ignore-term); TERM goes to the init from
// outside; bench/c/killwatch sends it and watches the app's pidfd. graceful-init runs with
// --kill-after 1s: error = (app's death - TERM sent) - 1000 ms. The peers have no deadline: one
// session each shows the app still alive when the watch gives up (that is also the control).
import { Namespace, fields } from '../ns.mjs';
import { sleep } from '../util.mjs';
import { spawn } from 'node:child_process';

const DEADLINE_MS = 1000;

function killwatch(ctx, target, watch, timeoutMs) {
  return new Promise((resolve, reject) => {
    const p = spawn(ctx.helpers.killwatch, ['15', String(target), String(watch), String(timeoutMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b) => (out += b));
    p.stderr.on('data', (b) => (err += b));
    p.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('killwatch '));
      if (code !== 0 || !line) reject(new Error(`killwatch failed: ${err.trim()}`));
      else resolve(fields(line).map((f) => BigInt(f)));
    });
  });
}

async function session(ctx, init, options, watchMs) {
  const ns = new Namespace(ctx, init.cmd([ctx.helpers.probe, 'ignore-term'], { options }));
  try {
    if (!(await ns.lines.next('ready', 10000))) throw new Error(`${init.id}: the app never started: ${ns.stderr.trim()}`);
    const initPid = await ns.initPid();
    const appPid = await ns.appPid(ctx.helpers.probe);
    if (!appPid) throw new Error(`${init.id}: cannot find the app's pid`);
    await sleep(100);
    const [sent, died] = await killwatch(ctx, initPid, appPid, watchMs);
    return died < 0n ? null : Number(died - sent) / 1e6;
  } finally {
    ns.kill();
    await ns.exited;
  }
}

export async function deadline(ctx, inits, { rounds, progress }) {
  const out = {};
  const gi = inits.find((i) => i.id === 'graceful-init');
  out['graceful-init'] = { errorMs: [], killedAtMs: [] };
  await session(ctx, gi, ['--kill-after', '1s'], DEADLINE_MS + 2000); // warm-up
  for (let r = 0; r < rounds; r++) {
    const at = await session(ctx, gi, ['--kill-after', '1s'], DEADLINE_MS + 2000);
    out['graceful-init'].killedAtMs.push(at);
    out['graceful-init'].errorMs.push(at === null ? null : at - DEADLINE_MS);
    progress(`deadline ${r + 1}/${rounds}`);
  }
  for (const init of inits) {
    if (init.id === 'graceful-init') continue;
    const at = await session(ctx, init, [], DEADLINE_MS + 1000);
    out[init.id] = { errorMs: [], killedAtMs: [at], watchedMs: DEADLINE_MS + 1000 };
  }
  progress('deadline peers');
  return { out, deadlineMs: DEADLINE_MS };
}
