/**
 * Presigned URLs (query auth, UNSIGNED-PAYLOAD): GET and PUT signed with aws4
 * and with @aws-sdk/s3-request-presigner (default checksum settings, which bake
 * a CRC32 of the empty body into a presigned PUT: the server must not fail the
 * upload on it), response-content-* overrides, expiry and its limits.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { describe, expect, it } from 'vitest';
import { objectPath, presign, send, type RawEndpoint } from '../../helpers/rawS3.js';
import { md5Hex, SeededData } from '../../helpers/seeded.js';
import {
  bodyBytes,
  bucketName,
  countBlobs,
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

async function bucketWithObject(prefix: string, body: Buffer): Promise<string> {
  const b = bucketName(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  await s3.send(
    new PutObjectCommand({ Bucket: b, Key: 'obj key+1', Body: body, ContentType: 'application/x-original' }),
  );
  return b;
}

/** Path and query of an absolute presigned URL; refuses anything but 127.0.0.1. */
function local(url: string): string {
  const u = new URL(url);
  if (u.hostname !== '127.0.0.1') throw new Error(`presigned URL points at ${u.hostname}`);
  return u.pathname + u.search;
}

describe('presigned GET', () => {
  it('aws4 presigned GET returns the object without any auth header', async () => {
    const body = new SeededData('pre-get', 70_000).bytes();
    const b = await bucketWithObject('pre-get', body);
    const path = presign(ep, { method: 'GET', path: objectPath(b, 'obj key+1'), expiresSeconds: 300 });
    expect(path).toMatch(/X-Amz-Signature=[0-9a-f]{64}/);
    const res = await send(ep, { method: 'GET', path });
    expect(res.status, res.text()).toBe(200);
    expect(res.body.equals(body)).toBe(true);
    expect(res.headers['etag']).toBe(`"${md5Hex(body)}"`);
  });

  it('response-content-* parameters in a presigned GET override the response headers', async () => {
    const body = Buffer.from('download me');
    const b = await bucketWithObject('pre-override', body);
    const q = `response-content-disposition=${encodeURIComponent('attachment; filename="x y.txt"')}&response-content-type=${encodeURIComponent('text/plain')}&response-cache-control=no-cache`;
    const path = presign(ep, { method: 'GET', path: objectPath(b, 'obj key+1', q), expiresSeconds: 300 });
    const res = await send(ep, { method: 'GET', path });
    expect(res.status, res.text()).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename="x y.txt"');
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body.equals(body)).toBe(true);
  });

  it('SDK getSignedUrl GET works', async () => {
    const body = Buffer.from('sdk presigned');
    const b = await bucketWithObject('pre-sdkget', body);
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: b, Key: 'obj key+1' }), { expiresIn: 120 });
    const res = await send(ep, { method: 'GET', path: local(url) });
    expect(res.status, res.text()).toBe(200);
    expect(res.body.equals(body)).toBe(true);
  });

  it('an expired presigned URL is 403 AccessDenied', async () => {
    const b = await bucketWithObject('pre-expired', Buffer.from('x'));
    const path = presign(ep, {
      method: 'GET',
      path: objectPath(b, 'obj key+1'),
      expiresSeconds: 60,
      date: new Date(Date.now() - 3600_000),
    });
    const res = await send(ep, { method: 'GET', path });
    expectXmlError(res, 403, 'AccessDenied');
    expect(res.text()).not.toContain('x-not-the-body');
  });

  it('X-Amz-Expires over 604800 (7 days) is 400; exactly 604800 is accepted', async () => {
    const b = await bucketWithObject('pre-maxexp', Buffer.from('x'));
    const tooLong = presign(ep, { method: 'GET', path: objectPath(b, 'obj key+1'), expiresSeconds: 604801 });
    const res = await send(ep, { method: 'GET', path: tooLong });
    expectXmlError(res, 400);
    const max = presign(ep, { method: 'GET', path: objectPath(b, 'obj key+1'), expiresSeconds: 604800 });
    const ok = await send(ep, { method: 'GET', path: max });
    expect(ok.status, ok.text()).toBe(200);
  });

  it('a presigned URL signed with the wrong secret is 403 SignatureDoesNotMatch', async () => {
    const b = await bucketWithObject('pre-wrongsecret', Buffer.from('x'));
    const path = presign(ep, {
      method: 'GET',
      path: objectPath(b, 'obj key+1'),
      expiresSeconds: 300,
      secretAccessKey: 'not-the-secret-0123456789',
    });
    expectXmlError(await send(ep, { method: 'GET', path }), 403, 'SignatureDoesNotMatch');
  });

  it('a presigned URL replayed against another key is 403 SignatureDoesNotMatch', async () => {
    const b = await bucketWithObject('pre-otherkey', Buffer.from('x'));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'secret', Body: Buffer.from('private') }));
    const path = presign(ep, { method: 'GET', path: objectPath(b, 'obj key+1'), expiresSeconds: 300 });
    const swapped = path.replace(objectPath(b, 'obj key+1'), objectPath(b, 'secret'));
    expect(swapped).not.toBe(path);
    const res = await send(ep, { method: 'GET', path: swapped });
    expectXmlError(res, 403, 'SignatureDoesNotMatch');
    expect(res.text()).not.toContain('private');
  });

  it('a presigned GET URL cannot be used for a PUT', async () => {
    const b = await bucketWithObject('pre-method', Buffer.from('original'));
    const path = presign(ep, { method: 'GET', path: objectPath(b, 'obj key+1'), expiresSeconds: 300 });
    const res = await send(ep, {
      method: 'PUT',
      path,
      body: Buffer.from('overwritten'),
      headers: { 'Content-Length': '11' },
    });
    expectXmlError(res, 403, 'SignatureDoesNotMatch');
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'obj key+1' }));
    expect((await bodyBytes(got)).toString()).toBe('original');
  });
});

