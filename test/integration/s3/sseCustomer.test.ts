/**
 * SSE-C through @aws-sdk/client-s3 (SSECustomerKey): PUT/GET/HEAD, multipart
 * (every part carries the upload's key), CopyObject and UploadPartCopy with the
 * copy-source key, and AWS's refusals: no key 400 InvalidRequest, another key
 * 403 AccessDenied, a bad MD5 400 InvalidArgument, SSE-C with aws:kms 400.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bodyBytes, createBucket, expectSdkError, useGateway, withHeaders } from '../../helpers/s3Test.js';

let s3: S3Client;
useGateway((t) => ({ s3 } = t));

const MiB = 1024 * 1024;
const md5b64 = (k: Buffer) => createHash('md5').update(k).digest('base64');
const ssec = (key: Buffer) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: key as unknown as string });
const copySsec = (key: Buffer) => ({
  CopySourceSSECustomerAlgorithm: 'AES256',
  CopySourceSSECustomerKey: key as unknown as string,
});

describe('SSE-C', () => {
  it('PUT, GET and HEAD with the key; responses echo the algorithm and the key MD5', async () => {
    const b = await createBucket(s3, 'ssec');
    const key = randomBytes(32);
    const body = randomBytes(100_000);
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: body, ...ssec(key) }));
    expect(put.SSECustomerAlgorithm).toBe('AES256');
    expect(put.SSECustomerKeyMD5).toBe(md5b64(key));
    expect(put.ServerSideEncryption).toBeUndefined();
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'o', ...ssec(key) }));
    expect((await bodyBytes(got)).equals(body)).toBe(true);
    expect(got.SSECustomerKeyMD5).toBe(md5b64(key));
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'o', ...ssec(key) }));
    expect(head.ContentLength).toBe(body.length);
    expect(head.SSECustomerAlgorithm).toBe('AES256');
    const ranged = await s3.send(
      new GetObjectCommand({ Bucket: b, Key: 'o', Range: 'bytes=70000-70009', ...ssec(key) }),
    );
    expect((await bodyBytes(ranged)).equals(body.subarray(70000, 70010))).toBe(true);
    // Listing needs no key (as on AWS).
    const list = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    expect(list.Contents?.map((c) => c.Key)).toEqual(['o']);
  });

  it('GET/HEAD without the key: 400 InvalidRequest; with another key: 403 AccessDenied', async () => {
    const b = await createBucket(s3, 'ssec-refuse');
    const key = randomBytes(32);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'secret', ...ssec(key) }));
    const e = await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'o' })), 400, 'InvalidRequest');
    expect(e.message).toMatch(/stored using a form of Server Side Encryption/);
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'o' })), 400);
    await expectSdkError(
      s3.send(new GetObjectCommand({ Bucket: b, Key: 'o', ...ssec(randomBytes(32)) })),
      403,
      'AccessDenied',
    );
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'o', ...ssec(randomBytes(32)) })), 403);
    // A key for an object stored without one.
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'plain', Body: 'x' }));
    await expectSdkError(
      s3.send(new GetObjectCommand({ Bucket: b, Key: 'plain', ...ssec(key) })),
      400,
      'InvalidRequest',
    );
  });

  it('a key whose MD5 does not match, a short key, a wrong algorithm, SSE-C with aws:kms: 400 InvalidArgument', async () => {
    const b = await createBucket(s3, 'ssec-bad');
    const key = randomBytes(32);
    const raw = (h: Record<string, string>) =>
      s3.send(withHeaders(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'x' }), h));
    const good = {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': key.toString('base64'),
      'x-amz-server-side-encryption-customer-key-md5': md5b64(key),
    };
    await expectSdkError(
      raw({ ...good, 'x-amz-server-side-encryption-customer-key-md5': md5b64(randomBytes(32)) }),
      400,
      'InvalidArgument',
    );
    const short = randomBytes(16);
    await expectSdkError(
      raw({
        ...good,
        'x-amz-server-side-encryption-customer-key': short.toString('base64'),
        'x-amz-server-side-encryption-customer-key-md5': md5b64(short),
      }),
      400,
      'InvalidArgument',
    );
    await expectSdkError(
      raw({ ...good, 'x-amz-server-side-encryption-customer-algorithm': 'AES128' }),
      400,
      'InvalidArgument',
    );
    await expectSdkError(raw({ ...good, 'x-amz-server-side-encryption': 'aws:kms' }), 400, 'InvalidArgument');
    await expectSdkError(
      s3.send(
        new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'x', ServerSideEncryption: 'AES256', SSEKMSKeyId: 'k' }),
      ),
      400,
      'InvalidArgument',
    );
    // SSE headers other than SSE-C on GET/HEAD.
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'p', Body: 'x' }));
    await expectSdkError(
      s3.send(withHeaders(new GetObjectCommand({ Bucket: b, Key: 'p' }), { 'x-amz-server-side-encryption': 'AES256' })),
      400,
      'InvalidArgument',
    );
  });

  it('multipart: parts need the upload key (another key 403), Complete yields an SSE-C object', async () => {
    const b = await createBucket(s3, 'ssec-mp');
    const key = randomBytes(32);
    const p1 = randomBytes(5 * MiB);
    const p2 = randomBytes(1234);
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ...ssec(key) }));
    expect(up.SSECustomerKeyMD5).toBe(md5b64(key));
    const part = (n: number, body: Buffer, k?: Buffer) =>
      s3.send(
        new UploadPartCommand({
          Bucket: b,
          Key: 'mp',
          UploadId: up.UploadId,
          PartNumber: n,
          Body: body,
          ...(k ? ssec(k) : {}),
        }),
      );
    await expectSdkError(part(1, p1), 400, 'InvalidRequest');
    await expectSdkError(part(1, p1, randomBytes(32)), 403, 'AccessDenied');
    const e1 = await part(1, p1, key);
    expect(e1.SSECustomerKeyMD5).toBe(md5b64(key));
    const e2 = await part(2, p2, key);
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
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'mp' })), 400, 'InvalidRequest');
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'mp', ...ssec(key) }));
    expect((await bodyBytes(got)).equals(Buffer.concat([p1, p2]))).toBe(true);
  });

  it('CopyObject needs the copy-source key; the target may be SSE-C under a new key, or not', async () => {
    const b = await createBucket(s3, 'ssec-copy');
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const body = randomBytes(70_000);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: body, ...ssec(k1) }));
    await expectSdkError(
      s3.send(new CopyObjectCommand({ Bucket: b, Key: 'd', CopySource: `${b}/src` })),
      400,
      'InvalidRequest',
    );
    await expectSdkError(
      s3.send(new CopyObjectCommand({ Bucket: b, Key: 'd', CopySource: `${b}/src`, ...copySsec(k2) })),
      403,
      'AccessDenied',
    );
    // SSE-C -> SSE-C under another key.
    const copied = await s3.send(
      new CopyObjectCommand({ Bucket: b, Key: 'd', CopySource: `${b}/src`, ...copySsec(k1), ...ssec(k2) }),
    );
    expect(copied.SSECustomerKeyMD5).toBe(md5b64(k2));
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'd', ...ssec(k1) })), 403, 'AccessDenied');
    expect(
      (await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'd', ...ssec(k2) })))).equals(body),
    ).toBe(true);
    // SSE-C -> bucket default.
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'plain', CopySource: `${b}/src`, ...copySsec(k1) }));
    expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'plain' })))).equals(body)).toBe(true);
    // Bucket default -> SSE-C.
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'back', CopySource: `${b}/plain`, ...ssec(k1) }));
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'back' })), 400, 'InvalidRequest');
    expect(
      (await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'back', ...ssec(k1) })))).equals(body),
    ).toBe(true);
    // Onto itself, re-keyed (AWS's key rotation for SSE-C).
    await s3.send(
      new CopyObjectCommand({ Bucket: b, Key: 'src', CopySource: `${b}/src`, ...copySsec(k1), ...ssec(k2) }),
    );
    expect(
      (await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'src', ...ssec(k2) })))).equals(body),
    ).toBe(true);
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'src', ...ssec(k1) })), 403);
  });

  it('UploadPartCopy: copy-source key for an SSE-C source, the upload key for the part', async () => {
    const b = await createBucket(s3, 'ssec-upc');
    const src = randomBytes(32);
    const dst = randomBytes(32);
    const body = randomBytes(6 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: body, ...ssec(src) }));
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ...ssec(dst) }));
    const copy = (extra: object) =>
      s3.send(
        new UploadPartCopyCommand({
          Bucket: b,
          Key: 'mp',
          UploadId: up.UploadId,
          PartNumber: 1,
          CopySource: `${b}/src`,
          ...extra,
        }),
      );
    await expectSdkError(copy(ssec(dst)), 400, 'InvalidRequest');
    await expectSdkError(copy(copySsec(src)), 400, 'InvalidRequest');
    const r = await copy({ ...copySsec(src), ...ssec(dst) });
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'mp',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r.CopyPartResult!.ETag }] },
      }),
    );
    expect(
      (await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'mp', ...ssec(dst) })))).equals(body),
    ).toBe(true);
  });
});
