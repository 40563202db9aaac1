// The nginx recipe under load in the real engine: downloads in flight and new requests arriving for
// 3 s after `docker stop` (the endpoints catching up). The stand-in for the official image keeps its
// STOPSIGNAL SIGQUIT and nothing restates it: `docker stop` sends the init QUIT. The control is the
// same nginx under `docker run --init`: tini passes the image's SIGQUIT on, nginx stops accepting
// at once, and the requests that keep coming are refused.
import { afterEach, describe, expect, it } from 'vitest';
import { dockerRun, engine, images, logs, removeContainers, runDetached, waitExit } from './engine.js';
import { constantLoad, nginxSite, request, tally } from './lib/load.mjs';
import { freePort, sleep, tempDir, waitFor } from '../e2e/harness.js';

afterEach(removeContainers);

// /slow.bin: 24 KB at 16 KB/s, about 1.5 s a download
const SLOW_BYTES = 24 * 1024;
const READ_ONLY = ['--read-only', '--tmpfs', '/var/cache/nginx', '--tmpfs', '/var/run'];

async function stopUnderLoad(image: string, runArgs: string[], command: string[] = []) {
  const dir = tempDir();
  try {
    const site = nginxSite(dir.path, { slowBytes: SLOW_BYTES, rate: '16k' });
    const port = await freePort();
    const id = await runDetached([...runArgs, ...site.volumes(port), image, ...command]);
    await waitFor('nginx', async () => (await request(port, '/fast.txt', { expectBytes: 3, timeoutMs: 1000 })) === 'ok', 20_000);
    let started = 0;
    const inFlight = Array.from({ length: 20 }, () => request(port, '/slow.bin', { expectBytes: SLOW_BYTES, onHeaders: () => started++ }));
    await waitFor('the downloads to start', () => started === 20);
    await sleep(300);
    const stopping = dockerRun(['stop', '-t', '30', id], 60_000);
    const load = constantLoad(port, [['/fast.txt', 3], ['/slow.bin', SLOW_BYTES]], { everyMs: 100 });
    await sleep(3000);
    const during = await load.stop();
    const downloads = await Promise.all(inFlight);
    expect((await stopping).code).toBe(0);
    return { inFlight: tally(downloads), during: tally(during), exitCode: await waitExit(id), logs: await logs(id) };
  } finally {
    dir.cleanup();
  }
}

describe.skipIf(!engine())('nginx recipe under load, docker stop in a real engine', () => {
  it('graceful-init (the recipe as built, read-only root): the image\'s QUIT runs the sequence, 0 failed requests, nginx exits 0', async () => {
    const o = await stopUnderLoad(images().recipes.nginx, READ_ONLY);
    console.log(`recipe: in flight ${JSON.stringify(o.inFlight)}, during ${JSON.stringify(o.during)}`);
    expect({ inFlight: o.inFlight.failed, during: o.during.failed }).toEqual({ inFlight: 0, during: 0 });
    expect(o.during.total).toBeGreaterThanOrEqual(40);
    expect(o.exitCode).toBe(0);
    // the recipe's adaptive drain: quiet a second after the load stops, or on the host's network
    // namespace (every other program's connections count) its 15 s maximum
    expect(o.logs.stderr).toMatch(/^graceful-init: shutdown on SIGQUIT, drain (quiet for [\d.]+m?s after [\d.]+s|maximum reached \(15s\)), SIGQUIT \(nginx's graceful stop\) to app at [\d.]+s, app exited with 0 at .*, exit 0$/m);
  });

  it('ENTRYPOINT ["graceful-init", "--"] with no option in front of /docker-entrypoint.sh nginx: the requests in flight are answered, and the stop is in the log', async () => {
    // the README's first snippet on an nginx:* image: no drain configured, so the new requests are refused
    const init = ['--entrypoint', '/opt/graceful-init/bin/graceful-init', '-e', 'GRACEFUL_INIT_DRAIN_DELAY=0', '-e', 'GRACEFUL_INIT_DRAIN_QUIET=off', '-e', 'GRACEFUL_INIT_DRAIN_MIN=0'];
    const o = await stopUnderLoad(images().recipes.nginx, [...init, ...READ_ONLY], ['--', '/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']);
    console.log(`no option: in flight ${JSON.stringify(o.inFlight)}, during ${JSON.stringify(o.during)}`);
    expect(o.inFlight.failed).toBe(0);
    expect(o.exitCode).toBe(0);
    expect(o.logs.stderr).toMatch(/^graceful-init: shutdown on SIGQUIT, SIGQUIT \(nginx's graceful stop\) to app at \S+, app exited with 0 at .*, exit 0$/m);
  });

  it('the control, nginx under docker run --init (tini, STOPSIGNAL SIGQUIT): loses the new requests', async () => {
    const o = await stopUnderLoad(images().nginx, ['--init']);
    console.log(`--init: in flight ${JSON.stringify(o.inFlight)}, during ${JSON.stringify(o.during)}`);
    expect(o.during.failed).toBeGreaterThan(0);
    expect(o.during.kinds.refused).toBeGreaterThan(0);
  });
});
