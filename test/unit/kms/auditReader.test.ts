/** src/kms/auditReader.ts: filters, the newest `limit` across rotated files, an account's own view. */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/kms/auditLog.js';
import { readAuditLog } from '../../../src/kms/auditReader.js';
import { entry, tempDir } from './auditTestKit.js';

let dir: string;
let path: string;
const T0 = Date.UTC(2026, 0, 1);
beforeEach(async () => {
  dir = await tempDir();
  path = join(dir, 'kms-audit.log');
  let t = T0;
  // 30 entries over 4+ files, one second apart; every third on instance i-a, every fifth an IAM call in account acct-b.
  const log = await AuditLog.open(path, { now: () => t, maxBytes: 2000 });
  for (let i = 1; i <= 30; i++) {
    await log.record(
      entry(i, {
        ...(i % 3 === 0 ? { instance: 'i-a' } : { instance: 'i-x' }),
        ...(i % 5 === 0 ? { account: 'acct-b', via: 'iam', action: 'createApiKey' } : {}),
        ...(i % 2 === 0 ? { outcome: 'failure', status: 403 } : {}),
      }),
    );
    t += 1000;
  }
  await log.close();
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const seqs = (es: Array<{ seq?: number }>) => es.map((e) => e.seq);

describe('readAuditLog', () => {
  it('reads every file, oldest first, and filters by key, action, outcome, instance, time', async () => {
    expect(seqs(await readAuditLog(path))).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(seqs(await readAuditLog(path, { key: 'k7' }))).toEqual([7]);
    expect(seqs(await readAuditLog(path, { action: 'createApiKey' }))).toEqual([5, 10, 15, 20, 25, 30]);
    expect(seqs(await readAuditLog(path, { action: 'createApiKey', outcome: 'success' }))).toEqual([5, 15, 25]);
    expect(seqs(await readAuditLog(path, { instance: 'i-a', limit: 2 }))).toEqual([27, 30]);
    expect(seqs(await readAuditLog(path, { since: new Date(T0 + 27_000).toISOString() }))).toEqual([28, 29, 30]);
    expect(seqs(await readAuditLog(path, { since: T0 + 3_000, limit: 1 }))).toEqual([30]);
    expect(await readAuditLog(path, { since: '2999-01-01T00:00:00Z' })).toEqual([]);
    expect(await readAuditLog(join(dir, 'missing.log'))).toEqual([]);
  });

  it('limit gives the newest matches even when they span files', async () => {
    expect(seqs(await readAuditLog(path, { limit: 12 }))).toEqual(Array.from({ length: 12 }, (_, i) => i + 19));
    expect(seqs(await readAuditLog(path, { outcome: 'success', limit: 4 }))).toEqual([23, 25, 27, 29]);
  });

  it("visibleTo keeps an account's instances and its IAM calls", async () => {
    const mine = await readAuditLog(path, { visibleTo: { account: 'acct-b', instances: new Set(['i-a']) } });
    expect(seqs(mine)).toEqual([3, 5, 6, 9, 10, 12, 15, 18, 20, 21, 24, 25, 27, 30]);
  });
});
