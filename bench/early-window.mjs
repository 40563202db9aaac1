// How long after exec a stop signal can be lost: the init is started as PID 1 of a new PID
// namespace with a long-running app, TERM is sent D ms after the start, and we look whether it
// was honoured (the init exits with 143 at once) or lost (the app runs on). Not part of CI.
//   node bench/early-window.mjs [binary] [--max 80] [--step 2] [--runs 3]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const flag = (name, def) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const binary = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a)) ?? join(import.meta.dirname, '..', 'dist', 'graceful-init');
const max = flag('--max', 80);
const step = flag('--step', 2);
const runs = flag('--runs', 3);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function childOf(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]) || null;
  } catch {
    return null;
  }
}

async function honoured(delayMs) {
  const u = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', binary, '--', 'sleep', '3'], { stdio: 'ignore' });
  const started = process.hrtime.bigint();
  let init = null;
  // poll gently: a busy loop here would take the core the init needs to start
  while (!init) {
    init = childOf(u.pid);
    if (!init) await sleep(1);
  }
  const left = delayMs - Number(process.hrtime.bigint() - started) / 1e6;
  if (left > 0) await sleep(left);
  try {
    process.kill(init, 'SIGTERM');
  } catch {
    // gone
  }
  const code = await Promise.race([new Promise((r) => u.on('exit', (c) => r(c))), sleep(1500).then(() => 'lost')]);
  u.kill('SIGKILL');
  return code !== 'lost';
}

let lastLost = -1;
for (let d = 0; d <= max; d += step) {
  let ok = 0;
  for (let i = 0; i < runs; i++) if (await honoured(d)) ok++;
  if (ok < runs) lastLost = d;
  console.log(`TERM at ${String(d).padStart(3)} ms after start: honoured ${ok}/${runs}`);
}
console.log(lastLost < 0 ? 'no TERM was lost' : `the last delay at which a TERM was lost: ${lastLost} ms`);
