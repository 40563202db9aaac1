/**
 * Hooks for the end-to-end tests only, read from the environment, never documented as options:
 * they widen race windows that are otherwise a few microseconds wide.
 *   GRACEFUL_INIT_TESTING_SPAWN_DELAY_MS  wait this long before spawning the app
 *   GRACEFUL_INIT_TESTING_CRASH_MS        throw an uncaught error this long after the app started
 */
export async function testingSpawnDelay(env: NodeJS.ProcessEnv): Promise<void> {
  const ms = Number(env.GRACEFUL_INIT_TESTING_SPAWN_DELAY_MS ?? 0);
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

export function testingCrash(env: NodeJS.ProcessEnv): void {
  const ms = Number(env.GRACEFUL_INIT_TESTING_CRASH_MS ?? 0);
  if (ms > 0) {
    setTimeout(() => {
      throw new Error('crash requested by GRACEFUL_INIT_TESTING_CRASH_MS');
    }, ms);
  }
}
