import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LevelMetaStore } from '../../../src/meta/levelMetaStore.js';
import { levelWriteFault } from '../../../src/meta/levelWriteFault.js';
import type { BucketRecord } from '../../../src/meta/records.js';
import { DiskFaultError } from '../../../src/util/diskFault.js';

/** What classic-level rejects with when LevelDB's log write or sync fails. */
const levelIoError = (strerror: string) =>
  Object.assign(new Error(`IO error: /srv/coffer/meta/000005.log: ${strerror}`), { code: 'LEVEL_IO_ERROR' });

describe('levelWriteFault', () => {
  const cases = [
    ['No space left on device', 'ENOSPC', 'full'],
    ['Disk quota exceeded', 'EDQUOT', 'full'],
    ['Read-only file system', 'EROFS', 'readonly'],
    ['Input/output error', 'EIO', 'io'],
    ['something LevelDB did not say before', 'EIO', 'io'],
  ] as const;
  for (const [text, errno, kind] of cases) {
    it(`"${text}" -> ${errno} (${kind}), the path left out`, () => {
      const f = levelWriteFault(levelIoError(text));
      expect(f).toBeInstanceOf(DiskFaultError);
      expect(f).toMatchObject({ errno, kind, drive: 'metadata', op: 'write' });
      expect((f as Error).message).not.toContain('/srv');
    });
  }

  it('other errors pass through unchanged', () => {
    const corrupt = Object.assign(new Error('Corruption: bad block'), { code: 'LEVEL_CORRUPTION' });
    expect(levelWriteFault(corrupt)).toBe(corrupt);
    const plain = new Error('x');
    expect(levelWriteFault(plain)).toBe(plain);
  });
});

describe('LevelMetaStore on a full disk', () => {
  it('a commit that LevelDB fails with an I/O error rejects as a DiskFaultError, and the store commits again afterwards', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'coffer-levelfault-'));
    const store = await LevelMetaStore.open(join(dir, 'meta'));
    try {
      // LevelDB's own file I/O is native, out of reach of the BlobFs seam: fail its batch call instead.
      const db = (store as unknown as { db: { batch: (...a: unknown[]) => Promise<void> } }).db;
      const real = db.batch.bind(db);
      db.batch = () => Promise.reject(levelIoError('No space left on device'));
      const bucket = {
        name: 'b',
        uid: 'a'.repeat(32),
        owner: 'o',
        created: 0,
      } as unknown as BucketRecord;
      const err = await store
        .batch()
        .putBucket(bucket)
        .commit()
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'DiskFaultError', errno: 'ENOSPC', kind: 'full', drive: 'metadata' });
      expect(await store.getBucket('b')).toBeUndefined();
      db.batch = real;
      await store.batch().putBucket(bucket).commit();
      expect(await store.getBucket('b')).toMatchObject({ name: 'b' });
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
