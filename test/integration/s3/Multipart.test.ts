/**
 * Multipart uploads: Create, UploadPart, UploadPartCopy (CopySourceRange),
 * Complete (InvalidPart, InvalidPartOrder, EntityTooSmall), Abort, ListParts,
 * ListMultipartUploads, the MD5-of-MD5s "-N" ETag, lib-storage Upload, and
 * blob accounting (replaced, unused and aborted parts leave nothing behind).
 * Minimum part size is 5 MiB.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { crc32Base64, md5Base64, md5Hex, md5OfStream, multipartEtag, SeededData } from '../../helpers/seeded.js';
import {
  bodyBytes,
  captureHeaders,
  countBlobs,
  createBucket,
  expectBlobCount,
  expectSdkError,
  useGateway,
} from '../../helpers/s3Test.js';
import type { TestGateway } from '../../helpers/startGateway.js';

const MiB = 1024 * 1024;

let gw: TestGateway;
let s3: S3Client;
useGateway((t) => ({ gw, s3 } = t));

const newBucket = (prefix: string) => createBucket(s3, prefix);

async function create(
  b: string,
  key: string,
  extra: { ContentType?: string; Metadata?: Record<string, string> } = {},
): Promise<string> {
  const out = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: key, ...extra }));
  expect(out.UploadId).toBeTruthy();
  expect(out.Bucket).toBe(b);
  expect(out.Key).toBe(key);
  return out.UploadId!;
}

async function part(b: string, key: string, uploadId: string, n: number, data: SeededData): Promise<CompletedPart> {
  const out = await s3.send(
    new UploadPartCommand({ Bucket: b, Key: key, UploadId: uploadId, PartNumber: n, Body: data.bytes() }),
  );
  expect(out.ETag, `part ${n} ETag is the MD5 of the part`).toBe(`"${data.md5()}"`);
  return { PartNumber: n, ETag: out.ETag };
}

const complete = (b: string, key: string, uploadId: string, parts: CompletedPart[]) =>
  s3.send(
    new CompleteMultipartUploadCommand({ Bucket: b, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
  );

describe('multipart upload', () => {
  it('three parts: ListParts, ListMultipartUploads, Complete; ETag = MD5 of part MD5s + "-3"; bytes, size, metadata and ranges across parts', async () => {
    const b = await newBucket('mp-basic');
    const key = 'big/object.bin';
    const parts = [new SeededData('mp-1', 5 * MiB), new SeededData('mp-2', 5 * MiB + 1), new SeededData('mp-3', 1234)];
    const id = await create(b, key, { ContentType: 'application/x-mp', Metadata: { md5chksum: 'abc' } });
    const done: CompletedPart[] = [];
    for (let i = 0; i < parts.length; i++) done.push(await part(b, key, id, i + 1, parts[i]));

    const lp = await s3.send(new ListPartsCommand({ Bucket: b, Key: key, UploadId: id }));
    expect((lp.Parts ?? []).map((p) => p.PartNumber)).toEqual([1, 2, 3]);
    expect((lp.Parts ?? []).map((p) => p.Size)).toEqual(parts.map((p) => p.size));
    expect((lp.Parts ?? []).map((p) => p.ETag)).toEqual(parts.map((p) => `"${p.md5()}"`));
    expect(lp.IsTruncated).toBe(false);
    expect(lp.UploadId).toBe(id);

    const lu = await s3.send(new ListMultipartUploadsCommand({ Bucket: b }));
    expect((lu.Uploads ?? []).map((u) => [u.Key, u.UploadId])).toEqual([[key, id]]);
    expect(lu.Uploads?.[0].Initiated).toBeInstanceOf(Date);

    const out = await complete(b, key, id, done);
    const etag = multipartEtag(parts.map((p) => p.md5()));
    expect(out.ETag).toBe(`"${etag}"`);
    expect(out.Key).toBe(key);
    expect(out.Bucket).toBe(b);

    const total = parts.reduce((a, p) => a + p.size, 0);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: key }));
    expect(head.ContentLength).toBe(total);
    expect(head.ETag).toBe(`"${etag}"`);
    expect(head.ContentType).toBe('application/x-mp');
    expect(head.Metadata).toEqual({ md5chksum: 'abc' });

    // The SDK enables checksum mode by default; whatever the server returns must validate.
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: key }));
    const { md5, size } = await md5OfStream(got.Body as Readable);
    expect(size).toBe(total);
    const whole = md5Hex(Buffer.concat(parts.map((p) => p.bytes())));
    expect(md5).toBe(whole);

    // A range that spans the part 1 / part 2 boundary.
    const s = 5 * MiB - 10;
    const e = 5 * MiB + 9;
    const r = await s3.send(new GetObjectCommand({ Bucket: b, Key: key, Range: `bytes=${s}-${e}` }));
    expect(r.ContentRange).toBe(`bytes ${s}-${e}/${total}`);
    expect((await bodyBytes(r)).equals(Buffer.concat([parts[0].bytes(5 * MiB - 10), parts[1].bytes(0, 10)]))).toBe(
      true,
    );
    // A suffix range inside the last part.
    const last = await s3.send(new GetObjectCommand({ Bucket: b, Key: key, Range: 'bytes=-100' }));
    expect((await bodyBytes(last)).equals(parts[2].bytes(1134))).toBe(true);

    const after = await s3.send(new ListMultipartUploadsCommand({ Bucket: b }));
    expect(after.Uploads ?? []).toEqual([]);
    await expectSdkError(s3.send(new ListPartsCommand({ Bucket: b, Key: key, UploadId: id })), 404, 'NoSuchUpload');
  });

  it('HeadObject with PartNumber reports the part size and the parts count', async () => {
    const b = await newBucket('mp-partnum');
    const parts = [new SeededData('pn-1', 5 * MiB), new SeededData('pn-2', 777)];
    const id = await create(b, 'k');
    const done = [await part(b, 'k', id, 1, parts[0]), await part(b, 'k', id, 2, parts[1])];
    await complete(b, 'k', id, done);
    const h2 = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k', PartNumber: 2 }));
    expect(h2.ContentLength).toBe(777);
    expect(h2.PartsCount).toBe(2);
    const g2 = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', PartNumber: 2 }));
    expect((await bodyBytes(g2)).equals(parts[1].bytes())).toBe(true);
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', PartNumber: 3 })), 416);
    await expectSdkError(
      s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', PartNumber: 1, Range: 'bytes=0-9' })),
      400,
    );
  });

  it('UploadPartCopy with CopySourceRange builds an object from slices of another', async () => {
    const b = await newBucket('mp-copy');
    const src = new SeededData('mp-copy-src', 6 * MiB + 100);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: src.stream(), ContentLength: src.size }));
    const id = await create(b, 'dst');
    const r1: [number, number] = [0, 5 * MiB - 1];
    const r2: [number, number] = [5 * MiB, src.size - 1];
    const c1 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: b,
        Key: 'dst',
        UploadId: id,
        PartNumber: 1,
        CopySource: `${b}/src`,
        CopySourceRange: `bytes=${r1[0]}-${r1[1]}`,
      }),
    );
    expect(c1.CopyPartResult?.ETag).toBe(`"${src.md5(r1[0], r1[1] + 1)}"`);
    const c2 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: b,
        Key: 'dst',
        UploadId: id,
        PartNumber: 2,
        CopySource: `${b}/src`,
        CopySourceRange: `bytes=${r2[0]}-${r2[1]}`,
      }),
    );
    expect(c2.CopyPartResult?.ETag).toBe(`"${src.md5(r2[0], r2[1] + 1)}"`);
    const out = await complete(b, 'dst', id, [
      { PartNumber: 1, ETag: c1.CopyPartResult?.ETag },
      { PartNumber: 2, ETag: c2.CopyPartResult?.ETag },
    ]);
    expect(out.ETag).toBe(`"${multipartEtag([src.md5(r1[0], r1[1] + 1), src.md5(r2[0], r2[1] + 1)])}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'dst' }));
    const { md5, size } = await md5OfStream(got.Body as Readable);
    expect(size).toBe(src.size);
    expect(md5).toBe(src.md5());
  });

  it('UploadPartCopy with a range past the source end is 416 InvalidRange', async () => {
    const b = await newBucket('mp-copy416');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: Buffer.alloc(1000, 1) }));
    const id = await create(b, 'dst');
    await expectSdkError(
      s3.send(
        new UploadPartCopyCommand({
          Bucket: b,
          Key: 'dst',
          UploadId: id,
          PartNumber: 1,
          CopySource: `${b}/src`,
          CopySourceRange: 'bytes=0-1000',
        }),
      ),
      416,
      'InvalidRange',
    );
  });

  it('Complete with a wrong part ETag is 400 InvalidPart, and the upload can still be completed correctly', async () => {
    const b = await newBucket('mp-invalidpart');
    const p1 = new SeededData('ip-1', 5 * MiB);
    const p2 = new SeededData('ip-2', 10);
    const id = await create(b, 'k');
    const done = [await part(b, 'k', id, 1, p1), await part(b, 'k', id, 2, p2)];
    await expectSdkError(
      complete(b, 'k', id, [done[0], { PartNumber: 2, ETag: '"00000000000000000000000000000000"' }]),
      400,
      'InvalidPart',
    );
    await expectSdkError(complete(b, 'k', id, [done[0], { PartNumber: 3, ETag: done[1].ETag }]), 400, 'InvalidPart');
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' })), 404);
    const out = await complete(b, 'k', id, done);
    expect(out.ETag).toBe(`"${multipartEtag([p1.md5(), p2.md5()])}"`);
  });

  it('Complete with parts out of order is 400 InvalidPartOrder', async () => {
    const b = await newBucket('mp-order');
    const id = await create(b, 'k');
    const done = [
      await part(b, 'k', id, 1, new SeededData('o-1', 5 * MiB)),
      await part(b, 'k', id, 2, new SeededData('o-2', 5 * MiB)),
    ];
    await expectSdkError(complete(b, 'k', id, [done[1], done[0]]), 400, 'InvalidPartOrder');
    await expectSdkError(complete(b, 'k', id, [done[0], done[0]]), 400, 'InvalidPartOrder');
  });

  it('a non-last part under 5 MiB makes Complete fail with 400 EntityTooSmall', async () => {
    const b = await newBucket('mp-small');
    const id = await create(b, 'k');
    const done = [
      await part(b, 'k', id, 1, new SeededData('s-1', 5 * MiB - 1)),
      await part(b, 'k', id, 2, new SeededData('s-2', 100)),
    ];
    await expectSdkError(complete(b, 'k', id, done), 400, 'EntityTooSmall');
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' })), 404);
    // A single small part is fine: it is the last part.
    const single = await create(b, 'one');
    const p = new SeededData('s-only', 100);
    const out = await complete(b, 'one', single, [await part(b, 'one', single, 1, p)]);
    expect(out.ETag).toBe(`"${multipartEtag([p.md5()])}"`);
  });

  it('Abort removes the upload, its parts and their blobs; later calls answer 404 NoSuchUpload', async () => {
    const b = await newBucket('mp-abort');
    const before = await countBlobs(gw.dataDir);
    const id = await create(b, 'k');
    await part(b, 'k', id, 1, new SeededData('a-1', 100_000));
    await part(b, 'k', id, 2, new SeededData('a-2', 100_000));
    expect(await countBlobs(gw.dataDir)).toBe(before + 2);
    const ab = await s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'k', UploadId: id }));
    expect(ab.$metadata.httpStatusCode).toBe(204);
    await expectBlobCount(gw.dataDir, before, 'blobs after AbortMultipartUpload');
    await expectSdkError(s3.send(new ListPartsCommand({ Bucket: b, Key: 'k', UploadId: id })), 404, 'NoSuchUpload');
    await expectSdkError(
      s3.send(new UploadPartCommand({ Bucket: b, Key: 'k', UploadId: id, PartNumber: 3, Body: Buffer.from('late') })),
      404,
      'NoSuchUpload',
    );
    await expectSdkError(complete(b, 'k', id, [{ PartNumber: 1, ETag: '"x"' }]), 404, 'NoSuchUpload');
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads ?? []).toEqual([]);
    await expectBlobCount(gw.dataDir, before, 'blobs after a part upload to an aborted upload');
  });

  it('re-uploading a part replaces it; parts left out of Complete are removed with their blobs', async () => {
    const b = await newBucket('mp-replace');
    const before = await countBlobs(gw.dataDir);
    const id = await create(b, 'k');
    await part(b, 'k', id, 1, new SeededData('r-1-old', 5 * MiB));
    const p1 = new SeededData('r-1-new', 5 * MiB);
    const d1 = await part(b, 'k', id, 1, p1);
    const p2 = new SeededData('r-2', 50);
    const d2 = await part(b, 'k', id, 2, p2);
    await part(b, 'k', id, 3, new SeededData('r-3-unused', 60));
    await expectBlobCount(gw.dataDir, before + 3, 'blobs after replacing part 1');
    const lp = await s3.send(new ListPartsCommand({ Bucket: b, Key: 'k', UploadId: id }));
    expect(lp.Parts?.[0].ETag).toBe(`"${p1.md5()}"`);
    await complete(b, 'k', id, [d1, d2]);
    await expectBlobCount(gw.dataDir, before + 2, 'blobs after Complete without part 3');
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    const { md5 } = await md5OfStream(got.Body as Readable);
    expect(md5).toBe(md5Hex(Buffer.concat([p1.bytes(), p2.bytes()])));
  });

  it('ListParts pages with MaxParts / PartNumberMarker', async () => {
    const b = await newBucket('mp-listparts');
    const id = await create(b, 'k');
    for (let n = 1; n <= 3; n++) await part(b, 'k', id, n, new SeededData(`lp-${n}`, 1000 + n));
    const p1 = await s3.send(new ListPartsCommand({ Bucket: b, Key: 'k', UploadId: id, MaxParts: 2 }));
    expect((p1.Parts ?? []).map((p) => p.PartNumber)).toEqual([1, 2]);
    expect(p1.IsTruncated).toBe(true);
    expect(String(p1.NextPartNumberMarker)).toBe('2');
    const p2 = await s3.send(
      new ListPartsCommand({
        Bucket: b,
        Key: 'k',
        UploadId: id,
        MaxParts: 2,
        PartNumberMarker: p1.NextPartNumberMarker,
      }),
    );
    expect((p2.Parts ?? []).map((p) => p.PartNumber)).toEqual([3]);
    expect(p2.IsTruncated).toBe(false);
  });

  it('ListMultipartUploads filters by prefix and lists several uploads of one key', async () => {
    const b = await newBucket('mp-listuploads');
    const a1 = await create(b, 'logs/a');
    const a2 = await create(b, 'logs/a');
    const other = await create(b, 'data/b');
    const logs = await s3.send(new ListMultipartUploadsCommand({ Bucket: b, Prefix: 'logs/' }));
    expect((logs.Uploads ?? []).map((u) => u.Key)).toEqual(['logs/a', 'logs/a']);
    expect(new Set((logs.Uploads ?? []).map((u) => u.UploadId))).toEqual(new Set([a1, a2]));
    const all = await s3.send(new ListMultipartUploadsCommand({ Bucket: b }));
    expect((all.Uploads ?? []).map((u) => u.Key)).toEqual(['data/b', 'logs/a', 'logs/a']);
    expect((all.Uploads ?? []).map((u) => u.UploadId)).toContain(other);
  });

  it('UploadPart with a wrong Content-MD5 is 400 BadDigest and leaves no part and no blob', async () => {
    const b = await newBucket('mp-baddigest');
    const id = await create(b, 'k');
    const before = await countBlobs(gw.dataDir);
    const body = Buffer.from('part body');
    await expectSdkError(
      s3.send(
        new UploadPartCommand({
          Bucket: b,
          Key: 'k',
          UploadId: id,
          PartNumber: 1,
          Body: body,
          ContentMD5: md5Base64('other'),
        }),
      ),
      400,
      'BadDigest',
    );
    expect((await s3.send(new ListPartsCommand({ Bucket: b, Key: 'k', UploadId: id }))).Parts ?? []).toEqual([]);
    await expectBlobCount(gw.dataDir, before, 'blobs after a BadDigest part');
  });

  it('UploadPart to an unknown upload id is 404 NoSuchUpload', async () => {
    const b = await newBucket('mp-nosuch');
    await expectSdkError(
      s3.send(
        new UploadPartCommand({
          Bucket: b,
          Key: 'k',
          UploadId: 'no-such-upload',
          PartNumber: 1,
          Body: Buffer.from('x'),
        }),
      ),
      404,
      'NoSuchUpload',
    );
  });

  it('ChecksumAlgorithm CRC32: per-part checksums, a composite "-N" object checksum, and GETs the SDK can validate', async () => {
    const b = await newBucket('mp-cksum');
    const parts = [new SeededData('ck-1', 5 * MiB), new SeededData('ck-2', 4321)];
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'k', ChecksumAlgorithm: 'CRC32' }));
    const done: CompletedPart[] = [];
    for (let i = 0; i < parts.length; i++) {
      const out = await s3.send(
        new UploadPartCommand({
          Bucket: b,
          Key: 'k',
          UploadId: up.UploadId,
          PartNumber: i + 1,
          Body: parts[i].bytes(),
          ChecksumAlgorithm: 'CRC32',
        }),
      );
      expect(out.ChecksumCRC32).toBe(parts[i].crc32());
      done.push({ PartNumber: i + 1, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32 });
    }
    const lp = await s3.send(new ListPartsCommand({ Bucket: b, Key: 'k', UploadId: up.UploadId }));
    expect((lp.Parts ?? []).map((p) => p.ChecksumCRC32)).toEqual(parts.map((p) => p.crc32()));
    const out = await complete(b, 'k', up.UploadId!, done);
    const composite = `${crc32Base64(Buffer.concat(parts.map((p) => Buffer.from(p.crc32(), 'base64'))))}-${parts.length}`;
    expect(out.ChecksumCRC32).toBe(composite);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32).toBe(composite);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', ChecksumMode: 'ENABLED' }));
    const { md5 } = await md5OfStream(got.Body as Readable);
    expect(md5).toBe(md5Hex(Buffer.concat(parts.map((p) => p.bytes()))));
    // A part read must not carry the whole-object checksum.
    const cap = captureHeaders(new GetObjectCommand({ Bucket: b, Key: 'k', PartNumber: 2, ChecksumMode: 'ENABLED' }));
    const p2 = await s3.send(cap.cmd);
    expect((await bodyBytes(p2)).equals(parts[1].bytes())).toBe(true);
    if (cap.headers()['x-amz-checksum-crc32'] !== undefined)
      expect(cap.headers()['x-amz-checksum-crc32']).toBe(parts[1].crc32());
  });

  it('a range spanning three parts reads the right bytes', async () => {
    const b = await newBucket('mp-span');
    const parts = [new SeededData('sp-1', 5 * MiB), new SeededData('sp-2', 5 * MiB), new SeededData('sp-3', 999)];
    const id = await create(b, 'k');
    const done: CompletedPart[] = [];
    for (let i = 0; i < parts.length; i++) done.push(await part(b, 'k', id, i + 1, parts[i]));
    await complete(b, 'k', id, done);
    const s = 5 * MiB - 7;
    const e = 10 * MiB + 5;
    const r = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', Range: `bytes=${s}-${e}` }));
    expect(r.ContentLength).toBe(e - s + 1);
    const { md5 } = await md5OfStream(r.Body as Readable);
    const h = createHash('md5');
    for (const x of parts[0].pieces(5 * MiB - 7)) h.update(x);
    for (const x of parts[1].pieces()) h.update(x);
    for (const x of parts[2].pieces(0, 6)) h.update(x);
    expect(md5).toBe(h.digest('hex'));
  });

  it('UploadPartCopy from a multipart source, with a range that crosses the source part boundary', async () => {
    const b = await newBucket('mp-copy-mp');
    const srcParts = [new SeededData('cmp-1', 5 * MiB), new SeededData('cmp-2', 1 * MiB)];
    const sid = await create(b, 'src');
    await complete(b, 'src', sid, [
      await part(b, 'src', sid, 1, srcParts[0]),
      await part(b, 'src', sid, 2, srcParts[1]),
    ]);
    const all = () => Buffer.concat(srcParts.map((p) => p.bytes()));
    const src = all();
    const id = await create(b, 'dst');
    const r1: [number, number] = [1000, 5 * MiB + 999];
    const r2: [number, number] = [5 * MiB + 1000, src.length - 1];
    const c1 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: b,
        Key: 'dst',
        UploadId: id,
        PartNumber: 1,
        CopySource: `${b}/src`,
        CopySourceRange: `bytes=${r1[0]}-${r1[1]}`,
      }),
    );
    const c2 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: b,
        Key: 'dst',
        UploadId: id,
        PartNumber: 2,
        CopySource: `${b}/src`,
        CopySourceRange: `bytes=${r2[0]}-${r2[1]}`,
      }),
    );
    expect(c1.CopyPartResult?.ETag).toBe(`"${md5Hex(src.subarray(r1[0], r1[1] + 1))}"`);
    await complete(b, 'dst', id, [
      { PartNumber: 1, ETag: c1.CopyPartResult?.ETag },
      { PartNumber: 2, ETag: c2.CopyPartResult?.ETag },
    ]);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'dst' }));
    const bytes = await bodyBytes(got);
    expect(bytes.equals(Buffer.concat([src.subarray(r1[0], r1[1] + 1), src.subarray(r2[0], r2[1] + 1)]))).toBe(true);
  });

  it('completing over an existing object replaces it and removes its blob', async () => {
    const b = await newBucket('mp-overwrite');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.from('single-part original') }));
    const before = await countBlobs(gw.dataDir);
    const id = await create(b, 'k');
    const p = new SeededData('ow-1', 1000);
    await complete(b, 'k', id, [await part(b, 'k', id, 1, p)]);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    expect((await bodyBytes(got)).equals(p.bytes())).toBe(true);
    await expectBlobCount(
      gw.dataDir,
      before,
      'blobs after a multipart object replaced a single-part one (1 part in, 1 blob out)',
    );
  });

  it('DeleteBucket with an upload in progress deletes it (as AWS does): its parts are aborted, no orphan blob, no resurrected upload', async () => {
    const b = await newBucket('mp-delbucket');
    const before = await countBlobs(gw.dataDir);
    const id = await create(b, 'k');
    await part(b, 'k', id, 1, new SeededData('db-1', 10_000));
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
    await expectBlobCount(gw.dataDir, before, 'blobs after deleting a bucket with a pending upload');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads ?? []).toEqual([]);
    // An object still refuses the delete.
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: Buffer.from('x') }));
    await expectSdkError(s3.send(new DeleteBucketCommand({ Bucket: b })), 409, 'BucketNotEmpty');
  });

  it('8 concurrent uploads of the same part number: one wins whole, Complete with its ETag reads it back, no orphan blob', async () => {
    const b = await newBucket('mp-race');
    const before = await countBlobs(gw.dataDir);
    const id = await create(b, 'k');
    const bodies = Array.from({ length: 8 }, (_, i) => new SeededData(`mp-race-${i}`, 150_000 + i * 777));
    await Promise.allSettled(
      bodies.map((d) =>
        s3.send(new UploadPartCommand({ Bucket: b, Key: 'k', UploadId: id, PartNumber: 1, Body: d.bytes() })),
      ),
    );
    const lp = await s3.send(new ListPartsCommand({ Bucket: b, Key: 'k', UploadId: id }));
    expect((lp.Parts ?? []).length).toBe(1);
    const winner = bodies.find((d) => `"${d.md5()}"` === lp.Parts?.[0].ETag);
    expect(winner, 'the listed part ETag is one of the bodies').toBeDefined();
    expect(lp.Parts?.[0].Size).toBe(winner!.size);
    await expectBlobCount(gw.dataDir, before + 1, 'blobs after 8 racing uploads of part 1');
    await complete(b, 'k', id, [{ PartNumber: 1, ETag: lp.Parts?.[0].ETag }]);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    expect(md5Hex(await bodyBytes(got))).toBe(winner!.md5());
    await expectBlobCount(gw.dataDir, before + 1);
  });

  it('Complete racing Abort (5 rounds): if Complete succeeds the object reads back whole; no orphan blobs either way', async () => {
    const b = await newBucket('mp-race2');
    for (let round = 0; round < 5; round++) {
      const key = `k${round}`;
      const before = await countBlobs(gw.dataDir);
      const id = await create(b, key);
      const p = new SeededData(`race2-${round}`, 5000);
      const d = await part(b, key, id, 1, p);
      const [c, a] = await Promise.allSettled([
        complete(b, key, id, [d]),
        s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: key, UploadId: id })),
      ]);
      const outcome = `round ${round}: Complete ${c.status}${c.status === 'rejected' ? ` (${(c.reason as Error).name})` : ''}, Abort ${a.status}${a.status === 'rejected' ? ` (${(a.reason as Error).name})` : ''}`;
      expect(c.status === 'fulfilled' || a.status === 'fulfilled', outcome).toBe(true);
      let present = false;
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: key }));
        expect((await bodyBytes(got)).equals(p.bytes()), outcome).toBe(true);
        present = true;
      } catch (e) {
        expect((e as { name?: string }).name, `GET after ${outcome}`).toBe('NoSuchKey');
      }
      if (c.status === 'fulfilled')
        expect(present, `Complete answered 200 but the object is gone (${outcome})`).toBe(true);
      await expectBlobCount(gw.dataDir, before + (present ? 1 : 0), `blobs after ${outcome}`);
    }
  });

  it('Complete racing a re-upload of the part it names (40 rounds, staggered): a completed object always reads back whole, no orphan blob', async () => {
    const b = await newBucket('mp-race3');
    const outcomes = new Map<string, number>();
    for (let round = 0; round < 40; round++) {
      const key = `k${round}`;
      const before = await countBlobs(gw.dataDir);
      const id = await create(b, key);
      const p1 = new SeededData(`race3-1-${round}`, 3000);
      const p1b = new SeededData(`race3-1b-${round}`, 3000);
      const d1 = await part(b, key, id, 1, p1);
      const upload = s3.send(
        new UploadPartCommand({ Bucket: b, Key: key, UploadId: id, PartNumber: 1, Body: p1b.bytes() }),
      );
      await new Promise((r) => setTimeout(r, round));
      const [c, u] = await Promise.allSettled([complete(b, key, id, [d1]), upload]);
      const outcome = `round ${round}: Complete ${c.status}${c.status === 'rejected' ? ` (${(c.reason as Error).name})` : ''}, UploadPart ${u.status}${u.status === 'rejected' ? ` (${(u.reason as Error).name})` : ''}`;
      const label = outcome.slice(outcome.indexOf(':') + 2);
      outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
      if (c.status === 'fulfilled') {
        const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: key })).catch((e: Error) => e);
        expect(got instanceof Error ? `GET failed: ${got.name}` : 'ok', `Complete answered 200 but ${outcome}`).toBe(
          'ok',
        );
        if (!(got instanceof Error)) expect(md5Hex(await bodyBytes(got)), outcome).toBe(p1.md5());
        await expectBlobCount(gw.dataDir, before + 1, `blobs after ${outcome}`);
      } else {
        expect((c.reason as Error).name, outcome).toBe('InvalidPart');
        await expectBlobCount(gw.dataDir, before + 1, `blobs after ${outcome}`);
        await s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: key, UploadId: id }));
      }
    }
    // Both orders should have been exercised; if not, the race window was simply not hit on this machine.
    expect(outcomes.size).toBeGreaterThanOrEqual(1);
  });

  it('two concurrent Completes of one upload (a client retry): the object reads back whole, one blob per part', async () => {
    const b = await newBucket('mp-double');
    const before = await countBlobs(gw.dataDir);
    const id = await create(b, 'k');
    const p1 = new SeededData('dbl-1', 5 * MiB);
    const p2 = new SeededData('dbl-2', 10);
    const parts = [await part(b, 'k', id, 1, p1), await part(b, 'k', id, 2, p2)];
    const results = await Promise.allSettled([complete(b, 'k', id, parts), complete(b, 'k', id, parts)]);
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as Error).name).toBe('NoSuchUpload');
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    const { md5 } = await md5OfStream(got.Body as Readable);
    expect(md5).toBe(md5Hex(Buffer.concat([p1.bytes(), p2.bytes()])));
    await expectBlobCount(gw.dataDir, before + 2);
  });

  it('a GET in progress on a multipart object completes with the old bytes when the object is overwritten meanwhile', async () => {
    const b = await newBucket('mp-readover');
    // Three parts: with back-pressure the server cannot have reached part 3 (10 MiB in) when the overwrite lands.
    const p1 = new SeededData('ro-1', 5 * MiB);
    const p2 = new SeededData('ro-2', 5 * MiB);
    const p3 = new SeededData('ro-3', 1 * MiB);
    const id = await create(b, 'k');
    await complete(b, 'k', id, [
      await part(b, 'k', id, 1, p1),
      await part(b, 'k', id, 2, p2),
      await part(b, 'k', id, 3, p3),
    ]);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    const it = (got.Body as Readable)[Symbol.asyncIterator]();
    const h = createHash('md5');
    let n = 0;
    while (n < 256 * 1024) {
      const r = (await it.next()) as IteratorResult<Buffer>;
      if (r.done) break;
      h.update(r.value);
      n += r.value.length;
    }
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.from('the new version') }));
    let err: unknown;
    try {
      for (;;) {
        const r = (await it.next()) as IteratorResult<Buffer>;
        if (r.done) break;
        h.update(r.value);
        n += r.value.length;
      }
    } catch (e) {
      err = e;
    }
    const total = p1.size + p2.size + p3.size;
    expect(err === undefined ? 'complete' : `stream failed after ${n} of ${total} bytes: ${String(err)}`).toBe(
      'complete',
    );
    expect(n).toBe(total);
    expect(h.digest('hex')).toBe(md5Hex(Buffer.concat([p1.bytes(), p2.bytes(), p3.bytes()])));
  });

  it('lib-storage Upload of a 12 MiB stream (5 MiB parts, default checksums) round-trips with a "-3" ETag', async () => {
    const b = await newBucket('mp-libstorage');
    const data = new SeededData('lib-storage', 12 * MiB);
    const up = new Upload({
      client: s3,
      params: { Bucket: b, Key: 'via-upload', Body: data.stream() },
      partSize: 5 * MiB,
      queueSize: 2,
    });
    const out = await up.done();
    const expected = multipartEtag([data.md5(0, 5 * MiB), data.md5(5 * MiB, 10 * MiB), data.md5(10 * MiB)]);
    expect(out.ETag).toBe(`"${expected}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'via-upload' }));
    const { md5, size } = await md5OfStream(got.Body as Readable);
    expect(size).toBe(data.size);
    expect(md5).toBe(data.md5());
  });
});