describe('presigned PUT', () => {
  it('aws4 presigned PUT stores the body (UNSIGNED-PAYLOAD)', async () => {
    const b = bucketName('pre-put');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const data = new SeededData('pre-put', 150_000).bytes();
    const path = presign(ep, { method: 'PUT', path: objectPath(b, 'up/loaded.bin'), expiresSeconds: 300 });
    const res = await send(ep, { method: 'PUT', path, body: data, headers: { 'Content-Length': String(data.length) } });
    expect(res.status, res.text()).toBe(200);
    expect(res.headers['etag']).toBe(`"${md5Hex(data)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'up/loaded.bin' }));
    expect((await bodyBytes(got)).equals(data)).toBe(true);
  });

  it('SDK getSignedUrl PUT (default checksums put a CRC32 of the empty body in the query) still accepts a real body', async () => {
    const b = bucketName('pre-sdkput');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: b, Key: 'sdk-put' }), { expiresIn: 120 });
    const data = Buffer.from('uploaded through an SDK presigned URL');
    const res = await send(ep, {
      method: 'PUT',
      path: local(url),
      body: data,
      headers: { 'Content-Length': String(data.length) },
    });
    expect(res.status, `${url}\n${res.text()}`).toBe(200);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'sdk-put' }));
    expect((await bodyBytes(got)).equals(data)).toBe(true);
  });

  it('an expired presigned PUT is 403 and stores nothing', async () => {
    const b = bucketName('pre-put-exp');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const before = await countBlobs(gw.dataDir);
    const path = presign(ep, {
      method: 'PUT',
      path: objectPath(b, 'k'),
      expiresSeconds: 60,
      date: new Date(Date.now() - 7200_000),
    });
    const res = await send(ep, { method: 'PUT', path, body: Buffer.from('late'), headers: { 'Content-Length': '4' } });
    expectXmlError(res, 403);
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 404, 'NoSuchKey');
    await expectBlobCount(gw.dataDir, before);
  });
});
