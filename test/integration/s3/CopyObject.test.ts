/**
 * CopyObject: COPY and REPLACE metadata directives, copy onto itself (REPLACE
 * allowed, COPY 400 InvalidRequest), across buckets (including a Key Protect
 * bucket), URL-encoded sources, copy-source conditions, blob accounting.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { encodeKey } from '../../helpers/rawS3.js';
import { md5Hex, SeededData } from '../../helpers/seeded.js';
import {
  bodyBytes,
  bucketName,
  countBlobs,
  createBucket,
  expectBlobCount,
  expectSdkError,
  useGateway,
  withHeaders,
} from '../../helpers/s3Test.js';
import type { TestGateway } from '../../helpers/startGateway.js';

let gw: TestGateway;
let s3: S3Client;
useGateway((t) => ({ gw, s3 } = t));

const newBucket = (prefix: string) => createBucket(s3, prefix);

const SRC_META = { origin: 'source', mtime: '1700000000.5' };

async function source(b: string, key = 'src', size = 200_000): Promise<Buffer> {
  const bytes = new SeededData(`copy-${b}-${key}`, size).bytes();
  await s3.send(
    new PutObjectCommand({
      Bucket: b,
      Key: key,
      Body: bytes,
      ContentType: 'image/png',
      ContentDisposition: 'inline',
      CacheControl: 'max-age=60',
      ContentEncoding: 'gzip',
      Metadata: SRC_META,
    }),
  );
  return bytes;
}

describe('CopyObject', () => {
  it('COPY (the default) copies bytes, ETag, Content-Type and user metadata to a new key', async () => {
    const b = await newBucket('cp-copy');
    const bytes = await source(b);
    const before = await countBlobs(gw.dataDir);
    const out = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'dst', CopySource: `${b}/src` }));
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.CopyObjectResult?.ETag).toBe(`"${md5Hex(bytes)}"`);
    expect(out.CopyObjectResult?.LastModified).toBeInstanceOf(Date);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'dst' }));
    expect((await bodyBytes(got)).equals(bytes)).toBe(true);
    expect(got.ETag).toBe(`"${md5Hex(bytes)}"`);
    expect(got.ContentType).toBe('image/png');
    expect(got.ContentDisposition).toBe('inline');
    expect(got.CacheControl).toBe('max-age=60');
    expect(got.ContentEncoding).toBe('gzip');
    expect(got.Metadata).toEqual(SRC_META);
    await expectBlobCount(gw.dataDir, before + 1, 'blobs after one copy');
    // The source is untouched.
    const src = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'src' }));
    expect((await bodyBytes(src)).equals(bytes)).toBe(true);
  });

  it('a copy keeps the flexible checksum of its source (recomputed over the copied bytes)', async () => {
    const b = await newBucket('cp-sum');
    const body = Buffer.from('checksummed copy source');
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: body, ChecksumAlgorithm: 'SHA256' }));
    expect(put.ChecksumSHA256).toBeDefined();
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'dst', CopySource: `${b}/src` }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'dst', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumSHA256).toBe(put.ChecksumSHA256);
  });

  it('REPLACE takes metadata and headers from the request, not the source', async () => {
    const b = await newBucket('cp-replace');
    const bytes = await source(b);
    await s3.send(
      new CopyObjectCommand({
        Bucket: b,
        Key: 'dst',
        CopySource: `${b}/src`,
        MetadataDirective: 'REPLACE',
        ContentType: 'text/plain',
        Metadata: { fresh: 'yes' },
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'dst' }));
    expect(head.ContentType).toBe('text/plain');
    expect(head.Metadata).toEqual({ fresh: 'yes' });
    expect(head.ContentDisposition).toBeUndefined();
    expect(head.ContentLength).toBe(bytes.length);
    expect(head.ETag).toBe(`"${md5Hex(bytes)}"`);
  });

  it('copy onto itself with REPLACE changes the metadata (rclone SetModTime) and keeps the bytes', async () => {
    const b = await newBucket('cp-self');
    const bytes = await source(b);
    const h0 = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'src' }));
    const before = await countBlobs(gw.dataDir);
    await new Promise((r) => setTimeout(r, 1100));
    const out = await s3.send(
      new CopyObjectCommand({
        Bucket: b,
        Key: 'src',
        CopySource: `${b}/src`,
        MetadataDirective: 'REPLACE',
        ContentType: 'image/png',
        Metadata: { mtime: '1800000000.25' },
      }),
    );
    expect(out.CopyObjectResult?.ETag).toBe(`"${md5Hex(bytes)}"`);
    const h1 = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'src' }));
    expect(h1.Metadata).toEqual({ mtime: '1800000000.25' });
    expect(h1.ETag).toBe(h0.ETag);
    expect(h1.LastModified!.getTime()).toBeGreaterThan(h0.LastModified!.getTime());
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'src' }));
    expect((await bodyBytes(got)).equals(bytes)).toBe(true);
    await expectBlobCount(gw.dataDir, before, 'blobs after a self-copy (no new blob, none lost)');
  });

  it('copy onto itself with COPY (nothing changes) is 400 InvalidRequest', async () => {
    const b = await newBucket('cp-selfcopy');
    const bytes = await source(b);
    await expectSdkError(
      s3.send(new CopyObjectCommand({ Bucket: b, Key: 'src', CopySource: `${b}/src` })),
      400,
      'InvalidRequest',
    );
    await expectSdkError(
      s3.send(new CopyObjectCommand({ Bucket: b, Key: 'src', CopySource: `${b}/src`, MetadataDirective: 'COPY' })),
      400,
      'InvalidRequest',
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'src' }));
    expect((await bodyBytes(got)).equals(bytes)).toBe(true);
    expect(got.Metadata).toEqual(SRC_META);
  });

  it('copies across buckets, into a Key Protect bucket, and overwrites an existing target', async () => {
    const a = await newBucket('cp-from');
    const crn = await gw.createRootKey('copy-target');
    const kp = bucketName('cp-kp');
    await s3.send(
      withHeaders(new CreateBucketCommand({ Bucket: kp }), {
        'ibm-sse-kp-encryption-algorithm': 'AES256',
        'ibm-sse-kp-customer-root-key-crn': crn,
      }),
    );
    const bytes = await source(a);
    await s3.send(new PutObjectCommand({ Bucket: kp, Key: 'dst', Body: Buffer.from('old target') }));
    const before = await countBlobs(gw.dataDir);
    await s3.send(new CopyObjectCommand({ Bucket: kp, Key: 'dst', CopySource: `${a}/src` }));
    const got = await s3.send(new GetObjectCommand({ Bucket: kp, Key: 'dst' }));
    expect((await bodyBytes(got)).equals(bytes)).toBe(true);
    expect(got.Metadata).toEqual(SRC_META);
    await expectBlobCount(gw.dataDir, before, 'blobs after a copy that replaced an object');
  });

  it('accepts a URL-encoded copy source with spaces, plus signs and unicode', async () => {
    const b = await newBucket('cp-enc');
    const key = 'dir/a b+c ü.txt';
    const bytes = await source(b, key, 5000);
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'plain', CopySource: `${b}/${encodeKey(key)}` }));
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'plain' }));
    expect((await bodyBytes(got)).equals(bytes)).toBe(true);
    // And with a leading slash.
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'plain2', CopySource: `/${b}/${encodeKey(key)}` }));
    const got2 = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'plain2' }));
    expect((await bodyBytes(got2)).equals(bytes)).toBe(true);
  });

  it('copying a multipart object copies its bytes; a 32-hex ETag on the copy is the MD5 of the content', async () => {
    const b = await newBucket('cp-mp');
    const p1 = new SeededData('cp-mp-1', 5 * 1024 * 1024);
    const p2 = new SeededData('cp-mp-2', 1000);
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp' }));
    const e1 = await s3.send(
      new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: p1.bytes() }),
    );
    const e2 = await s3.send(
      new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: up.UploadId, PartNumber: 2, Body: p2.bytes() }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'mp',
        UploadId: up.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: e1.ETag },
            { PartNumber: 2, ETag: e2.ETag },
          ],
        },
      }),
    );
    const out = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/mp` }));
    const all = Buffer.concat([p1.bytes(), p2.bytes()]);
    const etag = out.CopyObjectResult?.ETag ?? '';
    if (/^"[0-9a-f]{32}"$/.test(etag)) expect(etag).toBe(`"${md5Hex(all)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'copy' }));
    expect(got.ContentLength).toBe(all.length);
    expect((await bodyBytes(got)).equals(all)).toBe(true);
  });

  it('a missing source is 404 NoSuchKey; a missing source bucket 404 NoSuchBucket', async () => {
    const b = await newBucket('cp-missing');
    await expectSdkError(
      s3.send(new CopyObjectCommand({ Bucket: b, Key: 'dst', CopySource: `${b}/nope` })),
      404,
      'NoSuchKey',
    );
    await expectSdkError(
      s3.send(new CopyObjectCommand({ Bucket: b, Key: 'dst', CopySource: `${bucketName('nob')}/x` })),
      404,
      'NoSuchBucket',
    );
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'dst' })), 404);
  });

  it('x-amz-copy-source-if-match / -if-none-match failures are 412 PreconditionFailed', async () => {
    const b = await newBucket('cp-cond');
    const bytes = await source(b);
    const etag = `"${md5Hex(bytes)}"`;
    await expectSdkError(
      s3.send(
        new CopyObjectCommand({
          Bucket: b,
          Key: 'd1',
          CopySource: `${b}/src`,
          CopySourceIfMatch: '"ffffffffffffffffffffffffffffffff"',
        }),
      ),
      412,
      'PreconditionFailed',
    );
    await expectSdkError(
      s3.send(new CopyObjectCommand({ Bucket: b, Key: 'd2', CopySource: `${b}/src`, CopySourceIfNoneMatch: etag })),
      412,
      'PreconditionFailed',
    );
    const ok = await s3.send(
      new CopyObjectCommand({ Bucket: b, Key: 'd3', CopySource: `${b}/src`, CopySourceIfMatch: etag }),
    );
    expect(ok.CopyObjectResult?.ETag).toBe(etag);
  });
});
