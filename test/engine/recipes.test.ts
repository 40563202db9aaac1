// docker/Dockerfile built by the real engine (BuildKit) on a local stand-in of its base image, and
// every recipe in docker/examples built from that image on locally made stand-ins of its own base
// (see lib/images.mjs) and run: exit codes, signals, reaping, docker stop's deadline, a read-only
// root, non-root users, and Docker's own --init (tini) in front of graceful-init.
import { afterEach, describe, expect, it } from 'vitest';
import { dockerMust, dockerRun, engine, images, logs, removeContainers, runDetached, runForeground, waitExit, waitLog } from './engine.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, freePort, httpGet, sleep, waitFor } from '../e2e/harness.js';

const INIT = '/opt/graceful-init/bin/graceful-init';
const SUMMARY = /^graceful-init: shutdown on SIG\w+, .*, exit \d+$/m;

afterEach(removeContainers);

/** Processes in the container's PID namespace (state, command line), read by its own busybox. */
async function processes(id: string): Promise<{ state: string; cmdline: string }[]> {
  const script = 'for p in /proc/[0-9]*; do s=$(cat $p/stat 2>/dev/null) || continue; echo "${s#*) } @$(tr "\\0" " " < $p/cmdline)"; done';
  const out = await dockerMust(['exec', id, '/bin/busybox', 'sh', '-c', script]);
  return [...out.matchAll(/^(\S) .*@(.*)$/gm)].map((m) => ({ state: m[1] as string, cmdline: m[2] as string }));
}

const zombies = async (id: string) => (await processes(id)).filter((p) => p.state === 'Z').length;

/** Once no orphan (sleep 0.3) runs any more, and a moment later: how many zombies are left. */
async function zombiesAfterOrphansExit(id: string): Promise<number> {
  await waitFor('the orphans to exit', async () => !(await processes(id)).some((p) => p.state !== 'Z' && p.cmdline.startsWith('sleep 0.3')), 15_000);
  await sleep(500);
  return zombies(id);
}

/** Five orphans that exit after 0.3 s, reparented to PID 1 (or to the subreaper), then sleep. */
const ORPHANS = ['sh', '-c', 'for i in 1 2 3 4 5; do (sleep 0.3 &); done; echo spawned; exec sleep 60'];
const IGNORES_TERM = ['sh', '-c', 'trap "" TERM INT; echo ready; while :; do sleep 1; done'];

