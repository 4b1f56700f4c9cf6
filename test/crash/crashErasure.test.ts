/**
 * Crash safety, the short seeded run of `npm test` over an erasure set of four
 * drives (k=2, m=2): as crash.test.ts, in a file of its own so the two run in
 * parallel. COFFER_CRASH_SEED replaces the fixed seed.
 */
import { expect, it } from 'vitest';
import { crashRun } from './crashRun.js';

const seed = process.env.COFFER_CRASH_SEED ?? 'short-4';

it(`survives 12 SIGKILLs with four drives, seed ${seed} (needs the build: npm test runs it first)`, async () => {
  const report = await crashRun({ seed, drives: 4, killPoints: 12 });
  console.log(JSON.stringify(report));
  expect(report.acked.objects).toBeGreaterThan(0);
}, 120_000);
