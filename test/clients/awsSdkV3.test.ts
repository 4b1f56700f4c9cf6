/**
 * The AWS SDK for JavaScript v3 with its default settings (checksums
 * WHEN_SUPPORTED: CRC32 headers on buffers, aws-chunked bodies with a trailing
 * CRC32 on streams, ChecksumMode ENABLED on reads), lib-storage's Upload of a
 * stream of unknown length, and the request presigner's GET and PUT URLs used
 * with plain HTTP. Only the endpoint, region, keys and path-style are set.
 */
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, captureHeaders } from '../helpers/s3Test.js';
import { crc32Base64, md5Hex, SeededData } from '../helpers/seeded.js';
import { startTestGateway, type TestGateway } from '../helpers/startGateway.js';
import { AWKWARD_NAMES } from './helpers/trees.js';

const MiB = 1024 * 1024;

/** A byte stream (not object mode) of the given buffer, in small pieces, with no length the SDK could read. */
function streamOf(buf: Buffer, piece = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < buf.length; i += piece) yield buf.subarray(i, i + piece);
    })(),
    { objectMode: false },
  );
}

describe('AWS SDK for JavaScript v3 (default settings)', () => {
  let gw: TestGateway;
  let s3: S3Client;
  const bucket = 'sdk-v3-bucket';

  beforeAll(async () => {
    gw = await startTestGateway();
    s3 = gw.client();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('PutObject with a Buffer sends x-amz-checksum-crc32; the checksum is echoed and GetObject (ChecksumMode ENABLED) validates it', async () => {
    const body = Buffer.from('sdk v3 buffer body\n'.repeat(300));
    const key = `buffers/${AWKWARD_NAMES.join(' ')}`;
    const put = captureHeaders(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const out = await s3.send(put.cmd);
    expect(put.requestHeaders()['x-amz-checksum-crc32']).toBe(crc32Base64(body));
    expect(out.ETag).toBe(`"${md5Hex(body)}"`);
    expect(out.ChecksumCRC32).toBe(crc32Base64(body));
    const get = captureHeaders(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const got = await s3.send(get.cmd);
    expect(get.requestHeaders()['x-amz-checksum-mode']).toBe('ENABLED');
    expect(get.headers()['x-amz-checksum-crc32']).toBe(crc32Base64(body));
    expect((await bodyBytes(got)).equals(body)).toBe(true);
  });

  it('PutObject with a stream goes aws-chunked with a trailing CRC32; aws-chunked is never stored or returned', async () => {
    const body = new SeededData('sdk-stream', 3 * MiB + 123).bytes();
    const put = captureHeaders(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'streams/plain.bin',
        Body: streamOf(body),
        ContentLength: body.length,
      }),
    );
    const out = await s3.send(put.cmd);
    const sent = put.requestHeaders();
    expect(sent['content-encoding']).toBe('aws-chunked');
    expect(sent['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    expect(sent['x-amz-trailer']).toBe('x-amz-checksum-crc32');
    expect(sent['x-amz-decoded-content-length']).toBe(String(body.length));
    expect(out.ETag).toBe(`"${md5Hex(body)}"`);
    expect(out.ChecksumCRC32).toBe(crc32Base64(body));
    const head = captureHeaders(new HeadObjectCommand({ Bucket: bucket, Key: 'streams/plain.bin' }));
    const h = await s3.send(head.cmd);
    expect(h.ContentEncoding).toBeUndefined();
    expect(head.headers()['content-encoding']).toBeUndefined();
    expect(h.ContentLength).toBe(body.length);
    const get = captureHeaders(new GetObjectCommand({ Bucket: bucket, Key: 'streams/plain.bin' }));
    const got = await s3.send(get.cmd);
    expect(get.headers()['content-encoding']).toBeUndefined();
    expect((await bodyBytes(got)).equals(body)).toBe(true);
  });

  it('a stream with Content-Encoding gzip keeps gzip and drops only aws-chunked', async () => {
    const body = Buffer.from('not really gzip, the server does not care\n'.repeat(100));
    const put = captureHeaders(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'streams/gzip.txt',
        Body: streamOf(body),
        ContentLength: body.length,
        ContentEncoding: 'gzip',
      }),
    );
    await s3.send(put.cmd);
    expect(put.requestHeaders()['content-encoding']).toMatch(/gzip.*aws-chunked|aws-chunked.*gzip/);
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'streams/gzip.txt' }));
    expect(h.ContentEncoding).toBe('gzip');
  });

  it('a ranged GetObject with ChecksumMode ENABLED gets no whole-object checksum and reads fine', async () => {
    const get = captureHeaders(
      new GetObjectCommand({ Bucket: bucket, Key: 'streams/plain.bin', Range: 'bytes=100-199' }),
    );
    const got = await s3.send(get.cmd);
    expect(get.headers()['x-amz-checksum-crc32']).toBeUndefined();
    expect((await bodyBytes(got)).equals(new SeededData('sdk-stream', 3 * MiB + 123).bytes(100, 200))).toBe(true);
  });

  it('lib-storage Upload of a stream of unknown length goes multipart and reads back byte for byte', async () => {
    const data = new SeededData('sdk-lib-storage', 13 * MiB + 7);
    const up = new Upload({
      client: s3,
      params: {
        Bucket: bucket,
        Key: `uploads/${AWKWARD_NAMES[3]} big.bin`,
        Body: Readable.from(data.pieces(), { objectMode: false }),
      },
      partSize: 5 * MiB,
      queueSize: 2,
    });
    const res = await up.done();
    expect(res.ETag).toMatch(/^"[0-9a-f]{32}-3"$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `uploads/${AWKWARD_NAMES[3]} big.bin` }));
    const bytes = await bodyBytes(got);
    expect(bytes.length).toBe(data.size);
    expect(md5Hex(bytes)).toBe(data.md5());
  });

  it('presigned GET and PUT URLs work with plain HTTP and no credentials', async () => {
    const key = `presigned/${AWKWARD_NAMES.join(' ')}`;
    const body = Buffer.from('uploaded through a presigned PUT URL\n'.repeat(20));
    // With WHEN_SUPPORTED the presigner bakes the CRC32 of an empty body (x-amz-checksum-crc32=AAAAAA==)
    // into the query string; the server verifies only checksums sent as headers or trailers.
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 300 });
    const put = await fetch(putUrl, { method: 'PUT', body });
    expect(put.status, await put.clone().text()).toBe(200);
    expect(put.headers.get('etag')).toBe(`"${md5Hex(body)}"`);
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 300 });
    const get = await fetch(getUrl);
    expect(get.status).toBe(200);
    expect(Buffer.from(await get.arrayBuffer()).equals(body)).toBe(true);
  });

  it('a key with a trailing slash and awkward characters round-trips through PutObject, listings and GetObject', async () => {
    const key = 'dirs/sub ü+%20/';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '' }));
    const flat = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'dirs/' }));
    expect(flat.Contents?.map((o) => [o.Key, o.Size])).toEqual([[key, 0]]);
    const grouped = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'dirs/', Delimiter: '/' }));
    expect(grouped.CommonPrefixes?.map((p) => p.Prefix)).toEqual([key]);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect((await bodyBytes(got)).length).toBe(0);
  });

  it('DeleteObjects (a CRC32 checksum, no Content-MD5) deletes every key, awkward ones included', async () => {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    expect(keys).toContain(`buffers/${AWKWARD_NAMES.join(' ')}`);
    const del = captureHeaders(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
    );
    const out = await s3.send(del.cmd);
    expect(del.requestHeaders()['content-md5']).toBeUndefined();
    expect((out.Deleted ?? []).map((d) => d.Key).sort()).toEqual([...keys].sort());
    expect(out.Errors ?? []).toEqual([]);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount).toBe(0);
  });
});
