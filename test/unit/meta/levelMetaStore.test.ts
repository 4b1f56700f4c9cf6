import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LevelMetaStore } from '../../../src/meta/levelMetaStore.js';
import type { ObjectRecord } from '../../../src/meta/records.js';
import { recordLevelWrites } from '../../helpers/levelWrites.js';
import {
  UNICODE_KEYS_IN_BYTE_ORDER,
  makeBucket,
  makeObject,
  makePart,
  makeUpload,
  metaStoreContract,
  newUid,
} from '../../contract/metaStore.contract.js';
import { metaStoreVersionsContract } from '../../contract/metaStoreVersions.contract.js';

metaStoreContract('LevelMetaStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'coffer-meta-'));
  return {
    store: await LevelMetaStore.open(join(dir, 'db')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

metaStoreVersionsContract('LevelMetaStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'coffer-meta-'));
  return {
    store: await LevelMetaStore.open(join(dir, 'db')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

async function keys(it: AsyncIterable<ObjectRecord>): Promise<string[]> {
  const out: string[] = [];
  for await (const o of it) out.push(o.key);
  return out;
}

describe('LevelMetaStore', () => {
  let root: string;
  let dbDir: string;
  let store: LevelMetaStore;
  const uid = newUid();

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'coffer-meta-'));
    dbDir = join(root, 'db');
    store = await LevelMetaStore.open(dbDir);
  });
  afterEach(async () => {
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  it('commits every batch with sync (bucket, object, upload, part, deletes): a commit acknowledges a write', async () => {
    const rec = recordLevelWrites();
    try {
      await store.batch().putBucket(makeBucket('synced', uid)).commit();
      await store
        .batch()
        .putObject(makeObject(uid, 'a'))
        .putUpload(makeUpload(uid, 'b', 'up-s'))
        .commit();
      await store
        .batch()
        .putPart(makePart(uid, 'up-s', 1))
        .commit();
      await Promise.all([
        store.batch().deleteObject(uid, 'a').commit(),
        store.batch().deletePart('up-s', 1).deleteUpload(uid, 'b', 'up-s').commit(),
      ]);
    } finally {
      rec.restore();
    }
    expect(rec.writes.length).toBeGreaterThanOrEqual(3);
    expect(rec.unsynced()).toEqual([]);
  });

  it('survives close and reopen with everything intact', async () => {
    const bucket = makeBucket('photos', uid);
    const objects = UNICODE_KEYS_IN_BYTE_ORDER.map((k) => makeObject(uid, k));
    const upload = makeUpload(uid, 'big.bin', 'up-1');
    const part = makePart(uid, 'up-1', 3);
    const batch = store.batch().putBucket(bucket).putUpload(upload).putPart(part);
    for (const o of objects) batch.putObject(o);
    await batch.commit();
    await store.close();

    store = await LevelMetaStore.open(dbDir);
    expect(await store.getBucket('photos')).toEqual(bucket);
    expect(await store.listBuckets()).toEqual([bucket]);
    for (const o of objects) expect(await store.getObject(uid, o.key)).toEqual(o);
    expect(await keys(store.listObjects({ bucketUid: uid, limit: 100 }))).toEqual(UNICODE_KEYS_IN_BYTE_ORDER);
    expect(await store.getUpload(uid, 'big.bin', 'up-1')).toEqual(upload);
    expect(await store.listParts('up-1')).toEqual([part]);
    expect(await store.bucketHasContent(uid)).toBe(true);
  });

  it('lists unicode keys in byte order with prefix/after/limit, after a reopen', async () => {
    const ks = ['日本/1', '日本/2', '日本語', '日', 'Z', '\u{FFFF}/x', '😀/a', '😀/b'];
    const batch = store.batch();
    for (const k of ks) batch.putObject(makeObject(uid, k));
    await batch.commit();
    await store.close();
    store = await LevelMetaStore.open(dbDir);
    const list = (prefix: string | undefined, after: string | undefined, limit: number) =>
      keys(store.listObjects({ bucketUid: uid, prefix, after, limit }));
    expect(await list(undefined, undefined, 100)).toEqual([
      'Z',
      '日',
      '日本/1',
      '日本/2',
      '日本語',
      '\u{FFFF}/x',
      '😀/a',
      '😀/b',
    ]);
    expect(await list('日本', undefined, 2)).toEqual(['日本/1', '日本/2']);
    expect(await list('日本', '日本/2', 100)).toEqual(['日本語']);
    expect(await list(undefined, '\u{FFFF}/x', 1)).toEqual(['😀/a']);
    expect(await list('😀/', '😀/a', 10)).toEqual(['😀/b']);
  });

  it('pages through a large listing with after + limit', async () => {
    const all = Array.from({ length: 2500 }, (_, i) => `k/${String(i).padStart(5, '0')}`);
    for (let i = 0; i < all.length; i += 500) {
      const batch = store.batch();
      for (const k of all.slice(i, i + 500)) batch.putObject(makeObject(uid, k));
      await batch.commit();
    }
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await keys(store.listObjects({ bucketUid: uid, prefix: 'k/', after, limit: 1000 }));
      seen.push(...page);
      if (page.length < 1000) break;
      after = page[page.length - 1];
    }
    expect(seen).toEqual(all);
  });

  it('a batch that fails to commit leaves nothing', async () => {
    const before = makeObject(uid, 'kept');
    await store.batch().putBucket(makeBucket('b', uid)).putObject(before).commit();
    const doomed = store
      .batch()
      .putObject(makeObject(uid, 'new'))
      .deleteObject(uid, 'kept')
      .deleteBucket('b')
      .putUpload(makeUpload(uid, 'new', 'up'));
    await store.close();
    await expect(doomed.commit()).rejects.toThrow();

    store = await LevelMetaStore.open(dbDir);
    expect(await store.getObject(uid, 'kept')).toEqual(before);
    expect(await store.getObject(uid, 'new')).toBeUndefined();
    expect(await store.getBucket('b')).toBeDefined();
    expect(await store.getUpload(uid, 'new', 'up')).toBeUndefined();
  });

  it('concurrent commits share synced writes, each applied whole and in commit order', async () => {
    await store.batch().putBucket(makeBucket('b', uid)).commit();
    // Count the LevelDB writes the store makes (the db is private; this is a test seam).
    const db = (store as unknown as { db: { batch: (...a: unknown[]) => Promise<void> } }).db;
    const original = db.batch.bind(db);
    const writes: unknown[][] = [];
    db.batch = (ops: unknown, opts: unknown) => {
      writes.push(ops as unknown[]);
      return original(ops, opts);
    };
    const n = 20;
    const records = Array.from({ length: n }, (_, i) => makeObject(uid, `k${i}`));
    await Promise.all(
      records.map((r, i) =>
        store
          .batch()
          .putObject(r)
          .putObject(makeObject(uid, 'shared', { size: i }))
          .commit(),
      ),
    );
    // The first write goes alone; the other 19 batches were queued behind it.
    expect(writes.length).toBeLessThan(n);
    expect(writes.length).toBeGreaterThanOrEqual(2);
    expect(writes.flat()).toHaveLength(2 * n);
    for (const r of records) expect(await store.getObject(uid, r.key)).toEqual(r);
    // Later batches win on the same key, as if they had committed one by one.
    expect((await store.getObject(uid, 'shared'))?.size).toBe(n - 1);
  });

  it('a batch whose value cannot be encoded fails alone, not the batches committed with it', async () => {
    const bad = { ...makeObject(uid, 'bad'), size: 10n as unknown as number };
    const results = await Promise.allSettled([
      store.batch().putObject(makeObject(uid, 'one')).commit(),
      store.batch().putObject(bad).commit(),
      store.batch().putObject(makeObject(uid, 'two')).commit(),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await store.getObject(uid, 'one')).toBeDefined();
    expect(await store.getObject(uid, 'two')).toBeDefined();
    expect(await store.getObject(uid, 'bad')).toBeUndefined();
  });

  it('refuses a second open of the same directory (LevelDB LOCK)', async () => {
    await expect(LevelMetaStore.open(dbDir)).rejects.toThrow();
  });
});
