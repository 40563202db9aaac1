import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // builds dist/ once for the whole run (and only when it is out of date): see there
    globalSetup: './test/global-setup.ts',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // the e2e tests start namespaces and real servers; two at a time fits a 2-core machine
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
