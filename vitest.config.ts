import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // builds dist/ once for the whole run (and only when it is out of date): see there
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // the e2e tests start namespaces and real servers; two at a time fits a 2-core machine
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'main', include: ['test/**/*.test.ts'], exclude: ['test/engine/**', '**/node_modules/**'] },
      },
      {
        // real container engines: one private dockerd per run, started only when these files run;
        // after the other tests (groupOrder), so that their timing does not share the machine with
        // container builds and loads
        extends: true,
        test: {
          name: 'engine',
          sequence: { groupOrder: 1 },
          include: ['test/engine/**/*.test.ts'],
          globalSetup: ['./test/global-setup.ts', './test/engine/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
