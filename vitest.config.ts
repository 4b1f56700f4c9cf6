import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Two projects. "default": unit, contract and integration tests, files in
 * parallel. "clients": test/clients drives the real S3 programs (AWS CLI,
 * s3cmd, rclone, restic, SDKs) with large transfers; its files run one at a
 * time, after the default project, so they neither starve each other on a
 * small machine nor slow the rest down.
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
          name: 'default',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/clients/**'],
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
