import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMemoryServices, OWNER, REGION, type MemoryServices } from './memoryServices.js';

describe('BucketService (memory stores, local key provider)', () => {
  let s: MemoryServices;
  beforeEach(async () => {
    s = await openMemoryServices();
  });
  afterEach(async () => {
    await s.close();
  });

  it('create stores a bucket with a wrapped DEK that unwraps to a 32-byte key', async () => {
    const { created, bucket } = await s.buckets.create({ owner: OWNER, name: 'photos' });
    expect(created).toBe(true);
    expect(bucket).toMatchObject({ name: 'photos', owner: OWNER, region: REGION });
    expect(bucket.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(bucket.encryption.customerManaged).toBe(false);
    expect(bucket.encryption.rootKeyCrn).toBe(await s.kms.provider.defaultRootKeyCrn({ tenant: OWNER }));
    expect(await s.meta.getBucket('photos')).toEqual(bucket);
    const dek = await s.buckets.dek(bucket);
    expect(dek.length).toBe(32);
    expect((await s.buckets.dek(bucket)).equals(dek)).toBe(true);
  });

  it('resolve: NoSuchBucket for a missing bucket, AccessDenied for another account', async () => {
    await s.bucket('mine');
    await expect(s.buckets.resolve('mine', OWNER)).resolves.toMatchObject({ name: 'mine' });
    await expect(s.buckets.resolve('absent', OWNER)).rejects.toMatchObject({ code: 'NoSuchBucket' });
    await expect(s.buckets.resolve('mine', 'acct-other')).rejects.toMatchObject({ code: 'AccessDenied' });
  });

  it('a repeated create is BucketAlreadyOwnedByYou for the owner, BucketAlreadyExists for others', async () => {
    await s.bucket('taken');
    await expect(s.buckets.create({ owner: OWNER, name: 'taken' })).rejects.toMatchObject({
      code: 'BucketAlreadyOwnedByYou',
    });
    await expect(s.buckets.create({ owner: 'acct-other', name: 'taken' })).rejects.toMatchObject({
      code: 'BucketAlreadyExists',
    });
  });

  it('rejects invalid names and a foreign location constraint before touching the KMS', async () => {
    for (const name of ['ab', 'UPPER', 'a..b', '192.168.0.1', 'xn--abc', '-start']) {
      await expect(s.buckets.create({ owner: OWNER, name })).rejects.toMatchObject({ code: 'InvalidBucketName' });
    }
    await expect(
      s.buckets.create({ owner: OWNER, name: 'elsewhere', locationConstraint: 'eu-de' }),
    ).rejects.toMatchObject({ code: 'InvalidArgument' });
    expect(await s.meta.listBuckets()).toEqual([]);
  });

  it("list returns only the account's buckets, in name order", async () => {
    await s.bucket('zeta');
    await s.bucket('alpha');
    await s.buckets.create({ owner: 'acct-other', name: 'theirs' });
    expect((await s.buckets.list(OWNER)).map((b) => b.name)).toEqual(['alpha', 'zeta']);
  });

  it('delete: BucketNotEmpty while an object exists, then removes the bucket', async () => {
    const b = await s.bucket('full');
    await s.put(b, 'k', 'x');
    await expect(s.buckets.delete('full', OWNER)).rejects.toMatchObject({ code: 'BucketNotEmpty' });
    await s.objects.delete(b, 'k');
    await s.buckets.delete('full', OWNER);
    expect(await s.meta.getBucket('full')).toBeUndefined();
    await expect(s.buckets.resolve('full', OWNER)).rejects.toMatchObject({ code: 'NoSuchBucket' });
  });

  it('delete aborts uploads in progress through the callback', async () => {
    const b = await s.bucket('uploads');
    await s.multipart.create(b, 'big', {}, {}, {});
    await s.buckets.delete('uploads', OWNER, undefined, (x) => s.multipart.abortAll(x));
    expect(await s.meta.getBucket('uploads')).toBeUndefined();
    expect(await s.meta.bucketHasContent(b.uid)).toBe(false);
  });
});
