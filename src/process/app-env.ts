/** The environment the app gets: exactly the init's own (NODE_OPTIONS and GRACEFUL_INIT_* included). */
export function appEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env;
}
