/**
 * SSE-KMS per object through @aws-sdk/client-s3 (ServerSideEncryption aws:kms +
 * SSEKMSKeyId): the object gets its own DEK under the named root key (CRN or
 * key id), reported by PUT/HEAD/GET/Complete/Copy; the encryption context is
 * bound and echoed; an unknown key or another tenant's is 400
 * KMS.NotFoundException; the bucket is registered on the key (until
 * DeleteBucket); a disabled per-object key refuses GET while the bucket's key
 * still serves the bucket's other objects; a deleted one loses the object.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeyCrn } from '../../../src/keys/crn.js';
import { bodyBytes, bucketName, createBucket, expectSdkError, withHeaders } from '../../helpers/s3Test.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';
import { call, tokenFor } from '../kms/kmsHttp.js';
import { createKpBucket, Kp } from '../kms/lifecycleKit.js';

let gw: TestGateway;
let s3: S3Client;
let kp: Kp;

beforeAll(async () => {
  gw = await startTestGateway();
  s3 = gw.client();
  kp = new Kp(gw.kmsUrl, gw.rootApiKey, await gw.gateway.kms.ensureTenant(gw.accountId));
});
afterAll(async () => {
  await gw?.close();
});

const kms = (keyId: string) => ({ ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: keyId });
const keyIdOf = (crn: string) => parseKeyCrn(crn).keyId;

describe('SSE-KMS per object', () => {
  it('PUT under another root key (by CRN): PUT, HEAD and GET report it; the bucket is registered on it', async () => {
    const b = await createBucket(s3, 'kms-obj');
    const crn = await gw.createRootKey('obj-key');
    const body = randomBytes(150_000);
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: body, ...kms(crn) }));
    expect(put.ServerSideEncryption).toBe('aws:kms');
    expect(put.SSEKMSKeyId).toBe(crn);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'o' }));
    expect(head.SSEKMSKeyId).toBe(crn);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'o' }));
    expect(got.SSEKMSKeyId).toBe(crn);
    expect((await bodyBytes(got)).equals(body)).toBe(true);
    // A second object under the same key: still one registration.
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'o2', Body: 'x', ...kms(crn) }));
    const regs = await kp.registrations(keyIdOf(crn));
    expect(regs.filter((r) => r.resourceCrn.endsWith(`:bucket:${b}`))).toHaveLength(1);
    // Kept while the bucket exists, removed with it.
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'o' }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'o2' }));
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
    expect((await kp.registrations(keyIdOf(crn))).filter((r) => r.resourceCrn.endsWith(`:bucket:${b}`))).toHaveLength(
      0,
    );
  });

  it("a bare key id resolves in the instance of the bucket's root key", async () => {
    const bucketKey = await gw.createRootKey('bucket-key');
    const other = await gw.createRootKey('other-key');
    const b = bucketName('kms-id');
    await s3.send(
      withHeaders(new CreateBucketCommand({ Bucket: b }), {
        'ibm-sse-kp-encryption-algorithm': 'AES256',
        'ibm-sse-kp-customer-root-key-crn': bucketKey,
      }),
    );
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'by id', ...kms(keyIdOf(other)) }));
    expect(put.SSEKMSKeyId).toBe(other);
    const plain = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'p', Body: 'bucket key' }));
    expect(plain.SSEKMSKeyId).toBe(bucketKey);
    expect((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'o' }))).SSEKMSKeyId).toBe(other);
  });

  it("alias/<name> names the key with that Key Protect alias in the bucket key's instance", async () => {
    const bucketKey = await kp.createRootKey('alias-bucket-key');
    const target = await kp.createRootKey('alias-target');
    const alias = `photos-${randomUUID().slice(0, 8)}`;
    expect((await kp.req('POST', `/keys/${target.id}/aliases/${alias}`)).status).toBe(201);
    const b = bucketName('kms-alias');
    await createKpBucket(s3, b, bucketKey.crn);
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'aliased', ...kms(`alias/${alias}`) }));
    // Reported (and stored) as the key's CRN: a later alias move does not re-key the object.
    expect(put.SSEKMSKeyId).toBe(target.crn);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'o' }));
    expect(got.SSEKMSKeyId).toBe(target.crn);
    expect((await bodyBytes(got)).toString()).toBe('aliased');
    expect((await kp.registrations(target.id)).some((r) => r.resourceCrn.endsWith(`:bucket:${b}`))).toBe(true);
    // A key id dressed as an alias, an alias of nothing, and a malformed alias are all unknown keys.
    for (const bad of [`alias/${target.id}`, 'alias/none-such', 'alias/x', 'alias/a b']) {
      await expectSdkError(
        s3.send(new PutObjectCommand({ Bucket: b, Key: 'bad', Body: 'x', ...kms(bad) })),
        400,
        'KMS.NotFoundException',
      );
    }
  });

  it('the encryption context is echoed, and a malformed one is 400 InvalidArgument', async () => {
    const b = await createBucket(s3, 'kms-ctx');
    const crn = await gw.createRootKey('ctx-key');
    const context = Buffer.from(JSON.stringify({ dept: 'finance' })).toString('base64');
    const put = await s3.send(
      new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'ctx', ...kms(crn), SSEKMSEncryptionContext: context }),
    );
    expect(put.SSEKMSEncryptionContext).toBe(context);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'o' }));
    expect((await bodyBytes(got)).toString()).toBe('ctx');
    // (HeadObjectOutput has no context field; the header is checked on PUT, the GET above proves the binding opened.)
    for (const bad of [
      'not base64!',
      Buffer.from('[1,2]').toString('base64'),
      Buffer.from('{"a":1}').toString('base64'),
    ])
      await expectSdkError(
        s3.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x', ...kms(crn), SSEKMSEncryptionContext: bad })),
        400,
        'InvalidArgument',
      );
    // bucket-key-enabled is echoed.
    const bk = await s3.send(
      new PutObjectCommand({ Bucket: b, Key: 'bk', Body: 'x', ...kms(crn), BucketKeyEnabled: true }),
    );
    expect(bk.BucketKeyEnabled).toBe(true);
  });

  it("an unknown key, an unknown alias and another tenant's key are 400 KMS.NotFoundException", async () => {
    const b = await createBucket(s3, 'kms-unknown');
    const crn = await gw.createRootKey('mine');
    const unknown = crn.replace(keyIdOf(crn), randomUUID());
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'x', ...kms(unknown) })),
      400,
      'KMS.NotFoundException',
    );
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'x', ...kms('alias/nope') })),
      400,
      'KMS.NotFoundException',
    );
    // Tenant B knows our key's CRN but holds no authorization on it.
    const rootToken = await tokenFor(gw.kmsUrl, gw.rootApiKey);
    const created = await call<{ s3: { accessKeyId: string; secretAccessKey: string } }>(
      gw.kmsUrl,
      rootToken,
      'POST',
      '/iam/v1/accounts',
      { body: { name: 'tenant-b' } },
    );
    expect(created.status).toBe(201);
    const s3B = gw.client({ credentials: created.json.s3 });
    const bB = await createBucket(s3B, 'kms-b');
    await expectSdkError(
      s3B.send(new PutObjectCommand({ Bucket: bB, Key: 'o', Body: 'x', ...kms(crn) })),
      400,
      'KMS.NotFoundException',
    );
  });

  it('multipart: Create names the key, parts use it, Complete reports it', async () => {
    const b = await createBucket(s3, 'kms-mp');
    const crn = await gw.createRootKey('mp-key');
    const p1 = randomBytes(5 * 1024 * 1024);
    const p2 = randomBytes(999);
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ...kms(crn) }));
    expect(up.SSEKMSKeyId).toBe(crn);
    const parts = [];
    for (const [i, body] of [p1, p2].entries()) {
      const r = await s3.send(
        new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: up.UploadId, PartNumber: i + 1, Body: body }),
      );
      expect(r.SSEKMSKeyId).toBe(crn);
      parts.push({ PartNumber: i + 1, ETag: r.ETag });
    }
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'mp',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    expect(done.SSEKMSKeyId).toBe(crn);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'mp' }));
    expect(got.SSEKMSKeyId).toBe(crn);
    expect((await bodyBytes(got)).equals(Buffer.concat([p1, p2]))).toBe(true);
  });

  it("a disabled per-object key refuses GET and HEAD, the bucket's key still serves the rest; deleted: gone", async () => {
    const b = await createBucket(s3, 'kms-life');
    const crn = await gw.createRootKey('life-key');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'kms', Body: 'per-object', ...kms(crn) }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'plain', Body: 'bucket key' }));
    const { instanceId, keyId } = parseKeyCrn(crn);
    const service = gw.gateway.kms.local.service;
    await service.disable(instanceId, keyId);
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'kms' })), 403, 'KMS.DisabledException');
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'kms' })), 403);
    // Writing under it is refused too.
    await expectSdkError(s3.send(new PutObjectCommand({ Bucket: b, Key: 'k2', Body: 'x', ...kms(crn) })), 403);
    expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'plain' })))).toString()).toBe(
      'bucket key',
    );
    // (enable within 30 s of a disable is REQ_TOO_EARLY_ERR in Key Protect; delete instead.)
    await service.deleteKey(instanceId, keyId, { force: true });
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'kms' })), 403);
    expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'plain' })))).toString()).toBe(
      'bucket key',
    );
  });
});
