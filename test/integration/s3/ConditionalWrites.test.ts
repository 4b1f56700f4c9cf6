/**
 * Conditional writes: If-None-Match: * and If-Match on PutObject and
 * CompleteMultipartUpload, If-Match on DeleteObject. Failing conditions are
 * 412 PreconditionFailed (404 NoSuchKey for If-Match on a missing key) and
 * store nothing; a writer that loses a race at the commit point gets 409
 * ConditionalRequestConflict; values S3 does not take are 501.
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { objectPath, signedRequest, type RawEndpoint } from '../../helpers/rawS3.js';
import { md5Hex } from '../../helpers/seeded.js';
import {
  bodyBytes,
  countBlobs,
  createBucket,
  expectAbsent,
  expectBlobCount,
  expectSdkError,
  expectXmlError,
  useGateway,
} from '../../helpers/s3Test.js';
import type { TestGateway } from '../../helpers/startGateway.js';

let gw: TestGateway;
let s3: S3Client;
let ep: RawEndpoint;
useGateway((t) => ({ gw, s3, ep } = t));

const text = async (b: string, k: string) =>
  (await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: k })))).toString();

/** A one-part upload of `body`, ready to complete. */
async function onePartUpload(b: string, k: string, body: string) {
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: k }));
  const p = await s3.send(
    new UploadPartCommand({ Bucket: b, Key: k, UploadId: up.UploadId, PartNumber: 1, Body: Buffer.from(body) }),
  );
  return { uploadId: up.UploadId!, parts: [{ PartNumber: 1, ETag: p.ETag! }] };
}

describe('PutObject', () => {
  it('If-None-Match: * creates an absent key and is 412 PreconditionFailed when it exists, keeping the first object and no blob', async () => {
    const b = await createBucket(s3, 'cw-inm');
    const first = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'first', IfNoneMatch: '*' }));
    expect(first.ETag).toBe(`"${md5Hex('first')}"`);
    const before = await countBlobs(gw.dataDir);
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'second', IfNoneMatch: '*' })),
      412,
      'PreconditionFailed',
    );
    expect(await text(b, 'k')).toBe('first');
    await expectBlobCount(gw.dataDir, before);
  });

  it('If-Match with the current ETag replaces; a stale ETag is 412; a missing key is 404 NoSuchKey', async () => {
    const b = await createBucket(s3, 'cw-im');
    const v1 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v1' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v2', IfMatch: v1.ETag }));
    expect(await text(b, 'k')).toBe('v2');
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v3', IfMatch: v1.ETag })),
      412,
      'PreconditionFailed',
    );
    expect(await text(b, 'k')).toBe('v2');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v3', IfMatch: '*' }));
    expect(await text(b, 'k')).toBe('v3');
    expect(v2.ETag).not.toBe(v1.ETag);
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: b, Key: 'absent', Body: 'x', IfMatch: v1.ETag })),
      404,
      'NoSuchKey',
    );
    await expectAbsent(s3, b, 'absent');
  });

  it('If-None-Match with an ETag, or both headers, is 501 NotImplemented and stores nothing', async () => {
    const b = await createBucket(s3, 'cw-501');
    const put = (headers: Record<string, string>) =>
      signedRequest(ep, { method: 'PUT', path: objectPath(b, 'k'), body: 'x', headers });
    expectXmlError(await put({ 'If-None-Match': `"${md5Hex('x')}"` }), 501, 'NotImplemented');
    expectXmlError(await put({ 'If-None-Match': '*', 'If-Match': '*' }), 501, 'NotImplemented');
    await expectAbsent(s3, b, 'k');
  });

  it('two creators racing with If-None-Match: *: the one that commits first wins, the other is 409 ConditionalRequestConflict', async () => {
    const b = await createBucket(s3, 'cw-race');
    const body = Buffer.alloc(256 * 1024, 1);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // The slow writer passes the check, then waits with half its body sent.
    const slow = signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b, 'k'),
      payloadHash: 'UNSIGNED-PAYLOAD',
      headers: { 'If-None-Match': '*', 'Content-Length': String(body.length) },
      sendBody: (async function* () {
        yield body.subarray(0, 1024);
        await held;
        yield body.subarray(1024);
      })(),
    });
    await new Promise((r) => setTimeout(r, 300));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'fast', IfNoneMatch: '*' }));
    release();
    expectXmlError(await slow, 409, 'ConditionalRequestConflict');
    expect(await text(b, 'k')).toBe('fast');
  });

  it('a stale If-Match that raced with another writer is 409 and the other write stays', async () => {
    const b = await createBucket(s3, 'cw-race-im');
    const v1 = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v1' }));
    const body = Buffer.alloc(64 * 1024, 2);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const slow = signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b, 'k'),
      payloadHash: 'UNSIGNED-PAYLOAD',
      headers: { 'If-Match': v1.ETag!, 'Content-Length': String(body.length) },
      sendBody: (async function* () {
        yield body.subarray(0, 10);
        await held;
        yield body.subarray(10);
      })(),
    });
    await new Promise((r) => setTimeout(r, 300));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'other' }));
    release();
    expectXmlError(await slow, 409, 'ConditionalRequestConflict');
    expect(await text(b, 'k')).toBe('other');
  });
});

