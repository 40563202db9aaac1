// Once per vitest run, for the engine project only: the private dockerd, the base images, the init
// image and every recipe in docker/examples. Teardown stops the daemon and all it started, by pid.
import type { TestProject } from 'vitest/node';
import { missingEngine, startDaemon } from './lib/dockerd.mjs';
import { prepareImages } from './lib/images.mjs';
import type { EngineContext } from './engine.js';

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const missing = missingEngine();
  if (missing.length > 0) {
    const why = `the engine tests need ${missing.join(', ')} (.ci/run installs them)`;
    if (process.env.CI === 'true') throw new Error(`CI=true but ${why}`);
    console.warn(`engine: skipped: ${why}`);
    project.provide('engine', null);
    return undefined;
  }
  const log = (line: string) => console.log(`engine: ${line}`);
  const started = Date.now();
  const daemon = await startDaemon({ log });
  try {
    const images = await prepareImages(daemon, { log });
    const context: EngineContext = { docker: daemon.docker, env: daemon.env, dir: daemon.dir, images };
    project.provide('engine', context);
    log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return async () => {
    await daemon.stop();
    log('dockerd stopped');
  };
}
