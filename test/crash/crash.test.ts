/**
 * Crash safety, the short seeded run of `npm test`: the real server process
 * killed with SIGKILL at seeded random points of a mixed workload, with one
 * drive and with an erasure set of four, checked after every restart (see
 * crashRun.ts). The long run (>= 200 kill points) is `npm run test:crash`.
 * COFFER_CRASH_SEED replaces the fixed seeds to repeat a failing run.
 */
import { describe, expect, it } from 'vitest';
import { crashRun } from './crashRun.js';

const seed = (fixed: string) => process.env.COFFER_CRASH_SEED ?? fixed;

describe('crash safety (SIGKILL during a mixed workload; needs the build: npm test runs it first)', () => {
  it.each([
    { drives: 1 as const, seed: seed('short-1') },
    { drives: 4 as const, seed: seed('short-4') },
  ])('$drives drive(s), 12 kill points, seed $seed', async ({ drives, seed }) => {
    const report = await crashRun({ seed, drives, killPoints: 12 });
    console.log(JSON.stringify(report));
    expect(report.acked.objects).toBeGreaterThan(0);
  }, 120_000);
});