describe('CompleteMultipartUpload', () => {
  it('If-None-Match: * completes onto an absent key and is 412 when the key exists; the upload then survives', async () => {
    const b = await createBucket(s3, 'cw-mpu-inm');
    const a = await onePartUpload(b, 'k', 'from upload a');
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'k',
        UploadId: a.uploadId,
        MultipartUpload: { Parts: a.parts },
        IfNoneMatch: '*',
      }),
    );
    const c = await onePartUpload(b, 'k', 'from upload c');
    await expectSdkError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: b,
          Key: 'k',
          UploadId: c.uploadId,
          MultipartUpload: { Parts: c.parts },
          IfNoneMatch: '*',
        }),
      ),
      412,
      'PreconditionFailed',
    );
    expect(await text(b, 'k')).toBe('from upload a');
    // The refused Complete left the upload in place: it completes without the condition.
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'k',
        UploadId: c.uploadId,
        MultipartUpload: { Parts: c.parts },
      }),
    );
    expect(await text(b, 'k')).toBe('from upload c');
  });

  it('If-Match: the current ETag completes, another is 412, a missing key 404', async () => {
    const b = await createBucket(s3, 'cw-mpu-im');
    const cur = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'single' }));
    const bad = await onePartUpload(b, 'k', 'nope');
    await expectSdkError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: b,
          Key: 'k',
          UploadId: bad.uploadId,
          MultipartUpload: { Parts: bad.parts },
          IfMatch: '"0123456789abcdef0123456789abcdef"',
        }),
      ),
      412,
      'PreconditionFailed',
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'k',
        UploadId: bad.uploadId,
        MultipartUpload: { Parts: bad.parts },
        IfMatch: cur.ETag,
      }),
    );
    expect(await text(b, 'k')).toBe('nope');
    const none = await onePartUpload(b, 'absent', 'x');
    await expectSdkError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: b,
          Key: 'absent',
          UploadId: none.uploadId,
          MultipartUpload: { Parts: none.parts },
          IfMatch: cur.ETag,
        }),
      ),
      404,
      'NoSuchKey',
    );
  });
});

describe('DeleteObject', () => {
  it('If-Match with the current ETag deletes; another ETag is 412 and the object stays; a missing key is 404', async () => {
    const b = await createBucket(s3, 'cw-del');
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'keep me' }));
    await expectSdkError(
      s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', IfMatch: '"0123456789abcdef0123456789abcdef"' })),
      412,
      'PreconditionFailed',
    );
    expect(await text(b, 'k')).toBe('keep me');
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', IfMatch: put.ETag }));
    await expectAbsent(s3, b, 'k');
    await expectSdkError(
      s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', IfMatch: put.ETag })),
      404,
      'NoSuchKey',
    );
    // Without a condition a missing key is still 204.
    const res = await signedRequest(ep, { method: 'DELETE', path: objectPath(b, 'k') });
    expect(res.status).toBe(204);
  });
});
