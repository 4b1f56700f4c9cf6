/**
 * GetObjectAttributes (GET /b/k?attributes): ETag (unquoted), Checksum with its
 * type, ObjectParts paged by x-amz-max-parts / x-amz-part-number-marker,
 * StorageClass, ObjectSize; only what x-amz-object-attributes asks for;
 * preconditions as GET; errors as S3 answers them.
 */
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { objectPath, signedRequest, type RawEndpoint } from '../../helpers/rawS3.js';
import { crc32Base64, md5Hex } from '../../helpers/seeded.js';
import { createBucket, expectSdkError, expectXmlError, useGateway } from '../../helpers/s3Test.js';

let s3: S3Client;
let ep: RawEndpoint;
useGateway((t) => ({ s3, ep } = t));

const ALL = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;

describe('GetObjectAttributes', () => {
  it('a single PUT: ETag without quotes, its CRC32 as FULL_OBJECT, size and storage class; no ObjectParts', async () => {
    const b = await createBucket(s3, 'goa-single');
    const body = Buffer.from('attributes of a small object');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: body, ChecksumAlgorithm: 'CRC32' }));
    const out = await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'k', ObjectAttributes: [...ALL] }));
    expect(out.ETag).toBe(md5Hex(body));
    expect(out.ObjectSize).toBe(body.length);
    expect(out.StorageClass).toBe('STANDARD');
    expect(out.Checksum?.ChecksumCRC32).toBe(crc32Base64(body));
    expect(out.Checksum?.ChecksumType).toBe('FULL_OBJECT');
    expect(out.ObjectParts).toBeUndefined();
    expect(out.LastModified).toBeInstanceOf(Date);
  });

  it('only the attributes asked for are in the answer', async () => {
    const b = await createBucket(s3, 'goa-some');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    const out = await s3.send(
      new GetObjectAttributesCommand({ Bucket: b, Key: 'k', ObjectAttributes: ['ObjectSize'] }),
    );
    expect(out.ObjectSize).toBe(1);
    expect(out.ETag).toBeUndefined();
    expect(out.StorageClass).toBeUndefined();
  });

  it('a multipart object: its parts with sizes and checksums, paged by MaxParts and PartNumberMarker', async () => {
    const b = await createBucket(s3, 'goa-mpu');
    const data = [randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024), randomBytes(1000)];
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'k', ChecksumAlgorithm: 'CRC32' }));
    const parts = [];
    for (let i = 0; i < data.length; i++) {
      const p = await s3.send(
        new UploadPartCommand({
          Bucket: b,
          Key: 'k',
          UploadId: up.UploadId,
          PartNumber: i + 1,
          Body: data[i],
          ChecksumAlgorithm: 'CRC32',
        }),
      );
      parts.push({ PartNumber: i + 1, ETag: p.ETag, ChecksumCRC32: p.ChecksumCRC32 });
    }
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'k',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    const page1 = await s3.send(
      new GetObjectAttributesCommand({ Bucket: b, Key: 'k', ObjectAttributes: [...ALL], MaxParts: 2 }),
    );
    expect(`"${page1.ETag}"`).toBe(done.ETag);
    expect(page1.Checksum?.ChecksumCRC32).toBe(done.ChecksumCRC32);
    expect(page1.Checksum?.ChecksumType).toBe('COMPOSITE');
    expect(page1.ObjectSize).toBe(data.reduce((a, d) => a + d.length, 0));
    expect(page1.ObjectParts?.TotalPartsCount).toBe(3);
    expect(page1.ObjectParts?.IsTruncated).toBe(true);
    expect(page1.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumCRC32])).toEqual([
      [1, data[0].length, crc32Base64(data[0])],
      [2, data[1].length, crc32Base64(data[1])],
    ]);
    const page2 = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: b,
        Key: 'k',
        ObjectAttributes: ['ObjectParts'],
        MaxParts: 2,
        PartNumberMarker: page1.ObjectParts?.NextPartNumberMarker,
      }),
    );
    expect(page2.ObjectParts?.IsTruncated).toBe(false);
    expect(page2.ObjectParts?.Parts?.map((p) => p.PartNumber)).toEqual([3]);
  });

  it('a missing key is 404 NoSuchKey; If-Match that fails is 412; If-None-Match that holds is 304 with the ETag', async () => {
    const b = await createBucket(s3, 'goa-err');
    await expectSdkError(
      s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: 'nope', ObjectAttributes: ['ETag'] })),
      404,
      'NoSuchKey',
    );
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    const path = objectPath(b, 'k', 'attributes');
    expectXmlError(
      await signedRequest(ep, {
        method: 'GET',
        path,
        headers: { 'x-amz-object-attributes': 'ETag', 'If-Match': '"ffffffffffffffffffffffffffffffff"' },
      }),
      412,
      'PreconditionFailed',
    );
    const nm = await signedRequest(ep, {
      method: 'GET',
      path,
      headers: { 'x-amz-object-attributes': 'ETag', 'If-None-Match': `"${md5Hex('x')}"` },
    });
    expect(nm.status).toBe(304);
    expect(nm.headers.etag).toBe(`"${md5Hex('x')}"`);
  });

  it('a missing or unknown attribute name is 400 InvalidArgument', async () => {
    const b = await createBucket(s3, 'goa-bad');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    const path = objectPath(b, 'k', 'attributes');
    expectXmlError(await signedRequest(ep, { method: 'GET', path }), 400, 'InvalidArgument');
    expectXmlError(
      await signedRequest(ep, { method: 'GET', path, headers: { 'x-amz-object-attributes': 'ETag,Colour' } }),
      400,
      'InvalidArgument',
    );
  });
});
