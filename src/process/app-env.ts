import { seaModule } from '../reaper/sea-asset.js';

/**
 * Set by the npm entry (bin/graceful-init) when the init runs on a plain `node`: the NODE_OPTIONS the
 * app must get. The entry takes NODE_OPTIONS away from the init (a `--require` hook or a heap flag
 * meant for the app must not apply to it) and hands it over here. Only a run on plain node honours
 * it; the single executable ignores NODE_OPTIONS by itself and passes this variable on untouched.
 */
export const APP_NODE_OPTIONS = 'GRACEFUL_INIT_APP_NODE_OPTIONS';

const handoff = Buffer.from(`${APP_NODE_OPTIONS}=`);
const isHandoff = (entry: Buffer) => entry.subarray(0, handoff.length).equals(handoff);

/**
 * The environment the app gets: exactly the init's own (GRACEFUL_INIT_* included), byte for byte,
 * except that under the npm entry the NODE_OPTIONS it handed over is put back, unchanged.
 */
export function appEnvironmentBytes(env: readonly Buffer[]): Buffer[] {
  if (seaModule() || !env.some(isHandoff)) return [...env];
  return env.map((e) => (isHandoff(e) ? Buffer.concat([Buffer.from('NODE_OPTIONS='), e.subarray(handoff.length)]) : e));
}

/** The same for a string environment (pre-stop commands). */
export function appEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (seaModule() || !Object.prototype.hasOwnProperty.call(env, APP_NODE_OPTIONS)) return env;
  const { [APP_NODE_OPTIONS]: nodeOptions, ...rest } = env;
  return { ...rest, NODE_OPTIONS: nodeOptions ?? '' };
}
