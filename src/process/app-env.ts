/**
 * Set by the npm entry (bin/graceful-init) when the init runs on a plain `node`: the NODE_OPTIONS the
 * app must get. The entry takes NODE_OPTIONS away from the init (a `--require` hook or a heap flag
 * meant for the app must not apply to it) and hands it over here; absent means the app had none.
 * The single executable ignores NODE_OPTIONS by itself and never sees this variable.
 */
export const APP_NODE_OPTIONS = 'GRACEFUL_INIT_APP_NODE_OPTIONS';

/**
 * The environment the app gets: exactly the init's own (GRACEFUL_INIT_* included), except that a
 * NODE_OPTIONS handed over by the npm entry is put back, unchanged, even when empty.
 */
export function appEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!Object.prototype.hasOwnProperty.call(env, APP_NODE_OPTIONS)) return env;
  const { [APP_NODE_OPTIONS]: nodeOptions, ...rest } = env;
  return { ...rest, NODE_OPTIONS: nodeOptions ?? '' };
}
