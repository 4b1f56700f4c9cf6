/**
 * DeleteObject and DeleteObjects. The SDK (default settings) sends DeleteObjects
 * with x-amz-checksum-crc32 instead of Content-MD5; s3cmd sends Content-MD5.
 * Both must work and both must be verified.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { objectPath, signedRequest, type RawEndpoint } from '../../helpers/rawS3.js';
import { crc32Base64, md5Base64 } from '../../helpers/seeded.js';
import {
  bodyBytes,
  bucketName,
  captureHeaders,
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

async function bucketWith(prefix: string, keys: string[]): Promise<string> {
  const b = bucketName(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: Buffer.from(`data ${k}`) }));
  return b;
}

async function keysOf(b: string): Promise<string[]> {
  return ((await s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents ?? []).map((c) => c.Key ?? '');
}

const xmlEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const deleteXml = (keys: string[], quiet = false) =>
  `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${quiet ? '<Quiet>true</Quiet>' : ''}${keys.map((k) => `<Object><Key>${xmlEscape(k)}</Key></Object>`).join('')}</Delete>`;

describe('DeleteObject', () => {
  it('deletes an object (204) and its blob; GET is then 404 NoSuchKey', async () => {
    const b = await bucketWith('del1', ['k']);
    const before = await countBlobs(gw.dataDir);
    const out = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    expect(out.$metadata.httpStatusCode).toBe(204);
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 404, 'NoSuchKey');
    await expectBlobCount(gw.dataDir, before - 1, 'blobs after DeleteObject');
  });

  it('a missing key is 204 too', async () => {
    const b = await bucketWith('del-missing', []);
    const out = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'never-existed' }));
    expect(out.$metadata.httpStatusCode).toBe(204);
  });

  it('a missing bucket is 404 NoSuchBucket', async () => {
    await expectSdkError(
      s3.send(new DeleteObjectCommand({ Bucket: bucketName('del-nob'), Key: 'k' })),
      404,
      'NoSuchBucket',
    );
  });
});

describe('DeleteObjects', () => {
  it('SDK default (CRC32, no Content-MD5): per-key results, missing keys reported as deleted', async () => {
    const b = await bucketWith('dels', ['a', 'b', 'c', 'keep']);
    const before = await countBlobs(gw.dataDir);
    const cap = captureHeaders(
      new DeleteObjectsCommand({
        Bucket: b,
        Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }, { Key: 'c' }, { Key: 'missing' }] },
      }),
    );
    const out = await s3.send(cap.cmd);
    const sent = cap.requestHeaders();
    expect(sent['content-md5'], 'the SDK sends no Content-MD5 by default').toBeUndefined();
    expect(
      Object.keys(sent).some((h) => h.startsWith('x-amz-checksum-')),
      'the SDK sends a flexible checksum',
    ).toBe(true);
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect((out.Deleted ?? []).map((d) => d.Key).sort()).toEqual(['a', 'b', 'c', 'missing']);
    expect(out.Errors ?? []).toEqual([]);
    expect(await keysOf(b)).toEqual(['keep']);
    await expectBlobCount(gw.dataDir, before - 3, 'blobs after DeleteObjects');
  });

  it('Quiet mode returns no Deleted entries and still deletes', async () => {
    const b = await bucketWith('dels-quiet', ['a', 'b']);
    const out = await s3.send(
      new DeleteObjectsCommand({ Bucket: b, Delete: { Quiet: true, Objects: [{ Key: 'a' }, { Key: 'b' }] } }),
    );
    expect(out.Deleted ?? []).toEqual([]);
    expect(out.Errors ?? []).toEqual([]);
    expect(await keysOf(b)).toEqual([]);
  });

  it('keys with XML specials, spaces and unicode are matched exactly', async () => {
    const keys = ['a&b', '<tag>', 'quote"s', 'sp ace', 'ü/日本', 'plus+'];
    const b = await bucketWith('dels-awk', [...keys, 'a&bc']);
    const out = await s3.send(
      new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
    );
    expect((out.Deleted ?? []).map((d) => d.Key).sort()).toEqual([...keys].sort());
    expect(await keysOf(b)).toEqual(['a&bc']);
  });

  it('raw with a correct Content-MD5 (s3cmd style) works', async () => {
    const b = await bucketWith('dels-md5', ['x', 'y']);
    const body = deleteXml(['x']);
    const res = await signedRequest(ep, {
      method: 'POST',
      path: objectPath(b, undefined, 'delete'),
      body,
      headers: { 'Content-MD5': md5Base64(body), 'Content-Type': 'application/xml' },
    });
    expect(res.status, res.text()).toBe(200);
    expect(res.text()).toMatch(/<Deleted><Key>x<\/Key>/);
    expect(await keysOf(b)).toEqual(['y']);
  });

  it('raw with a wrong Content-MD5 is 400 BadDigest and deletes nothing', async () => {
    const b = await bucketWith('dels-badmd5', ['x', 'y']);
    const body = deleteXml(['x', 'y']);
    const res = await signedRequest(ep, {
      method: 'POST',
      path: objectPath(b, undefined, 'delete'),
      body,
      headers: { 'Content-MD5': md5Base64('not the body'), 'Content-Type': 'application/xml' },
    });
    expectXmlError(res, 400, 'BadDigest');
    expect(await keysOf(b)).toEqual(['x', 'y']);
  });

  it('raw with a wrong x-amz-checksum-crc32 is 400 and deletes nothing; a right one works', async () => {
    const b = await bucketWith('dels-badcrc', ['x', 'y']);
    const body = deleteXml(['x']);
    const bad = await signedRequest(ep, {
      method: 'POST',
      path: objectPath(b, undefined, 'delete'),
      body,
      headers: { 'x-amz-checksum-crc32': crc32Base64('other'), 'x-amz-sdk-checksum-algorithm': 'CRC32' },
    });
    expectXmlError(bad, 400);
    expect(await keysOf(b)).toEqual(['x', 'y']);
    const good = await signedRequest(ep, {
      method: 'POST',
      path: objectPath(b, undefined, 'delete'),
      body,
      headers: { 'x-amz-checksum-crc32': crc32Base64(body), 'x-amz-sdk-checksum-algorithm': 'CRC32' },
    });
    expect(good.status, good.text()).toBe(200);
    expect(await keysOf(b)).toEqual(['y']);
  });

  it('a key over 1024 bytes gets a per-key error while the others are deleted', async () => {
    const b = await bucketWith('dels-longkey', ['x', 'y']);
    const long = 'k'.repeat(1025);
    const out = await s3.send(
      new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'x' }, { Key: long }, { Key: 'y' }] } }),
    );
    expect((out.Deleted ?? []).map((d) => d.Key).sort()).toEqual(['x', 'y']);
    expect((out.Errors ?? []).map((e) => [e.Key, e.Code])).toEqual([[long, 'KeyTooLongError']]);
    expect(await keysOf(b)).toEqual([]);
  });

  it('more than 1000 keys is 400 MalformedXML', async () => {
    const b = await bucketWith('dels-1001', ['k0']);
    const body = deleteXml(Array.from({ length: 1001 }, (_, i) => `k${i}`));
    const res = await signedRequest(ep, {
      method: 'POST',
      path: objectPath(b, undefined, 'delete'),
      body,
      headers: { 'Content-MD5': md5Base64(body) },
    });
    expectXmlError(res, 400, 'MalformedXML');
    expect(await keysOf(b)).toEqual(['k0']);
  });

  it('an object deleted by DeleteObjects can be written again', async () => {
    const b = await bucketWith('dels-again', ['k']);
    await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'k' }] } }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.from('second life') }));
    expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })))).toString()).toBe(
      'second life',
    );
  });
});