describe.skipIf(!engine())('docker/Dockerfile built in a real engine', () => {
  it('is the image its FROM stand-in and BuildKit made: /opt/graceful-init only, the bundle as ENTRYPOINT, this version', async () => {
    const init = images().init;
    expect(init).toBe(`graceful-init:${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}`);
    expect(images().nodeBookworm).toBe('node:24-bookworm');
    const history = await dockerMust(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', init]);
    // made by the Dockerfile's instructions, not imported from a tarball
    expect(history).toMatch(/^COPY \/out\/opt\/graceful-init \/opt\/graceful-init.*\|buildkit\.dockerfile\.v0$/m);
    const config = JSON.parse(await dockerMust(['inspect', '-f', '{{json .Config}}', init])) as { Entrypoint: string[] };
    expect(config.Entrypoint).toEqual([INIT]);
    const version = await runForeground([init, '--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^graceful-init \d+\.\d+\.\d+ \(bundle, node v24\.[\d.]+\)\n$/);
    // the bundle was made in the image from its own Debian root: the libraries' packages are named
    const bundle = await runForeground(['--entrypoint', '/bin/busybox', images().recipes.scratch, 'cat', '/opt/graceful-init/share/graceful-init/BUNDLE.txt']);
    expect(bundle.stdout).toMatch(/lib\/libc\.so\.6\s+from Debian libc6 \S+/);
  });

  it('every recipe carries that image\'s executable', async () => {
    // each recipe's own tools: busybox, Debian's coreutils, node
    const hashers: Record<string, string[]> = {
      scratch: ['--entrypoint', '/bin/busybox', images().recipes.scratch, 'sha256sum', INIT],
      alpine: ['--entrypoint', '/bin/busybox', images().recipes.alpine, 'sha256sum', INIT],
      nginx: ['--entrypoint', 'sha256sum', images().recipes.nginx, INIT],
      distroless: ['--entrypoint', '/nodejs/bin/node', images().recipes.distroless, '-p', `require('crypto').createHash('sha256').update(require('fs').readFileSync('${INIT}')).digest('hex')`],
    };
    const sums = await Promise.all(Object.values(hashers).map(async (args) => (await runForeground(args)).stdout.trim().split(/\s+/)[0]));
    expect(sums[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(sums).size, JSON.stringify(sums)).toBe(1);
    expect((await runForeground(['--entrypoint', INIT, images().recipes.alpine, '--version'])).stdout).toMatch(/\(bundle, node v24\./);
  });
});

describe.skipIf(!engine())('docker/examples built and run in a real engine (dockerd, runc)', () => {
  it('each recipe builds on its base, with the bundle in place and the init as its ENTRYPOINT', async () => {
    for (const [name, image] of Object.entries(images().recipes)) {
      const config = JSON.parse(await dockerMust(['inspect', '-f', '{{json .Config}}', image])) as { Entrypoint: string[]; StopSignal?: string };
      expect(config.Entrypoint[0], name).toBe(INIT);
      expect(config.Entrypoint, name).toContain('--');
    }
    const nginx = JSON.parse(await dockerMust(['inspect', '-f', '{{json .Config}}', images().recipes.nginx])) as { StopSignal?: string; Cmd: string[] };
    // the stand-in base says SIGQUIT, as the official image does, and the recipe keeps it (the init knows nginx)
    expect(await dockerMust(['inspect', '-f', '{{.Config.StopSignal}}', images().nginx])).toBe('SIGQUIT');
    expect(nginx.StopSignal).toBe('SIGQUIT');
    expect(nginx.Cmd).toEqual(['nginx', '-g', 'daemon off;']);
  });

  describe('scratch: only the bundle and a static program', () => {
    it('exits with the app status; the image has no libc, no shell but busybox', async () => {
      const scratch = images().recipes.scratch;
      const r = await runForeground([scratch, 'sh', '-c', 'ls /lib /usr 2>&1; exit 7']);
      expect(r.code).toBe(7);
      expect(r.stdout).toMatch(/\/lib.*No such file/);
      const killed = await runForeground([scratch, 'sh', '-c', 'kill -KILL $$']);
      expect(killed.code).toBe(137);
    });

    it('forwards signals to the app', async () => {
      const id = await runDetached([images().recipes.scratch, 'sh', '-c', 'trap "echo got USR1" USR1; trap "echo got HUP" HUP; echo ready; while :; do sleep 0.1; done']);
      await waitLog(id, /ready/);
      await dockerMust(['kill', '-s', 'USR1', id]);
      await waitLog(id, /got USR1/);
      await dockerMust(['kill', '-s', 'HUP', id]);
      await waitLog(id, /got HUP/);
    });

    it('reaps orphans as PID 1; sleep as PID 1 (the control) leaves them zombies', async () => {
      const id = await runDetached([images().recipes.scratch, ...ORPHANS]);
      const control = await runDetached(['--entrypoint', '/bin/busybox', images().recipes.scratch, ...ORPHANS]);
      await waitLog(id, /spawned/);
      await waitLog(control, /spawned/);
      // the control shows when the orphans are all dead (a forked orphan may not have exec'd sleep
      // yet when first looked at); both containers made theirs at the same time
      await waitFor('five zombies in the control', async () => (await zombies(control)) === 5, 15_000);
      expect(await zombiesAfterOrphansExit(id)).toBe(0);
    });

    it('docker stop -t 6, the app ignores TERM: the init kills it at its own deadline, its summary is logged before Docker would SIGKILL', async () => {
      const start = () => runDetached(['-e', 'GRACEFUL_INIT_GRACE_PERIOD=6s', images().recipes.scratch, ...IGNORES_TERM]);
      const id = await start();
      await waitLog(id, /ready/);
      const stop = await dockerRun(['stop', '-t', '6', id]);
      expect(stop.code).toBe(0);
      expect(await waitExit(id)).toBe(137); // the app was SIGKILLed, by the init
      const { stderr } = await logs(id);
      expect(stderr).toMatch(/^graceful-init: shutdown on SIGTERM, .*SIGKILL \(deadline\) at 4s, app killed by SIGKILL at 4(\.\d)?s, exit 137$/m);

      // the same with docker's deadline before the init's: Docker kills the init, no summary
      const early = await start();
      await waitLog(early, /ready/);
      await dockerRun(['stop', '-t', '2', early]);
      expect(await waitExit(early)).toBe(137);
      expect((await logs(early)).stderr).not.toMatch(SUMMARY);
    });

    it('--read-only root and a non-root --user: serves, runs as that user, stops cleanly', async () => {
      const port = await freePort();
      const id = await runDetached(['--read-only', '--user', '65534:65534', images().recipes.scratch, 'httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', '/opt/graceful-init/share/graceful-init']);
      const page = await waitFor('httpd', async () => {
        const r = await httpGet(port, '/BUNDLE.txt', 1000);
        return r.status === 200 ? r : undefined;
      });
      expect(page.body).toMatch(/portable bundle/);
      const top = await dockerMust(['top', id, '-eo', 'pid,uid,args']);
      expect(top).toMatch(new RegExp(`65534\\s+${INIT.replace(/\//g, '\\/')}`));
      expect(top).toMatch(/65534\s+\/bin\/busybox httpd/);
      await dockerMust(['stop', '-t', '10', id]);
      expect(await waitExit(id)).toBe(143); // busybox httpd dies of TERM
      expect((await logs(id)).stderr).toMatch(/^graceful-init: shutdown on SIGTERM, .*exit 143$/m);
    });
  });

  describe('docker run --init: Docker\'s tini in front of graceful-init', () => {
    it('exit codes pass through both', async () => {
      const r = await runForeground(['--init', images().recipes.scratch, 'sh', '-c', 'exit 5']);
      expect(r.code).toBe(5);
    });

    it('docker stop: tini forwards TERM, graceful-init runs its sequence and logs its summary', async () => {
      const id = await runDetached(['--init', '-e', 'GRACEFUL_INIT_DRAIN_DELAY=1s', images().recipes.scratch, 'sh', '-c', 'trap "echo got TERM; exit 0" TERM; echo ready; while :; do sleep 0.1; done']);
      await waitLog(id, /ready/);
      const top = await dockerMust(['top', id, '-eo', 'pid,args']);
      expect(top).toMatch(/docker-init --/); // tini is PID 1, graceful-init its child
      await dockerMust(['stop', '-t', '10', id]);
      expect(await waitExit(id)).toBe(0);
      const { stdout, stderr } = await logs(id);
      expect(stdout).toContain('got TERM');
      expect(stderr).toMatch(/^graceful-init: shutdown on SIGTERM, drain 1s, .*app exited with 0 .*exit 0$/m);
    });

    it('not PID 1, it still reaps what the app orphans (child subreaper)', async () => {
      const id = await runDetached(['--init', images().recipes.scratch, ...ORPHANS]);
      await waitLog(id, /spawned/);
      expect(await zombiesAfterOrphansExit(id)).toBe(0);
    });
  });

  describe('alpine: a root without glibc (a busybox stand-in for python:3.13-alpine)', () => {
    it('runs as the image\'s user nobody, on a read-only root; exit 143 counts as a clean stop', async () => {
      const alpine = images().recipes.alpine;
      const r = await runForeground(['--read-only', alpine, '/bin/busybox', 'sh', '-c', 'echo uid=$(id -u); ls /lib/x86_64-linux-gnu 2>&1; exit 3']);
      expect(r.code).toBe(3);
      expect(r.stdout).toContain('uid=65534');
      expect(r.stdout).toMatch(/No such file/);
      const id = await runDetached(['--read-only', alpine, '/bin/busybox', 'sh', '-c', 'echo ready; exec sleep 60']);
      await waitLog(id, /ready/);
      await dockerMust(['stop', '-t', '15', id]);
      expect(await waitExit(id)).toBe(0); // sleep died of TERM: 143, remapped by GRACEFUL_INIT_REMAP_EXIT
      // the adaptive drain: an app with no port to watch is never seen quiet, so it lasts the maximum
      expect((await logs(id)).stderr).toMatch(/^graceful-init: shutdown on SIGTERM, drain maximum reached \(5s\), .*exit 0$/m);
    });
  });

  describe('distroless: Node 24 and glibc only, no shell, user 65532 (a stand-in for distroless/nodejs24)', () => {
    it('serves, answers the status endpoint, and on docker stop drains, then the app closes and exits 0', async () => {
      const [port, status] = [await freePort(), await freePort()];
      const id = await runDetached(['--read-only', '-e', `PORT=${port}`, '-e', `GRACEFUL_INIT_STATUS_ADDR=127.0.0.1:${status}`, images().recipes.distroless]);
      await waitFor('the app', async () => (await httpGet(port, '/', 1000)).status === 200, 15_000);
      expect((await httpGet(port, '/')).body).toMatch(/^hello from pid \d+/);
      expect((await httpGet(status, '/readyz')).status).toBe(200);
      expect(await dockerMust(['top', id, '-eo', 'pid,uid,args'])).toMatch(/65532\s+\/nodejs\/bin\/node server\.mjs/);
      const stopping = dockerRun(['stop', '-t', '30', id], 60_000);
      await waitFor('the drain', async () => (await httpGet(status, '/metrics', 1000)).body.includes('graceful_init_shutdown_phase{phase="draining"} 1'));
      // draining: still serving, and so still ready (KEP-1669); /readyz turns 503 with the stop signal
      expect((await httpGet(status, '/readyz')).status).toBe(200);
      expect((await httpGet(port, '/')).status).toBe(200);
      // (503, or no answer once the app and the init have gone)
      await waitFor('/readyz to stop answering 200', async () => (await httpGet(status, '/readyz', 1000)).status !== 200, 20_000);
      expect((await stopping).code).toBe(0);
      expect(await waitExit(id)).toBe(0);
      const { stdout, stderr } = await logs(id);
      expect(stdout).toContain('TERM: closing');
      // the adaptive drain: quiet a second after the last request, 2 s at least; or on the host's
      // network namespace (every other program's connections count) its 15 s maximum
      expect(stderr).toMatch(/^graceful-init: shutdown on SIGTERM, drain (quiet for [\d.]+m?s after [\d.]+s|maximum reached \(15s\)), .*app exited with 0 .*exit 0$/m);
    });
  });
});
