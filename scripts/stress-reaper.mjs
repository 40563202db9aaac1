#!/usr/bin/env node
// Stress the native reaper against libuv's own child handling.
//
//   node scripts/stress-reaper.mjs [--runs N] [--concurrency C] [--timeout-ms T]
//
// This process becomes a child subreaper. Each run spawns an "app" (a perl
// one-liner, perl never collects children by itself) through node:child_process;
// the app forks 10..40 short-lived processes and exits with a random code almost
// at once, so they are orphaned to us (some already zombies, some still running,
// some exiting at the same moment as the app). reap() runs on every SIGCHLD (process.on('SIGCHLD')) with the live
// child_process pids as `owned`, and is retried on setImmediate when it reports
// blockedBy. A run is correct when child_process reports exactly the app's code
// within the timeout. At the end every orphan must have been collected by reap().
//
// Needs dist/reaper.node (node scripts/build-addon.mjs). Re-runs itself under the
// pinned Node 24 (node_modules/.bin/node) when started by another version.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getSystemErrorName } from 'node:util';
import { dist, root } from './lib/paths.mjs';
import { fail } from './lib/run.mjs';
const pinned = join(root, 'node_modules', '.bin', 'node');
if (!process.versions.node.startsWith('24.') && existsSync(pinned) && !process.env.STRESS_REAPER_REEXEC) {
  const r = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, STRESS_REAPER_REEXEC: '1' },
  });
  process.exit(r.status ?? 1);
}

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) fail(`--${name} needs a positive number`);
  return v;
}
const RUNS = option('runs', 1000);
const CONCURRENCY = option('concurrency', 4);
const TIMEOUT_MS = option('timeout-ms', 10_000);
const OVERALL_MS = option('overall-ms', 170_000);

const addonPath = process.env.GRACEFUL_INIT_REAPER_PATH ?? join(dist, 'reaper.node');
const mod = { exports: {} };
try {
  process.dlopen(mod, addonPath);
} catch (err) {
  fail(`cannot load ${addonPath}: ${err.message} (run: node scripts/build-addon.mjs)`);
}
const reaper = mod.exports;
// the addon returns errno numbers, 0 for success
const subreaperErrno = reaper.setChildSubreaper();
if (subreaperErrno !== 0) fail(`setChildSubreaper failed: ${getSystemErrorName(-subreaperErrno)}`);

// ---- the reaper loop, as the init would run it --------------------------------
const ownedPids = new Set();
let owned = new Int32Array(0);
function syncOwned() {
  owned = Int32Array.from([...ownedPids].sort((a, b) => a - b));
}
const out = new Int32Array(4); // REAP_OUT in src/reaper/native-api.ts
const stats = { sigchld: 0, reapCalls: 0, reaped: 0, blocked: 0, retries: 0 };
let retryScheduled = false;

function reapNow() {
  stats.reapCalls++;
  out[0] = 0;
  stats.reaped += reaper.reap(owned, out);
  if (out[3] !== 0) {
    stats.blocked++;
    // A libuv child has exited but libuv has not collected it yet: it will within
    // this loop iteration (its SIGCHLD watcher), so look again right after.
    if (!retryScheduled) {
      retryScheduled = true;
      setImmediate(() => {
        retryScheduled = false;
        stats.retries++;
        reapNow();
      });
    }
  }
}
process.on('SIGCHLD', () => {
  stats.sigchld++;
  reapNow();
});

// ---- one run ---------------------------------------------------------------------
const PERL = '/usr/bin/perl';
if (!existsSync(PERL)) fail('needs /usr/bin/perl (Debian perl-base) for the app that forks orphans');
const APP = `
use POSIX ();
my ($n, $code) = @ARGV;
for my $i (1 .. $n) {
  my $pid = fork;
  die "fork: $!" unless defined $pid;
  if ($pid == 0) {
    my $m = $i % 4;
    select(undef, undef, undef, $m == 0 ? 0 : $m == 1 ? 0.002 * ($i % 5) : $m == 2 ? 0.02 : 0.05 + rand(0.05));
    POSIX::_exit($i & 0xff);
  }
}
select(undef, undef, undef, rand(0.01));
exit $code;
`;
let expectedOrphans = 0;
function oneRun(i) {
  const code = Math.floor(Math.random() * 256);
  const orphans = 10 + Math.floor(Math.random() * 31); // 10..40
  expectedOrphans += orphans;
  // perl does not collect its children by itself, so every one of them ends up
  // orphaned to us: some already zombies when the app exits, some exiting at the
  // same moment, some later.
  const args = ['-e', APP, String(orphans), String(code)];
  return new Promise((resolveRun) => {
    const started = Date.now();
    const child = spawn(PERL, args, { stdio: 'ignore' });
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolveRun({ i, code, ms: Date.now() - started, ...result });
    };
    if (child.pid === undefined) {
      child.on('error', (err) => finish({ ok: false, why: `spawn error ${err.message}` }));
      return;
    }
    const pid = child.pid;
    ownedPids.add(pid);
    syncOwned();
    const timer = setTimeout(() => {
      try {
        child.kill('SIGKILL');
      } catch {
        // ignore
      }
      finish({ ok: false, hung: true, why: 'no exit event within timeout' });
    }, TIMEOUT_MS);
    child.on('exit', (exitCode, signal) => {
      ownedPids.delete(pid);
      syncOwned();
      const ok = exitCode === code && signal === null;
      finish({ ok, why: ok ? '' : `got code=${exitCode} signal=${signal}` });
    });
  });
}

function zombieChildren() {
  const me = String(process.pid);
  let zombies = 0;
  let alive = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[1] !== me) continue;
    if (fields[0] === 'Z') zombies++;
    else alive++;
  }
  return { zombies, alive };
}

// ---- main ------------------------------------------------------------------------
const t0 = Date.now();
let next = 0;
let correct = 0;
let hung = 0;
const failures = [];
async function worker() {
  while (next < RUNS && Date.now() - t0 < OVERALL_MS) {
    const r = await oneRun(next++);
    if (r.ok) correct++;
    else {
      if (r.hung) hung++;
      if (failures.length < 10) failures.push(r);
    }
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
const attempted = next;

// Let the last orphans (sleep 0.1) finish, then account for them.
const drainUntil = Date.now() + 3000;
let left = zombieChildren();
while ((left.zombies > 0 || left.alive > 0) && Date.now() < drainUntil) {
  await new Promise((r) => setTimeout(r, 50));
  reapNow();
  left = zombieChildren();
}

const seconds = ((Date.now() - t0) / 1000).toFixed(1);
console.log(`${correct}/${attempted} correct (${hung} hung) in ${seconds}s, concurrency ${CONCURRENCY}`);
console.log(
  `orphans: expected ${expectedOrphans}, reaped ${stats.reaped}, left: ${left.zombies} zombie / ${left.alive} alive`,
);
console.log(
  `SIGCHLD events ${stats.sigchld}, reap() calls ${stats.reapCalls}, blockedBy seen ${stats.blocked}, retries ${stats.retries}`,
);
for (const f of failures) console.log(`  run ${f.i}: expected ${f.code}, ${f.why} (${f.ms} ms)`);
if (attempted < RUNS) console.log(`stopped after ${attempted} runs: overall time budget reached`);
const allGood = correct === attempted && attempted === RUNS && stats.reaped === expectedOrphans && left.zombies === 0;
process.exit(allGood ? 0 : 1);
