import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Unit tests that start a server (in process, on 127.0.0.1): they belong with the
 * integration tests, so `npm run test:unit` stays a no-network, no-server loop.
 */
const UNIT_TESTS_WITH_A_SERVER = ['test/unit/kms/api/routes.test.ts'];

/**
 * Three projects. "unit": test/unit (which also runs the contract suites of
 * test/contract against every implementation), no build, no server; alone it
 * is `npm run test:unit`. "integration": real servers on ephemeral loopback
 * ports. Both run first, files in parallel. "clients": test/clients drives the
 * real S3 programs (AWS CLI, s3cmd, rclone, restic, SDKs) with large transfers;
 * its files run one at a time, after the others, so they neither starve each
 * other on a small machine nor slow the rest down.
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Memory tests collect garbage before each sample, so they measure what is live.
    execArgv: ['--expose-gc'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Files share a worker's module cache instead of re-importing everything per
          // file: 64 files in ~17 s instead of ~66 s here (CPU 10 s instead of 22 s).
          // Unit tests must therefore leave no global state behind (env, timers, mocks).
          isolate: false,
          exclude: [...configDefaults.exclude, ...UNIT_TESTS_WITH_A_SERVER],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          // Every test file outside test/unit and test/clients.
          include: ['test/!(unit|clients)/**/*.test.ts', ...UNIT_TESTS_WITH_A_SERVER],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'clients',
          include: ['test/clients/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
