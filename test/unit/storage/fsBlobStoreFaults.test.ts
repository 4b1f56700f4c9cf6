/**
 * FsBlobStore on a failing disk: every errno on every call a put makes, through
 * the fault-injection file system. A failed put is a DiskFaultError naming the
 * drive (never a path), leaves nothing behind, breaks no other blob, and the
 * store takes the next put once the disk is healthy.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryMetaStore } from '../../../src/meta/memoryMetaStore.js';
import { sweepGarbage } from '../../../src/services/garbageSweep.js';
import { FsBlobStore } from '../../../src/storage/fsBlobStore.js';
import { DiskFaultError } from '../../../src/util/diskFault.js';
import { chunked, collect } from '../../contract/blobStore.contract.js';
import { FaultyFs, type Fault } from '../../helpers/faultyFs.js';

const ERRNOS = [
  ['ENOSPC', 'full'],
  ['EDQUOT', 'full'],
  ['EIO', 'io'],
  ['EROFS', 'readonly'],
] as const;

/** Ids whose shard directories are fresh for each put (so mkdir runs), and one for the blob stored before. */
let seq = 0;
const freshId = () => (++seq).toString(16).padStart(4, '0') + randomBytes(14).toString('hex');
const OLD_ID = 'ffff' + 'ab'.repeat(14);

/** Every call a put makes, as the faults that fail it (paths under the store `dir`). */
function callKinds(dir: string): Array<[string, Omit<Fault, 'code'>]> {
  const tmp = new RegExp(`^${join(dir, 'tmp')}/`);
  const shardDir = /\/[0-9a-f]{2}\/[0-9a-f]{2}$/;
  return [
    ['open of the temp file', { op: 'open', path: tmp, flags: 'w' }],
    ['the first write', { op: 'write' }],
    ['a write after 70,000 bytes (cut short, as a filling disk does)', { op: 'write', afterBytes: 70_000 }],
    ['fsync of the file', { op: 'fsync', path: tmp }],
    ['rename into place', { op: 'rename' }],
    ['fsync of the directory after the rename', { op: 'fsync', path: shardDir }],
    ['mkdir of a shard directory', { op: 'mkdir' }],
    ['the existence check (stat)', { op: 'stat', path: /[0-9a-f]{32}$/ }],
  ];
}

