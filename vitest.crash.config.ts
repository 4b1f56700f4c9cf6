import { defineConfig } from 'vitest/config';

/**
 * `npm run test:crash`: the long SIGKILL fault-injection run (test/crash/*.crash.ts,
 * several minutes). Not a project of vitest.config.ts, so `npm test` never runs
 * it; the short seeded run there is test/crash/crash.test.ts.
 */
export default defineConfig({
  test: {
    include: ['test/crash/**/*.crash.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 1_200_000,
    hookTimeout: 60_000,
  },
});
