// A private Docker daemon for the engine tests and the rollout benchmark: its own socket, data
// root and exec root in a temporary directory, no bridge, no iptables; containers use the host's
// network. Everything it starts (containerd, shims, containers) is stopped by pid at the end.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'gi-dockerd-';

function which(name, extra = []) {
  for (const dir of [...extra, ...(process.env.PATH ?? '/usr/bin:/bin').split(':'), '/usr/sbin', '/sbin']) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** dockerd, the Docker client (Debian's, which matches the daemon, before any other), runc. */
export function findEngine() {
  return {
    dockerd: which('dockerd'),
    // docker.io's client is /usr/bin/docker; a newer one elsewhere on PATH negotiates the API down
    docker: existsSync('/usr/bin/docker') ? '/usr/bin/docker' : which('docker'),
    runc: which('runc'),
    dockerInit: which('docker-init', ['/usr/libexec/docker', '/usr/bin']),
    mmdebstrap: which('mmdebstrap'),
  };
}

/** What is missing for the engine suite, as Debian package names (empty: nothing). */
export function missingEngine() {
  const e = findEngine();
  const missing = [];
  if (!e.dockerd || !e.docker || !e.dockerInit) missing.push('docker.io');
  if (!e.runc) missing.push('runc');
  if (!e.mmdebstrap) missing.push('mmdebstrap');
  if (process.getuid?.() !== 0) missing.push('(root)');
  return missing;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z');
  } catch {
    return false;
  }
}

/** Processes whose command line names `dir` (containerd and its shims run with paths under it). */
function processesUnder(dir) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(dir)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

function mountsUnder(dir) {
  const out = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const point = line.split(' ')[4];
    if (point && (point === dir || point.startsWith(`${dir}/`))) out.push(point.replace(/\\040/g, ' '));
  }
  return out.sort((a, b) => b.length - a.length);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function ping(socket) {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

async function waitGone(pids, ms) {
  const until = Date.now() + ms;
  while (pids.some(alive) && Date.now() < until) await sleep(100);
  return pids.filter(alive);
}

/**
 * Stops what a daemon rooted at `dir` left: its containers' shims, containerd and dockerd itself,
 * TERM first, then KILL, by pid; then its mounts; then the directory.
 */
export async function cleanupDaemonDir(dir, pid) {
  if (pid && alive(pid)) {
    process.kill(pid, 'SIGTERM');
    const left = await waitGone([pid], 15_000);
    for (const p of left) process.kill(p, 'SIGKILL');
    await waitGone(left, 5000);
  }
  let rest = processesUnder(dir);
  for (const p of rest) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      // gone
    }
  }
  rest = await waitGone(rest, 5000);
  for (const p of rest) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await waitGone(rest, 5000);
  for (const m of mountsUnder(dir)) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  if (mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  else throw new Error(`${dir}: still mounted: ${mountsUnder(dir).join(', ')}`);
}

/** Daemons of earlier runs that were themselves killed before they could clean up. */
async function cleanupStale() {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(PREFIX))) {
    const dir = join(tmpdir(), name);
    let owner = 0;
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
    } catch {
      // no owner recorded
    }
    if (owner && alive(owner)) continue; // another run in progress
    let pid = 0;
    try {
      pid = Number(readFileSync(join(dir, 'dockerd.pid'), 'utf8'));
    } catch {
      // never started
    }
    const cmdline = pid ? (() => { try { return readFileSync(`/proc/${pid}/cmdline`, 'latin1'); } catch { return ''; } })() : '';
    await cleanupDaemonDir(dir, cmdline.includes(dir) ? pid : 0);
  }
}

/**
 * Starts dockerd; resolves once its API answers. `stop()` removes every container, stops the
 * daemon by pid and everything under its directory, and removes the directory.
 */
export async function startDaemon({ log = () => {} } = {}) {
  const engine = findEngine();
  if (!engine.dockerd || !engine.docker) throw new Error('dockerd and docker are needed (apt-get install docker.io)');
  await cleanupStale();
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  const socket = join(dir, 'docker.sock');
  mkdirSync(join(dir, 'config'));
  const out = openSync(join(dir, 'dockerd.log'), 'a');
  const child = spawn(
    engine.dockerd,
    [
      '--host', `unix://${socket}`,
      '--data-root', join(dir, 'data'),
      '--exec-root', join(dir, 'exec'),
      '--pidfile', join(dir, 'exec', 'dockerd.pid'),
      '--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false',
      '--userland-proxy=false',
      '--storage-driver', 'overlay2',
    ],
    { stdio: ['ignore', out, out], detached: true },
  );
  closeSync(out);
  child.unref();
  writeFileSync(join(dir, 'dockerd.pid'), String(child.pid));
  const env = {
    ...process.env,
    DOCKER_HOST: `unix://${socket}`,
    DOCKER_CONFIG: join(dir, 'config'), // no credential helpers, no user settings
    DOCKER_BUILDKIT: '0', // the classic builder: BuildKit would fetch its Dockerfile frontend from a registry
    DOCKER_CLI_HINTS: 'false',
  };
  const daemon = {
    dir,
    socket,
    pid: child.pid,
    env,
    docker: engine.docker,
    async stop() {
      if (alive(child.pid)) {
        const ids = spawnSync(engine.docker, ['ps', '-aq'], { env, encoding: 'utf8', timeout: 20_000 }).stdout?.trim().split('\n').filter(Boolean) ?? [];
        if (ids.length) spawnSync(engine.docker, ['rm', '-f', ...ids], { env, stdio: 'ignore', timeout: 60_000 });
      }
      await cleanupDaemonDir(dir, child.pid);
    },
  };
  const until = Date.now() + 60_000;
  while (!(await ping(socket))) {
    if (!alive(child.pid) || Date.now() > until) {
      const text = readFileSync(join(dir, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n');
      await daemon.stop();
      throw new Error(`dockerd did not start:\n${text}`);
    }
    await sleep(200);
  }
  log(`dockerd ${child.pid} on ${socket}`);
  return daemon;
}
