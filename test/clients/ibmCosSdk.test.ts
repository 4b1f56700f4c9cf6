/**
 * IBM's COS SDK for Node (ibm-cos-sdk, a fork of aws-sdk v2 with the Key
 * Protect bucket parameters) against a real Coffer, with HMAC credentials and
 * path-style addressing: create a bucket under a customer root key, read the
 * key back from HeadBucket, and move objects in and out of it, including the
 * SDK's managed multipart upload.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import IBM from 'ibm-cos-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededData } from '../helpers/seeded.js';
import { startTestGateway, type TestGateway } from '../helpers/startGateway.js';
import { AWKWARD_NAMES } from './helpers/trees.js';

const MiB = 1024 * 1024;

describe('IBM COS SDK (ibm-cos-sdk)', () => {
  let gw: TestGateway;
  let cos: IBM.S3;
  let crn: string;
  const bucket = 'ibm-kp-bucket';

  beforeAll(async () => {
    gw = await startTestGateway();
    crn = await gw.createRootKey('ibm-cos-sdk-key');
    cos = new IBM.S3({
      endpoint: gw.s3Url,
      accessKeyId: gw.accessKeyId,
      secretAccessKey: gw.secretAccessKey,
      s3ForcePathStyle: true,
      maxRetries: 0,
    });
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('createBucket with IBMSSEKPEncryptionAlgorithm AES256 and a root key CRN; headBucket reports IBMSSEKPEnabled and the CRN', async () => {
    await cos
      .createBucket({ Bucket: bucket, IBMSSEKPEncryptionAlgorithm: 'AES256', IBMSSEKPCustomerRootKeyCrn: crn })
      .promise();
    const head = await cos.headBucket({ Bucket: bucket }).promise();
    expect(head.IBMSSEKPEnabled).toBe(true);
    expect(head.IBMSSEKPCustomerRootKeyCrn).toBe(crn);
    const list = await cos.listObjects({ Bucket: bucket }).promise();
    expect(list.IBMSSEKPEnabled).toBe(true);
    expect(list.IBMSSEKPCustomerRootKeyCrn).toBe(crn);
  });

  it('a bucket created without the Key Protect parameters reports no customer key', async () => {
    await cos.createBucket({ Bucket: 'ibm-plain-bucket' }).promise();
    const head = await cos.headBucket({ Bucket: 'ibm-plain-bucket' }).promise();
    expect(head.IBMSSEKPEnabled).toBeUndefined();
    expect(head.IBMSSEKPCustomerRootKeyCrn).toBeUndefined();
  });

  it('createBucket with a CRN that names no key fails with 400 InvalidArgument and creates nothing', async () => {
    const bogus = crn.replace(/key:[0-9a-f-]+$/, 'key:00000000-0000-4000-8000-000000000000');
    const err = await cos
      .createBucket({
        Bucket: 'ibm-bogus-key',
        IBMSSEKPEncryptionAlgorithm: 'AES256',
        IBMSSEKPCustomerRootKeyCrn: bogus,
      })
      .promise()
      .catch((e: unknown) => e);
    expect((err as { statusCode?: number }).statusCode).toBe(400);
    expect((err as { code?: string }).code).toBe('InvalidArgument');
    const e2 = await cos
      .headBucket({ Bucket: 'ibm-bogus-key' })
      .promise()
      .catch((e: unknown) => e);
    expect((e2 as { statusCode?: number }).statusCode).toBe(404);
  });

  it('putObject / getObject on the Key Protect bucket: same bytes, MD5 ETag, SSE aws:kms with the key', async () => {
    const key = `docs/${AWKWARD_NAMES.join(' ')}`;
    const body = Buffer.from('IBM COS SDK object under a customer root key\n'.repeat(64));
    const put = await cos
      .putObject({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/plain', Metadata: { origin: 'ibm-sdk' } })
      .promise();
    expect(put.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
    expect(put.ServerSideEncryption).toBe('aws:kms');
    expect(put.SSEKMSKeyId).toBe(crn);
    const got = await cos.getObject({ Bucket: bucket, Key: key }).promise();
    expect(Buffer.isBuffer(got.Body) && got.Body.equals(body)).toBe(true);
    expect(got.ContentType).toBe('text/plain');
    expect(got.Metadata).toEqual({ origin: 'ibm-sdk' });
    expect(got.ServerSideEncryption).toBe('aws:kms');
    expect(got.SSEKMSKeyId).toBe(crn);
  });

  it('upload (managed multipart, 5 MiB parts) of an unknown-length stream; getObject returns it byte for byte', async () => {
    const data = new SeededData('ibm-upload', 17 * MiB);
    const res = await cos
      .upload(
        { Bucket: bucket, Key: 'big/managed.bin', Body: Readable.from(data.pieces(), { objectMode: false }) },
        { partSize: 5 * MiB, queueSize: 2 },
      )
      .promise();
    expect(res.Key).toBe('big/managed.bin');
    // The SDK hands CompleteMultipartUpload's Location to the caller as the object's URL.
    expect(res.Location).toBe(`${gw.s3Url}/${bucket}/big/managed.bin`);
    const head = await cos.headObject({ Bucket: bucket, Key: 'big/managed.bin' }).promise();
    expect(head.ContentLength).toBe(17 * MiB);
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-4"$/);
    expect(head.SSEKMSKeyId).toBe(crn);
    const h = createHash('md5');
    let n = 0;
    for await (const c of cos.getObject({ Bucket: bucket, Key: 'big/managed.bin' }).createReadStream()) {
      h.update(c as Buffer);
      n += (c as Buffer).length;
    }
    expect(n).toBe(17 * MiB);
    expect(h.digest('hex')).toBe(data.md5());
  });
});