describe('FsBlobStore: disk faults', () => {
  let root: string;
  let dir: string;
  let fs: FaultyFs;
  let store: FsBlobStore;
  const old = randomBytes(40_000);
  const tmpFiles = () => readdir(join(dir, 'tmp'));
  const blobs = async () => {
    const ids: string[] = [];
    for await (const id of store.list()) ids.push(id);
    return ids;
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'coffer-faults-'));
    dir = join(root, 'disk1');
    fs = new FaultyFs();
    store = await FsBlobStore.open(dir, { fs });
    await store.put(OLD_ID, chunked(old));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  for (const [code, kind] of ERRNOS) {
    describe(code, () => {
      // The names only here: the faults' paths are the store's, known once it is open.
      for (const [what] of callKinds('')) {
        it(`${what}: DiskFaultError, nothing left, the old blob intact, the next put works`, async () => {
          const fault = callKinds(dir).find(([w]) => w === what)![1];
          fs.inject({ ...fault, code });
          const id = freshId();
          const err = await store.put(id, chunked(randomBytes(200_000))).catch((e: unknown) => e);
          expect(fs.raised.length, 'the fault was hit').toBeGreaterThan(0);
          expect(err).toBeInstanceOf(DiskFaultError);
          expect(err).toMatchObject({ errno: code, kind, op: fault.op, drive: 'drive "disk1"' });
          expect((err as Error).message).not.toContain(root);
          fs.clear();
          expect(await tmpFiles()).toEqual([]);
          expect(await store.stat(id)).toBeUndefined();
          expect(await blobs()).toEqual([OLD_ID]);
          expect((await collect(store.get(OLD_ID))).equals(old)).toBe(true);
          // Nothing cached from the failure (a shard directory that was never made) breaks the retry.
          const again = randomBytes(10_000);
          await store.put(id, chunked(again));
          expect((await collect(store.get(id))).equals(again)).toBe(true);
        });
      }
    });
  }

  it('a fault after N calls lets the first puts through and fails the next', async () => {
    fs.inject({ op: 'rename', code: 'ENOSPC', afterCalls: 2, times: 1 });
    const ids = [freshId(), freshId(), freshId(), freshId()];
    const results = [];
    for (const id of ids)
      results.push(
        await store.put(id, chunked(randomBytes(1000))).then(
          () => 'ok',
          (e: Error) => e.name,
        ),
      );
    expect(results).toEqual(['ok', 'ok', 'DiskFaultError', 'ok']);
  });

  it('if the cleanup unlink fails too, the temp file is left for the start-up sweep, which removes it', async () => {
    fs.inject({ op: 'fsync', path: /\/tmp\/[0-9a-f.]+$/, code: 'EIO' });
    fs.inject({ op: 'unlink', code: 'EIO' });
    const id = freshId();
    await expect(store.put(id, chunked(randomBytes(5000)))).rejects.toBeInstanceOf(DiskFaultError);
    expect(await tmpFiles()).toHaveLength(1);
    fs.clear();
    const reopened = await FsBlobStore.open(dir, { fs });
    const swept = await sweepGarbage(new MemoryMetaStore(), reopened);
    expect(swept.tempFiles).toBe(1);
    expect(await tmpFiles()).toEqual([]);
  });

  it('a blob published before its directory fsync failed, whose unlink failed too, is an orphan the sweep removes', async () => {
    fs.inject({ op: 'fsync', path: /\/[0-9a-f]{2}\/[0-9a-f]{2}$/, code: 'EIO' });
    fs.inject({ op: 'unlink', code: 'EIO' });
    const id = freshId();
    await expect(store.put(id, chunked(randomBytes(5000)))).rejects.toMatchObject({ errno: 'EIO', op: 'fsync' });
    fs.clear();
    expect((await blobs()).sort()).toEqual([id, OLD_ID].sort());
    const meta = new MemoryMetaStore();
    // The old blob is named by a record, the failed one is not.
    await meta
      .batch()
      .putObject({
        bucketUid: 'a'.repeat(32),
        key: 'k',
        versionId: 'v',
        size: 1,
        lastModified: 0,
        headers: {},
        metaSalt: '',
        sealed: '',
        dekGeneration: 1,
        stream: { dataId: OLD_ID, salt: '', headerDigest: '', size: 1, segmentLog2: 16 },
      })
      .commit();
    expect(await sweepGarbage(meta, store)).toMatchObject({ orphans: 1, failed: 0 });
    expect(await blobs()).toEqual([OLD_ID]);
  });

  it('a sweep on a drive that refuses unlinks counts the failures instead of throwing', async () => {
    const id = freshId();
    await store.put(id, chunked(randomBytes(100)));
    fs.inject({ op: 'unlink', code: 'EROFS' });
    expect(await sweepGarbage(new MemoryMetaStore(), store)).toEqual({ orphans: 0, tempFiles: 0, failed: 2 });
  });

  it('delete on a read-only drive and reads on a failing one are DiskFaultErrors; a missing blob stays ENOENT', async () => {
    fs.inject({ op: 'unlink', code: 'EROFS' });
    await expect(store.delete(OLD_ID)).rejects.toMatchObject({ name: 'DiskFaultError', kind: 'readonly' });
    fs.clear();
    fs.inject({ op: 'stat', code: 'EIO' });
    fs.inject({ op: 'open', flags: 'r', code: 'EIO' });
    await expect(store.stat(OLD_ID)).rejects.toMatchObject({ name: 'DiskFaultError', kind: 'io', op: 'stat' });
    await expect(store.read(OLD_ID, 0, 10)).rejects.toMatchObject({ name: 'DiskFaultError', kind: 'io', op: 'open' });
    fs.clear();
    await expect(store.read(freshId(), 0, 10)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await store.stat(freshId())).toBeUndefined();
  });
});
