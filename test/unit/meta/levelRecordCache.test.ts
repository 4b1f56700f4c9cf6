/**
 * LevelMetaStore keeps bucket records in memory (the data path resolves its
 * bucket on every request): what it answers must still be what was last
 * committed, and no caller can change what the next one gets.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LevelMetaStore } from '../../../src/meta/levelMetaStore.js';
import { makeBucket, makeObject, newUid } from '../../contract/metaStore.contract.js';

describe('LevelMetaStore record cache (buckets and current objects)', () => {
  let root: string;
  let store: LevelMetaStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'coffer-meta-'));
    store = await LevelMetaStore.open(join(root, 'db'));
  });
  afterEach(async () => {
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  it('answers a changed bucket with the committed change, after it was read (and cached) before', async () => {
    const b = makeBucket('photos');
    await store.batch().putBucket(b).commit();
    expect((await store.getBucket('photos'))?.versioning).toBeUndefined();
    await store
      .batch()
      .putBucket({ ...b, versioning: 'Enabled' })
      .commit();
    expect((await store.getBucket('photos'))?.versioning).toBe('Enabled');
  });

  it('answers a deleted bucket with undefined, and a re-created one with its new uid', async () => {
    const b = makeBucket('photos');
    await store.batch().putBucket(b).commit();
    expect((await store.getBucket('photos'))?.uid).toBe(b.uid);
    await store.batch().deleteBucket('photos').commit();
    expect(await store.getBucket('photos')).toBeUndefined();
    const again = makeBucket('photos');
    await store.batch().putBucket(again).commit();
    expect((await store.getBucket('photos'))?.uid).toBe(again.uid);
  });

  it('hands every caller its own copy: changing one does not change what the store answers', async () => {
    await store.batch().putBucket(makeBucket('photos')).commit();
    const first = (await store.getBucket('photos'))!;
    first.owner = 'someone-else';
    first.encryption.wrappedDek = 'tampered';
    const second = (await store.getBucket('photos'))!;
    expect(second.owner).toBe('acct-1');
    expect(second.encryption.wrappedDek).toBe('d3JhcHBlZA==');
    second.owner = 'x';
    expect((await store.getBucket('photos'))!.owner).toBe('acct-1');
  });

  it('answers a bucket changed while a read of it was in flight with the change once the commit is acknowledged', async () => {
    const b = makeBucket('photos');
    await store.batch().putBucket(b).commit();
    await store
      .batch()
      .putBucket({ ...b, versioning: 'Suspended' })
      .commit();
    // The read starts before the commit and may see either version; what is read after must be the new one.
    const racing = store.getBucket('photos');
    const commit = store
      .batch()
      .putBucket({ ...b, versioning: 'Enabled' })
      .commit();
    await Promise.all([racing, commit]);
    expect((await store.getBucket('photos'))?.versioning).toBe('Enabled');
  });

  it('reopened, it reads what was committed (nothing lives only in the cache)', async () => {
    await store
      .batch()
      .putBucket({ ...makeBucket('photos'), versioning: 'Enabled' })
      .commit();
    await store.getBucket('photos');
    await store.close();
    store = await LevelMetaStore.open(join(root, 'db'));
    expect((await store.getBucket('photos'))?.versioning).toBe('Enabled');
  });

  it('answers an overwritten or deleted object with what was committed last, after it was read (and cached)', async () => {
    const uid = newUid();
    const v1 = makeObject(uid, 'k');
    await store.batch().putObject(v1).commit();
    expect((await store.getObject(uid, 'k'))?.versionId).toBe(v1.versionId);
    const v2 = makeObject(uid, 'k');
    expect(v2.versionId).not.toBe(v1.versionId);
    await store.batch().putObject(v2).commit();
    expect((await store.getObject(uid, 'k'))?.versionId).toBe(v2.versionId);
    const got = (await store.getObject(uid, 'k'))!;
    got.size = -1;
    expect((await store.getObject(uid, 'k'))?.size).toBe(v2.size);
    await store.batch().deleteObject(uid, 'k').commit();
    expect(await store.getObject(uid, 'k')).toBeUndefined();
  });
});
