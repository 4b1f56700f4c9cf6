/**
 * The lifecycle worker on the in-memory services: each action through the
 * services' delete paths, locked versions skipped, a version written after the
 * worker looked left alone, and a pass resumed from its saved progress.
 * Time is injected (`now` ahead of the clock), nothing waits.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BucketRecord, LifecycleRule } from '../../../src/meta/records.js';
import {
  LifecycleWorker,
  type LifecycleProgress,
  type LifecycleProgressState,
} from '../../../src/services/lifecycleWorker.js';
import { createLogger } from '../../../src/util/logger.js';
import { OWNER, openMemoryServices, type MemoryServices } from './memoryServices.js';

const DAY = 1000;
let s: MemoryServices;

beforeEach(async () => {
  s = await openMemoryServices();
});
afterEach(async () => s.close());

function memoryProgress(initial: LifecycleProgressState = {}, failOnSave?: number) {
  let state = structuredClone(initial);
  let saves = 0;
  const p: LifecycleProgress & { state: () => LifecycleProgressState } = {
    load: async () => structuredClone(state),
    save: async (next) => {
      saves++;
      if (saves === failOnSave) throw new Error('disk gone');
      state = structuredClone(next);
    },
    state: () => state,
  };
  return p;
}

function worker(progress: LifecycleProgress, aheadDays: number, batchSize = 100) {
  return new LifecycleWorker({
    meta: s.meta,
    objects: s.objects,
    multipart: s.multipart,
    progress,
    dayMs: DAY,
    intervalMs: 60_000,
    ratePerSecond: 0,
    log: createLogger('silent'),
    now: () => Date.now() + aheadDays * DAY,
    batchSize,
  });
}

async function withRules(b: BucketRecord, rules: LifecycleRule[]): Promise<BucketRecord> {
  await s.buckets.setLifecycle(b.name, OWNER, rules);
  return s.buckets.resolve(b.name, OWNER);
}

const rule = (r: Partial<LifecycleRule>): LifecycleRule => ({ id: 'r', status: 'Enabled', filterForm: 'filter', ...r });

async function historyOf(b: BucketRecord, key: string) {
  const out = [];
  for await (const e of s.meta.listVersions({ bucketUid: b.uid, key, limit: 1000 })) out.push(e.record);
  return out;
}

describe('LifecycleWorker', () => {
  it('expires current versions: deleted in a bucket never versioned, blobs freed; filters by prefix, size and tags', async () => {
    let b = await s.bucket();
    await s.put(b, 'tmp/small', 'x');
    await s.put(b, 'tmp/big', 'x'.repeat(100));
    await s.put(b, 'tmp/tagged', 'x'.repeat(100), { tags: { keep: 'no' } });
    await s.put(b, 'keep/a', 'x');
    b = await withRules(b, [
      rule({ id: 'small', prefix: 'tmp/', sizeLessThan: 10, expiration: { days: 1 } }),
      rule({
        id: 'tag',
        filterForm: 'and',
        prefix: 'tmp/',
        tags: [{ key: 'keep', value: 'no' }],
        expiration: { days: 1 },
      }),
    ]);
    const blobsBefore = s.blobs.size;
    // Not yet due: nothing happens.
    expect((await worker(memoryProgress(), 0).runOnce()).expired).toBe(0);
    const counts = await worker(memoryProgress(), 3).runOnce();
    expect(counts).toMatchObject({ expired: 2, failed: 0 });
    expect(await s.meta.getObject(b.uid, 'tmp/small')).toBeUndefined();
    expect(await s.meta.getObject(b.uid, 'tmp/tagged')).toBeUndefined();
    expect(await s.meta.getObject(b.uid, 'tmp/big')).toBeDefined();
    expect(await s.meta.getObject(b.uid, 'keep/a')).toBeDefined();
    expect(s.blobs.size).toBe(blobsBefore - 2);
  });

  it('versioned: a delete marker goes on top; noncurrent versions expire keeping NewerNoncurrentVersions; a lone marker goes', async () => {
    let b = await s.bucket();
    await s.buckets.setVersioning(b.name, OWNER, 'Enabled');
    b = await s.buckets.resolve(b.name, OWNER);
    for (let i = 0; i < 4; i++) await s.put(b, 'many', `v${i}`);
    await s.put(b, 'cur', 'data');
    b = await withRules(b, [
      rule({ id: 'cur', prefix: 'cur', expiration: { days: 1 } }),
      rule({ id: 'nc', prefix: 'many', noncurrentExpiration: { noncurrentDays: 1, newerNoncurrentVersions: 1 } }),
      rule({ id: 'eodm', expiration: { expiredObjectDeleteMarker: true } }),
    ]);
    const c1 = await worker(memoryProgress(), 3).runOnce();
    expect(c1).toMatchObject({ deleteMarkersPlaced: 1, noncurrentRemoved: 2, failed: 0 });
    expect((await s.meta.getObject(b.uid, 'cur'))?.deleteMarker).toBe(true);
    expect(await historyOf(b, 'cur')).toHaveLength(1);
    expect(await historyOf(b, 'many')).toHaveLength(1);
    // Remove the data version behind the marker: the marker is then expired.
    const [v] = await historyOf(b, 'cur');
    await s.objects.remove({ bucket: b, key: 'cur', versionId: v!.version });
    const c2 = await worker(memoryProgress(), 3).runOnce();
    expect(c2.expiredMarkersRemoved).toBe(1);
    expect(await s.meta.getObject(b.uid, 'cur')).toBeUndefined();
  });

  it('versioning suspended: the null version is replaced by a null delete marker, versions with ids are kept', async () => {
    let b = await s.bucket();
    await s.buckets.setVersioning(b.name, OWNER, 'Enabled');
    b = await s.buckets.resolve(b.name, OWNER);
    const kept = await s.put(b, 'k', 'versioned');
    await s.buckets.setVersioning(b.name, OWNER, 'Suspended');
    b = await s.buckets.resolve(b.name, OWNER);
    await s.put(b, 'k', 'null one');
    b = await withRules(b, [rule({ expiration: { days: 1 } })]);
    expect((await worker(memoryProgress(), 3).runOnce()).deleteMarkersPlaced).toBe(1);
    const cur = await s.meta.getObject(b.uid, 'k');
    expect(cur?.deleteMarker).toBe(true);
    expect(cur?.version).toBeUndefined();
    expect((await historyOf(b, 'k')).map((r) => r.version)).toEqual([kept.version]);
  });

  it('an Expiration Days rule also clears a lone delete marker old enough, never one with versions behind it', async () => {
    let b = await s.bucket();
    await s.buckets.setVersioning(b.name, OWNER, 'Enabled');
    b = await s.buckets.resolve(b.name, OWNER);
    const v1 = await s.put(b, 'k', 'data');
    await s.objects.remove({ bucket: b, key: 'k' });
    b = await withRules(b, [rule({ expiration: { days: 1 } })]);
    expect((await worker(memoryProgress(), 3).runOnce()).expiredMarkersRemoved).toBe(0);
    expect((await s.meta.getObject(b.uid, 'k'))?.deleteMarker).toBe(true);
    await s.objects.remove({ bucket: b, key: 'k', versionId: v1.version });
    // Not a day old yet: it stays.
    expect((await worker(memoryProgress(), 0).runOnce()).expiredMarkersRemoved).toBe(0);
    expect((await worker(memoryProgress(), 3).runOnce()).expiredMarkersRemoved).toBe(1);
    expect(await s.meta.getObject(b.uid, 'k')).toBeUndefined();
  });

  it('never removes a locked version: it is counted as skipped and stays', async () => {
    let b = (await s.buckets.create({ owner: OWNER, name: 'locked-b', objectLock: true })).bucket;
    const until = Date.now() + 3600_000;
    await s.put(b, 'a', 'v1', { objectLock: { mode: 'COMPLIANCE', retainUntil: until } });
    await s.put(b, 'a', 'v2');
    await s.put(b, 'b', 'v1');
    await s.put(b, 'b', 'v2');
    b = await withRules(b, [rule({ noncurrentExpiration: { noncurrentDays: 1 } })]);
    const counts = await worker(memoryProgress(), 3).runOnce();
    expect(counts).toMatchObject({ noncurrentRemoved: 1, skippedLocked: 1, failed: 0 });
    expect(await historyOf(b, 'a')).toHaveLength(1);
    expect(await historyOf(b, 'b')).toHaveLength(0);
  });

  it('aborts incomplete uploads by prefix once DaysAfterInitiation passed', async () => {
    let b = await s.bucket();
    const up = await s.multipart.create(b, 'up/x', {}, {}, {});
    const other = await s.multipart.create(b, 'keep/x', {}, {}, {});
    b = await withRules(b, [rule({ prefix: 'up/', abortIncompleteUploadDays: 2 })]);
    expect((await worker(memoryProgress(), 1).runOnce()).uploadsAborted).toBe(0);
    expect((await worker(memoryProgress(), 3).runOnce()).uploadsAborted).toBe(1);
    expect(await s.meta.getUpload(b.uid, 'up/x', up)).toBeUndefined();
    expect(await s.meta.getUpload(b.uid, 'keep/x', other)).toBeDefined();
  });

  it('a version written after the worker judged the key is not the one expired', async () => {
    let b = await s.bucket();
    await s.put(b, 'k', 'old');
    b = await withRules(b, [rule({ expiration: { days: 1 } })]);
    const old = (await s.meta.getObject(b.uid, 'k'))!;
    await s.put(b, 'k', 'new');
    const res = await s.objects.remove({ bucket: b, key: 'k', onlyRecord: old.versionId });
    expect(res.skipped).toBe(true);
    expect((await s.meta.getObject(b.uid, 'k'))?.size).toBe(3);
  });

  it('resumes a pass from its saved progress, and starts afresh once a pass is complete', async () => {
    let b = await s.bucket();
    for (const k of ['k1', 'k2', 'k3', 'k4', 'k5']) await s.put(b, k, 'x');
    // A rule that names everything but is not due: every key is examined, none removed.
    b = await withRules(b, [rule({ expiration: { days: 1000 } })]);
    // The second save fails (the process dies there): progress says k2.
    const crashed = memoryProgress({}, 2);
    await expect(worker(crashed, 0, 2).runOnce()).rejects.toThrow('disk gone');
    expect(crashed.state()).toEqual({ [b.uid]: { phase: 'objects', after: 'k2' } });
    const resumed = memoryProgress(crashed.state());
    expect((await worker(resumed, 0, 2).runOnce()).examined).toBe(3);
    expect(resumed.state()).toEqual({});
    expect((await worker(resumed, 0, 2).runOnce()).examined).toBe(5);
  });

  it('is paced: every version examined or removed takes a token; counts are logged per bucket, keys never', async () => {
    let b = await s.bucket('paced');
    for (let i = 0; i < 25; i++) await s.put(b, `secret-name-${i}`, 'x');
    b = await withRules(b, [rule({ expiration: { days: 1 } })]);
    const slept: number[] = [];
    let clock = 0;
    const lines: Array<[string, Record<string, unknown>]> = [];
    const log = {
      ...createLogger('silent'),
      info: (m: string, f: Record<string, unknown> = {}) => void lines.push([m, f]),
    };
    const w = new LifecycleWorker({
      meta: s.meta,
      objects: s.objects,
      multipart: s.multipart,
      progress: memoryProgress(),
      dayMs: DAY,
      intervalMs: 60_000,
      ratePerSecond: 10,
      log: log as unknown as ReturnType<typeof createLogger>,
      now: () => Date.now() + 3 * DAY,
      // A clock that moves only by the sleeps asked for: the burst (10 tokens) is free, the rest is waited for.
      pacing: {
        now: () => clock,
        sleep: async (ms) => {
          slept.push(ms);
          clock += ms;
        },
      },
    });
    const counts = await w.runOnce();
    expect(counts).toMatchObject({ examined: 25, expired: 25 });
    // 50 tokens (25 looks, 25 removals) at 10/s, 10 of them free: 4 s of waiting asked for.
    expect(slept.reduce((a, x) => a + x, 0)).toBeCloseTo(4000, 0);
    expect(lines).toEqual([['lifecycle', expect.objectContaining({ bucket: 'paced', expired: 25, examined: 25 })]]);
    expect(JSON.stringify(lines)).not.toContain('secret-name');
  });

  it('acts on the bucket as it is now: versioning turned on mid-pass means a marker; rules removed stop the pass', async () => {
    let b = await s.bucket();
    for (const k of ['k1', 'k2']) await s.put(b, k, 'x');
    b = await withRules(b, [rule({ expiration: { days: 1 } })]);
    // After the first page (k1) is saved, versioning is turned on.
    let saves = 0;
    const changing: LifecycleProgress = {
      load: async () => ({}),
      save: async () => {
        if (++saves === 1) await s.buckets.setVersioning(b.name, OWNER, 'Enabled');
      },
    };
    expect(await worker(changing, 3, 1).runOnce()).toMatchObject({ expired: 1, deleteMarkersPlaced: 1 });
    expect(await s.meta.getObject(b.uid, 'k1')).toBeUndefined();
    expect((await s.meta.getObject(b.uid, 'k2'))?.deleteMarker).toBe(true);
    expect(await historyOf(b, 'k2')).toHaveLength(1);

    await s.buckets.setLifecycle(b.name, OWNER, undefined);
    const c = await s.bucket();
    for (const k of ['k1', 'k2']) await s.put(c, k, 'x');
    await withRules(c, [rule({ expiration: { days: 1 } })]);
    saves = 0;
    const dropping = memoryProgress();
    const save = dropping.save;
    dropping.save = async (st) => {
      if (++saves === 1) await s.buckets.setLifecycle(c.name, OWNER, undefined);
      await save(st);
    };
    expect((await worker(dropping, 3, 1).runOnce()).expired).toBe(1);
    expect(await s.meta.getObject(c.uid, 'k2')).toBeDefined();
    expect(dropping.state()).toEqual({});
  });

  it('drops the progress of buckets that are gone', async () => {
    const p = memoryProgress({ gone: { phase: 'objects', after: 'x' } });
    await worker(p, 0).runOnce();
    expect(p.state()).toEqual({});
  });
});
