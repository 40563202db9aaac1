declare const __TEST_HOOKS__: boolean | undefined;

/**
 * Only in the test build (`node scripts/build.mjs --test-hooks`, dist/test-hooks/): the shipped
 * bundle is built with __TEST_HOOKS__ false and esbuild drops all of this. The hooks widen race
 * windows that are otherwise microseconds wide, and crash the init on purpose.
 */
export const testHooks =
  typeof __TEST_HOOKS__ === 'boolean' && __TEST_HOOKS__
    ? {
        async beforeSpawn(): Promise<void> {
          const ms = Number(process.env.GI_TEST_SPAWN_DELAY_MS ?? 0);
          if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
        },
        /**
         * Blocks the event loop (without spinning) once everything is set up (signal-exit's listeners
         * included), so that only the native handler can forward.
         */
        afterSetUp(): void {
          const ms = Number(process.env.GI_TEST_BUSY_LOOP_MS ?? 0);
          if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
        },
        afterSpawn(): void {
          const ms = Number(process.env.GI_TEST_CRASH_MS ?? 0);
          if (ms > 0) {
            setTimeout(() => {
              throw new Error('crash requested by GI_TEST_CRASH_MS');
            }, ms);
          }
        },
      }
    : null;
