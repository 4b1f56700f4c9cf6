/**
 * Crash safety, the short seeded run of `npm test` with one drive: the real
 * server process killed with SIGKILL at seeded random points of a mixed
 * workload and checked after every restart (see crashRun.ts);
 * crashErasure.test.ts is the same over four drives, in parallel with it. The
 * long run (>= 200 kill points) is `npm run test:crash`. COFFER_CRASH_SEED
 * replaces the fixed seed to repeat a failing run.
 */
import { expect, it } from 'vitest';
import { crashRun } from './crashRun.js';

const seed = process.env.COFFER_CRASH_SEED ?? 'short-1';

it(`survives 12 SIGKILLs with one drive, seed ${seed} (needs the build: npm test runs it first)`, async () => {
  const report = await crashRun({ seed, drives: 1, killPoints: 12 });
  console.log(JSON.stringify(report));
  expect(report.acked.objects).toBeGreaterThan(0);
}, 120_000);
