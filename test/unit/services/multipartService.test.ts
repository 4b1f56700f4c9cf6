import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BucketRecord } from '../../../src/meta/records.js';
import { MIN_PART_SIZE } from '../../../src/services/multipartService.js';
import { chunked, collect, openMemoryServices, type MemoryServices } from './memoryServices.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest();

describe('MultipartService (memory stores, local key provider)', () => {
  let s: MemoryServices;
  let b: BucketRecord;
  const part = (uploadId: string, n: number, data: Buffer) =>
    s.multipart.uploadPart(b, 'big', uploadId, n, chunked(data, 256 * 1024), {});
  beforeEach(async () => {
    s = await openMemoryServices();
    b = await s.bucket('multi');
  });
  afterEach(async () => {
    await s.close();
  });

  it('round trip: create, upload parts out of order, list, complete, read back whole and by part', async () => {
    const p1 = randomBytes(MIN_PART_SIZE);
    const p2 = randomBytes(1000);
    const uploadId = await s.multipart.create(b, 'big', { contentType: 'application/zip' }, { owner: 'me' }, {});
    const e2 = await part(uploadId, 2, p2);
    const e1 = await part(uploadId, 1, p1);
    expect(e1.etag).toBe(md5(p1).toString('hex'));

    const listed = await s.multipart.listParts(b, 'big', uploadId, 0, 1000);
    expect(listed.parts.map((p) => [p.record.partNumber, p.etag])).toEqual([
      [1, e1.etag],
      [2, e2.etag],
    ]);
    expect(listed.truncated).toBe(false);
    expect((await s.multipart.listUploads(b, '', undefined, undefined, 10)).uploads.map((u) => u.uploadId)).toEqual([
      uploadId,
    ]);

    const done = await s.multipart.complete(b, 'big', uploadId, [
      { partNumber: 1, etag: `"${e1.etag}"` },
      { partNumber: 2, etag: e2.etag },
    ]);
    const expected = createHash('md5')
      .update(Buffer.concat([md5(p1), md5(p2)]))
      .digest('hex');
    expect(done.etag).toBe(`${expected}-2`);

    const r = await s.objects.read({ bucket: b, key: 'big', conditions: {} }, true);
    expect((await collect(r.body)).equals(Buffer.concat([p1, p2]))).toBe(true);
    expect(r.meta).toMatchObject({ etag: done.etag, userMeta: { owner: 'me' } });
    expect(r.record.headers).toEqual({ contentType: 'application/zip' });
    const second = await s.objects.read({ bucket: b, key: 'big', partNumber: 2, conditions: {} }, true);
    expect(second.partsCount).toBe(2);
    expect((await collect(second.body)).equals(p2)).toBe(true);
    const across = await s.objects.read(
      { bucket: b, key: 'big', range: `bytes=${MIN_PART_SIZE - 5}-${MIN_PART_SIZE + 4}`, conditions: {} },
      true,
    );
    expect((await collect(across.body)).equals(Buffer.concat([p1.subarray(-5), p2.subarray(0, 5)]))).toBe(true);

    // The upload and its part records are gone; the blobs are now the object's.
    await expect(s.multipart.upload(b, 'big', uploadId)).rejects.toMatchObject({ code: 'NoSuchUpload' });
    expect(await s.meta.listParts(uploadId)).toEqual([]);
    expect(s.blobs.size).toBe(2);
  });

  it('a re-uploaded part replaces the first attempt and its blob', async () => {
    const uploadId = await s.multipart.create(b, 'big', {}, {}, {});
    await part(uploadId, 1, Buffer.from('first attempt'));
    const again = await part(uploadId, 1, Buffer.from('second'));
    expect(s.blobs.size).toBe(1);
    await s.multipart.complete(b, 'big', uploadId, [{ partNumber: 1, etag: again.etag }]);
    const r = await s.objects.read({ bucket: b, key: 'big', conditions: {} }, true);
    expect((await collect(r.body)).toString()).toBe('second');
  });

  it('complete refuses a wrong ETag, a wrong order, and a small non-last part', async () => {
    const uploadId = await s.multipart.create(b, 'big', {}, {}, {});
    const e1 = await part(uploadId, 1, Buffer.from('small'));
    const e2 = await part(uploadId, 2, Buffer.from('tail'));
    const complete = (parts: Array<{ partNumber: number; etag: string }>) =>
      s.multipart.complete(b, 'big', uploadId, parts);
    await expect(complete([{ partNumber: 1, etag: '0'.repeat(32) }])).rejects.toMatchObject({ code: 'InvalidPart' });
    await expect(
      complete([
        { partNumber: 2, etag: e2.etag },
        { partNumber: 1, etag: e1.etag },
      ]),
    ).rejects.toMatchObject({ code: 'InvalidPartOrder' });
    await expect(
      complete([
        { partNumber: 1, etag: e1.etag },
        { partNumber: 2, etag: e2.etag },
      ]),
    ).rejects.toMatchObject({ code: 'EntityTooSmall' });
    await expect(complete([])).rejects.toMatchObject({ code: 'MalformedXML' });
    // Nothing was committed: the upload is still there and no object exists.
    await expect(s.multipart.upload(b, 'big', uploadId)).resolves.toBeDefined();
    expect(await s.meta.getObject(b.uid, 'big')).toBeUndefined();
  });

  it('abort drops the upload, its parts and their blobs; later parts are NoSuchUpload', async () => {
    const uploadId = await s.multipart.create(b, 'big', {}, {}, {});
    await part(uploadId, 1, randomBytes(10_000));
    await part(uploadId, 2, randomBytes(10_000));
    await s.multipart.abort(b, 'big', uploadId);
    expect(s.blobs.size).toBe(0);
    expect(await s.meta.bucketHasContent(b.uid)).toBe(false);
    await expect(part(uploadId, 3, Buffer.from('late'))).rejects.toMatchObject({ code: 'NoSuchUpload' });
    await expect(s.multipart.abort(b, 'big', uploadId)).rejects.toMatchObject({ code: 'NoSuchUpload' });
    expect(s.blobs.size).toBe(0);
  });

  it('rejects part numbers outside 1..10000', async () => {
    const uploadId = await s.multipart.create(b, 'big', {}, {}, {});
    for (const n of [0, 10_001, 1.5]) {
      await expect(
        s.multipart.uploadPart(b, 'big', uploadId, n, Readable.from([Buffer.from('x')]), {}),
      ).rejects.toMatchObject({ code: 'InvalidArgument' });
    }
  });
});
