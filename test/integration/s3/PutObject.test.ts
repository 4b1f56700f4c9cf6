/**
 * PutObject through @aws-sdk/client-s3 with default checksum settings: Buffer
 * bodies (x-amz-checksum-crc32 header) and stream bodies (aws-chunked with
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER and a trailing CRC32), metadata round
 * trips, ETag = plaintext MD5, overwrites, concurrency, orphan blobs.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crc32Base64, md5Base64, md5Hex, md5OfStream, SeededData } from '../../helpers/seeded.js';
import { endpointOf, objectPath, signedRequest } from '../../helpers/rawS3.js';
import {
  bodyBytes,
  bucketName,
  captureHeaders,
  countBlobs,
  createBucket,
  expectBlobCount,
  expectSdkError,
  expectXmlError,
  useGateway,
} from '../../helpers/s3Test.js';
import type { TestGateway } from '../../helpers/startGateway.js';
import type { Readable } from 'node:stream';

let gw: TestGateway;
let s3: S3Client;
useGateway((t) => ({ gw, s3 } = t));

interface HeadOutputLike {
  ContentType?: string;
  ContentEncoding?: string;
  ContentDisposition?: string;
  CacheControl?: string;
  ContentLanguage?: string;
  Expires?: Date;
  Metadata?: Record<string, string>;
  ContentLength?: number;
  ETag?: string;
  AcceptRanges?: string;
  LastModified?: Date;
}

const newBucket = (prefix: string) => createBucket(s3, prefix);

describe('PutObject with a Buffer body', () => {
  it.each([0, 1, 65535, 65536, 65537, 1024 * 1024 + 3])(
    '%i bytes: ETag is the quoted MD5, sizes are plaintext sizes, bytes round-trip',
    async (size) => {
      const b = await newBucket('put-buf');
      const data = new SeededData(`put-buf-${size}`, size).bytes();
      const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: `obj-${size}`, Body: data }));
      expect(put.$metadata.httpStatusCode).toBe(200);
      expect(put.ETag).toBe(`"${md5Hex(data)}"`);
      // The SDK sent x-amz-checksum-crc32; the server echoes it.
      expect(put.ChecksumCRC32).toBe(crc32Base64(data));
      const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: `obj-${size}` }));
      expect(head.ContentLength).toBe(size);
      expect(head.ETag).toBe(`"${md5Hex(data)}"`);
      const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: `obj-${size}` }));
      expect(got.ContentLength).toBe(size);
      const bytes = await bodyBytes(got);
      expect(bytes.length).toBe(size);
      expect(bytes.equals(data)).toBe(true);
    },
  );
});

describe('PutObject with a stream body (aws-chunked, trailing CRC32)', () => {
  it('5 MiB + 7 bytes: the SDK sends STREAMING-UNSIGNED-PAYLOAD-TRAILER; the object round-trips with its CRC32', async () => {
    const b = await newBucket('put-stream');
    const data = new SeededData('put-stream', 5 * 1024 * 1024 + 7);
    const cap = captureHeaders(
      new PutObjectCommand({
        Bucket: b,
        Key: 'streamed',
        Body: data.stream(),
        ContentLength: data.size,
        ContentType: 'application/x-test',
      }),
    );
    const put = await s3.send(cap.cmd);
    const sent = cap.requestHeaders();
    expect(sent['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    expect(sent['x-amz-trailer']).toBe('x-amz-checksum-crc32');
    expect(put.ETag).toBe(`"${data.md5()}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'streamed', ChecksumMode: 'ENABLED' }));
    expect(head.ContentLength).toBe(data.size);
    expect(head.ContentType).toBe('application/x-test');
    // aws-chunked is transport framing: it must not be stored as the object's Content-Encoding.
    expect(head.ContentEncoding ?? '').not.toMatch(/aws-chunked/);
    expect(head.ChecksumCRC32).toBe(data.crc32());
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'streamed', ChecksumMode: 'ENABLED' }));
    expect(got.ChecksumCRC32).toBe(data.crc32());
    const { md5, size } = await md5OfStream(got.Body as Readable);
    expect(size).toBe(data.size);
    expect(md5).toBe(data.md5());
  });

  it('a 0-byte stream body round-trips', async () => {
    const b = await newBucket('put-stream0');
    const data = new SeededData('empty', 0);
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'empty', Body: data.stream(), ContentLength: 0 }));
    expect(put.ETag).toBe(`"${md5Hex('')}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'empty' }));
    expect((await bodyBytes(got)).length).toBe(0);
  });

  it('a stream body with Content-Encoding gzip stores gzip, without aws-chunked', async () => {
    const b = await newBucket('put-gzip');
    const data = new SeededData('gzip-ish', 100_000);
    await s3.send(
      new PutObjectCommand({
        Bucket: b,
        Key: 'z',
        Body: data.stream(),
        ContentLength: data.size,
        ContentEncoding: 'gzip',
      }),
    );
    const cap = captureHeaders(new HeadObjectCommand({ Bucket: b, Key: 'z' }));
    await s3.send(cap.cmd);
    expect(cap.headers()['content-encoding']).toBe('gzip');
  });

  it('32 MiB streamed in and out (never buffered whole): MD5, size and ranged reads deep in the object', async () => {
    const b = await newBucket('put-large');
    const data = new SeededData('large-32', 32 * 1024 * 1024);
    const put = await s3.send(
      new PutObjectCommand({ Bucket: b, Key: 'large', Body: data.stream(), ContentLength: data.size }),
    );
    expect(put.ETag).toBe(`"${data.md5()}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'large' }));
    expect(got.ContentLength).toBe(data.size);
    const { md5, size } = await md5OfStream(got.Body as Readable);
    expect(size).toBe(data.size);
    expect(md5).toBe(data.md5());
    for (const [s, e] of [
      [20 * 1024 * 1024 - 5, 20 * 1024 * 1024 + 70_000],
      [data.size - 10, data.size - 1],
    ] as const) {
      const r = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'large', Range: `bytes=${s}-${e}` }));
      expect(r.ContentRange).toBe(`bytes ${s}-${e}/${data.size}`);
      expect((await bodyBytes(r)).equals(data.bytes(s, e + 1))).toBe(true);
    }
  });
});

describe('PutObject headers and metadata', () => {
  it('Content-Type, Content-Encoding, Content-Disposition, Cache-Control, Expires and x-amz-meta-* round-trip exactly', async () => {
    const b = await newBucket('put-meta');
    const body = Buffer.from('{"hello":"world"}');
    const expires = new Date('2031-05-06T07:08:09Z');
    const meta = {
      mtime: '1700000000.123456789',
      md5chksum: md5Base64(body),
      's3cmd-attrs': 'uid:0/gid:0/mode:33188',
      'with-space': 'a value with spaces',
    };
    const put = captureHeaders(
      new PutObjectCommand({
        Bucket: b,
        Key: 'meta.json',
        Body: body,
        ContentType: 'application/json; charset=utf-8',
        ContentEncoding: 'gzip',
        ContentDisposition: 'attachment; filename="report 2024.json"',
        CacheControl: 'max-age=3600, must-revalidate',
        ContentLanguage: 'en-GB',
        Expires: expires,
        Metadata: meta,
      }),
    );
    await s3.send(put.cmd);
    const sentExpires = put.requestHeaders()['expires'];
    expect(sentExpires).toBeTruthy();
    const check = (out: HeadOutputLike, raw: Record<string, string>) => {
      expect(out.ContentType).toBe('application/json; charset=utf-8');
      expect(out.ContentEncoding).toBe('gzip');
      expect(out.ContentDisposition).toBe('attachment; filename="report 2024.json"');
      expect(out.CacheControl).toBe('max-age=3600, must-revalidate');
      expect(out.ContentLanguage).toBe('en-GB');
      expect(raw['expires']).toBe(sentExpires);
      expect(out.Expires?.getTime()).toBe(expires.getTime());
      expect(out.Metadata).toEqual(meta);
      expect(out.ContentLength).toBe(body.length);
      expect(out.ETag).toBe(`"${md5Hex(body)}"`);
      expect(out.AcceptRanges).toBe('bytes');
      expect(out.LastModified).toBeInstanceOf(Date);
      expect(Math.abs(out.LastModified!.getTime() - Date.now())).toBeLessThan(60_000);
    };
    const head = captureHeaders(new HeadObjectCommand({ Bucket: b, Key: 'meta.json' }));
    check(await s3.send(head.cmd), head.headers());
    const get = captureHeaders(new GetObjectCommand({ Bucket: b, Key: 'meta.json' }));
    const got = await s3.send(get.cmd);
    expect((await bodyBytes(got)).equals(body)).toBe(true);
    check(got, get.headers());
  });

  it('user metadata keys come back lower-cased', async () => {
    const b = await newBucket('put-metacase');
    await s3.send(
      new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.from('x'), Metadata: { 'Mixed-Case': 'Value-Kept' } }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }));
    expect(head.Metadata).toEqual({ 'mixed-case': 'Value-Kept' });
  });

  it('with no Content-Type the object is binary/octet-stream (AWS default)', async () => {
    const b = await newBucket('put-ctype');
    const cmd = new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.from('x') });
    await s3.send(cmd);
    const cap = captureHeaders(new HeadObjectCommand({ Bucket: b, Key: 'k' }));
    await s3.send(cap.cmd);
    expect(cap.headers()['content-type']).toMatch(/^(binary\/octet-stream|application\/octet-stream)$/);
  });

  it('accepts x-amz-storage-class STANDARD, x-amz-acl private and SSE AES256, and answers x-amz-server-side-encryption', async () => {
    const b = await newBucket('put-sse');
    const out = await s3.send(
      new PutObjectCommand({
        Bucket: b,
        Key: 'k',
        Body: Buffer.from('x'),
        StorageClass: 'STANDARD',
        ACL: 'private',
        ServerSideEncryption: 'AES256',
      }),
    );
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.ServerSideEncryption).toBe('AES256');
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }));
    expect(head.ServerSideEncryption).toBe('AES256');
  });

  it('a correct Content-MD5 is accepted; a wrong one is 400 BadDigest, stores nothing and leaves no blob', async () => {
    const b = await newBucket('put-md5');
    const body = Buffer.from('content md5 check');
    const ok = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'good', Body: body, ContentMD5: md5Base64(body) }));
    expect(ok.ETag).toBe(`"${md5Hex(body)}"`);
    const before = await countBlobs(gw.dataDir);
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: b, Key: 'bad', Body: body, ContentMD5: md5Base64('something else') })),
      400,
      'BadDigest',
    );
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'bad' })), 404);
    await expectBlobCount(gw.dataDir, before, 'blobs after a BadDigest upload');
  });

  it('PutObject into a missing bucket is 404 NoSuchBucket', async () => {
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: bucketName('missing'), Key: 'k', Body: Buffer.from('x') })),
      404,
      'NoSuchBucket',
    );
  });
});

describe('PutObject with flexible checksum algorithms', () => {
  const ALGS = ['CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
  const field = {
    CRC32C: 'ChecksumCRC32C',
    CRC64NVME: 'ChecksumCRC64NVME',
    SHA1: 'ChecksumSHA1',
    SHA256: 'ChecksumSHA256',
  } as const;

  it.each(ALGS)(
    '%s: Buffer and stream bodies are verified, stored and returned (the SDK validates them on GET)',
    async (alg) => {
      const b = await newBucket(`put-${alg.toLowerCase()}`);
      const data = new SeededData(`alg-${alg}`, 3 * 65536 + 11);
      const header = `x-amz-checksum-${alg.toLowerCase()}`;
      const put = captureHeaders(
        new PutObjectCommand({ Bucket: b, Key: 'buf', Body: data.bytes(), ChecksumAlgorithm: alg }),
      );
      const out = await s3.send(put.cmd);
      const sent = put.requestHeaders()[header];
      expect(sent, `the SDK sent ${header}`).toBeTruthy();
      if (alg === 'SHA1' || alg === 'SHA256')
        expect(sent).toBe(
          createHash(alg === 'SHA1' ? 'sha1' : 'sha256')
            .update(data.bytes())
            .digest('base64'),
        );
      expect(out[field[alg]], 'PUT echoes the checksum').toBe(sent);
      const streamed = captureHeaders(
        new PutObjectCommand({
          Bucket: b,
          Key: 'stream',
          Body: data.stream(),
          ContentLength: data.size,
          ChecksumAlgorithm: alg,
        }),
      );
      await s3.send(streamed.cmd);
      expect(streamed.requestHeaders()['x-amz-trailer']).toBe(header);
      for (const key of ['buf', 'stream']) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: key, ChecksumMode: 'ENABLED' }));
        expect(head[field[alg]], `${key}: stored ${alg}`).toBe(sent);
        const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: key, ChecksumMode: 'ENABLED' }));
        expect(got[field[alg]]).toBe(sent);
        expect((await bodyBytes(got)).equals(data.bytes())).toBe(true);
      }
    },
  );

  it.each(ALGS)('a wrong x-amz-checksum-%s header is 400, stores nothing and leaves no blob', async (alg) => {
    const b = await newBucket('put-badsum');
    const before = await countBlobs(gw.dataDir);
    const body = Buffer.from('checksum me');
    const wrong =
      alg === 'SHA1'
        ? createHash('sha1').update('x').digest('base64')
        : alg === 'SHA256'
          ? createHash('sha256').update('x').digest('base64')
          : alg === 'CRC64NVME'
            ? 'AAAAAAAAAAA='
            : 'AAAAAA==';
    const res = await signedRequest(endpointOf(gw), {
      method: 'PUT',
      path: objectPath(b, 'k'),
      body,
      headers: { [`x-amz-checksum-${alg.toLowerCase()}`]: wrong },
    });
    expectXmlError(res, 400);
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' })), 404);
    await expectBlobCount(gw.dataDir, before);
  });
});

describe('PutObject checksum declarations that contradict each other', () => {
  const body = Buffer.from('declared twice');
  const sha = createHash('sha256').update(body).digest('base64');
  it.each([
    ['two x-amz-checksum-* headers', { 'x-amz-checksum-crc32': crc32Base64(body), 'x-amz-checksum-sha256': sha }],
    [
      'x-amz-sdk-checksum-algorithm naming another algorithm than the header sent',
      { 'x-amz-sdk-checksum-algorithm': 'CRC32', 'x-amz-checksum-sha256': sha },
    ],
    ['an unknown x-amz-sdk-checksum-algorithm', { 'x-amz-sdk-checksum-algorithm': 'MD4' }],
  ])('%s is 400 and stores nothing', async (_l, headers) => {
    const b = await newBucket('put-contra');
    const before = await countBlobs(gw.dataDir);
    const res = await signedRequest(endpointOf(gw), { method: 'PUT', path: objectPath(b, 'k'), body, headers });
    expectXmlError(res, 400);
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' })), 404);
    await expectBlobCount(gw.dataDir, before);
  });
});

describe('PutObject keys that look like paths', () => {
  it('dot segments, double slashes and a leading slash are literal key characters', async () => {
    const b = await newBucket('put-dots');
    const keys = ['dots/../escape', 'dots/./here', 'a//b', '/leading', '..', '.', 'trail/'];
    for (const k of keys)
      await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: Buffer.from(`content of ${k}`) }));
    for (const k of keys) {
      const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: k }));
      expect((await bodyBytes(got)).toString(), k).toBe(`content of ${k}`);
    }
    const list = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    expect((list.Contents ?? []).map((c) => c.Key).sort()).toEqual([...keys].sort());
  });
});

describe('PutObject overwrite and concurrency', () => {
  it('an overwrite replaces the content and removes the old blob', async () => {
    const b = await newBucket('put-over');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.from('version one') }));
    const after1 = await countBlobs(gw.dataDir);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.from('version two, longer') }));
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    expect((await bodyBytes(got)).toString()).toBe('version two, longer');
    expect(got.ContentLength).toBe('version two, longer'.length);
    await expectBlobCount(gw.dataDir, after1, 'blobs after an overwrite');
  });

  it('8 concurrent PUTs of different bodies to one key: the result is exactly one of them, and no orphan blob remains', async () => {
    const b = await newBucket('put-race');
    const before = await countBlobs(gw.dataDir);
    const bodies = Array.from({ length: 8 }, (_, i) => new SeededData(`race-${i}`, 200_000 + i * 4099));
    const results = await Promise.allSettled(
      bodies.map((d) => s3.send(new PutObjectCommand({ Bucket: b, Key: 'contended', Body: d.bytes() }))),
    );
    const okCount = results.filter((r) => r.status === 'fulfilled').length;
    expect(
      okCount,
      JSON.stringify(
        results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
      ),
    ).toBeGreaterThanOrEqual(1);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'contended' }));
    const bytes = await bodyBytes(got);
    const md5 = md5Hex(bytes);
    const match = bodies.findIndex((d) => d.md5() === md5 && d.size === bytes.length);
    expect(match, 'final body equals exactly one of the bodies written').toBeGreaterThanOrEqual(0);
    expect(got.ETag).toBe(`"${md5}"`);
    expect(got.ContentLength).toBe(bodies[match].size);
    await expectBlobCount(gw.dataDir, before + 1, 'blobs after 8 racing PUTs to one key');
  });

  it('PUTs racing DELETEs on one key: the end state is absent or exactly one body, with no orphan blob', async () => {
    const b = await newBucket('put-del-race');
    const before = await countBlobs(gw.dataDir);
    const bodies = Array.from({ length: 6 }, (_, i) => new SeededData(`pdr-${i}`, 80_000 + i * 101));
    const ops: Array<Promise<unknown>> = [];
    for (let i = 0; i < bodies.length; i++) {
      ops.push(s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: bodies[i].bytes() })));
      ops.push(s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' })));
    }
    await Promise.allSettled(ops);
    let present = false;
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
      const md5 = md5Hex(await bodyBytes(got));
      expect(bodies.some((d) => d.md5() === md5)).toBe(true);
      expect(got.ETag).toBe(`"${md5}"`);
      present = true;
    } catch (e) {
      expect((e as { name?: string }).name).toBe('NoSuchKey');
    }
    await expectBlobCount(gw.dataDir, before + (present ? 1 : 0), 'blobs after racing PUT/DELETE');
  });
});
