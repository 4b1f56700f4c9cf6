import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LevelMetaStore } from '../../../src/meta/levelMetaStore.js';
import type { ObjectRecord } from '../../../src/meta/records.js';
import { sweepGarbage } from '../../../src/services/garbageSweep.js';
import { FsBlobStore } from '../../../src/storage/fsBlobStore.js';

const uid = 'a'.repeat(32);
const id = (n: number) => n.toString(16).padStart(32, '0');

function record(key: string, dataId: string): ObjectRecord {
  return {
    bucketUid: uid,
    key,
    versionId: 'v',
    size: 1,
    lastModified: 0,
    headers: {},
    metaSalt: '',
    sealed: '',
    dekGeneration: 1,
    stream: { dataId, salt: '', headerDigest: '', size: 1, segmentLog2: 16 },
  };
}

describe('sweepGarbage', () => {
  let dir: string;
  let meta: LevelMetaStore;
  let blobs: FsBlobStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coffer-sweep-'));
    meta = await LevelMetaStore.open(join(dir, 'meta'));
    blobs = await FsBlobStore.open(join(dir, 'blobs'));
  });
  afterEach(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('deletes blobs no record names and keeps referenced ones (objects and parts)', async () => {
    for (const n of [1, 2, 3]) await blobs.put(id(n), Readable.from([Buffer.from('x')]));
    await meta
      .batch()
      .putObject(record('k', id(1)))
      .commit();
    await meta
      .batch()
      .putPart({
        bucketUid: uid,
        uploadId: 'u1',
        partNumber: 1,
        dataId: id(2),
        salt: '',
        headerDigest: '',
        size: 1,
        segmentLog2: 16,
        sealedEtag: '',
        lastModified: 0,
      })
      .commit();
    const res = await sweepGarbage(meta, blobs);
    expect(res.orphans).toBe(1);
    const left: string[] = [];
    for await (const b of blobs.list()) left.push(b);
    expect(left.sort()).toEqual([id(1), id(2)]);
  });

  it('is a no-op on an empty store', async () => {
    expect(await sweepGarbage(meta, blobs)).toEqual({ orphans: 0, tempFiles: 0, failed: 0 });
  });
});
