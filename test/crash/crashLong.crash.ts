/**
 * Crash safety, the long run (`npm run test:crash`, not part of `npm test`):
 * 240 SIGKILL kill points, half with one drive and half with an erasure set
 * of four, each run seeded (COFFER_CRASH_SEED replaces the fixed seeds; the
 * seed is printed on failure). Over the whole run every kind of write must
 * have been cut by a kill at least once, or the run proved less than it says.
 */
import { describe, expect, it } from 'vitest';
import { crashRun, type CrashRunReport } from './crashRun.js';

const POINTS_PER_RUN = 60;
const seed = (fixed: string) => process.env.COFFER_CRASH_SEED ?? fixed;
const runs = [
  { drives: 1 as const, seed: seed('long-1a') },
  { drives: 1 as const, seed: seed('long-1b') },
  { drives: 4 as const, seed: seed('long-4a') },
  { drives: 4 as const, seed: seed('long-4b') },
];
const reports: CrashRunReport[] = [];

describe('crash safety, long run (needs the build: npm run test:crash runs it first)', () => {
  it.each(runs)(
    `$drives drive(s), ${POINTS_PER_RUN} kill points, seed $seed`,
    async ({ drives, seed }) => {
      const report = await crashRun({
        seed,
        drives,
        killPoints: POINTS_PER_RUN,
        // More keys to create and rotate than the short run, so kills land inside those calls too.
        rootKeysPerWorker: 15,
        strictAudit: process.env.COFFER_CRASH_STRICT_AUDIT !== '0',
      });
      console.log(JSON.stringify(report));
      reports.push(report);
    },
    1_200_000,
  );

  it('every kind of write was in flight at some kill', () => {
    expect(reports.reduce((n, r) => n + r.killPoints, 0)).toBeGreaterThanOrEqual(200);
    const cut = new Set(reports.flatMap((r) => Object.keys(r.interrupted)));
    for (const kind of [
      'put',
      'delete',
      'deleteObjects',
      'copy',
      'createUpload',
      'uploadPart',
      'completeUpload',
      'createBucket',
      'createKey',
      'rotateKey',
    ]) {
      expect(cut, kind).toContain(kind);
    }
  });
});
