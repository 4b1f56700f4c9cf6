/**
 * GetObject and HeadObject: ranges (206 + Content-Range, 416 InvalidRange),
 * conditional requests, response-content-* overrides, checksum mode on whole vs
 * ranged reads, and tamper detection on a blob corrupted on disk.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { objectPath, signedRequest, type RawEndpoint } from '../../helpers/rawS3.js';
import { md5Hex, SeededData } from '../../helpers/seeded.js';
import {
  blobFiles,
  bodyBytes,
  bucketName,
  captureHeaders,
  expectHeadError,
  expectSdkError,
  expectXmlError,
  useGateway,
} from '../../helpers/s3Test.js';
import type { TestGateway } from '../../helpers/startGateway.js';

let gw: TestGateway;
let s3: S3Client;
let ep: RawEndpoint;
useGateway((t) => ({ gw, s3, ep } = t));

/** A bucket holding one 300,000-byte object (several 64 KiB segments). */
async function fixture(prefix: string): Promise<{ b: string; key: string; data: SeededData; bytes: Buffer }> {
  const b = bucketName(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  const data = new SeededData(`get-${prefix}`, 300_000);
  const bytes = data.bytes();
  await s3.send(
    new PutObjectCommand({
      Bucket: b,
      Key: 'obj',
      Body: bytes,
      ContentType: 'application/x-fixture',
      Metadata: { color: 'blue' },
    }),
  );
  return { b, key: 'obj', data, bytes };
}

describe('GetObject ranges', () => {
  const SIZE = 300_000;
  const cases: Array<[string, number, number]> = [
    ['bytes=0-9', 0, 9],
    ['bytes=0-0', 0, 0],
    ['bytes=65530-65545', 65530, 65545], // crosses a segment boundary
    ['bytes=65536-131071', 65536, 131071], // exactly one segment
    ['bytes=100-', 100, SIZE - 1], // open-ended
    ['bytes=-100', SIZE - 100, SIZE - 1], // suffix
    ['bytes=-1', SIZE - 1, SIZE - 1],
    ['bytes=299990-400000', 299990, SIZE - 1], // end past the object is clamped
    ['bytes=-400000', 0, SIZE - 1], // suffix longer than the object
  ];

  it.each(cases)(
    '%s -> 206 with Content-Range, exact bytes, and no whole-object checksum',
    async (range, start, end) => {
      const { b, key, bytes } = await fixture('range');
      const cap = captureHeaders(new GetObjectCommand({ Bucket: b, Key: key, Range: range, ChecksumMode: 'ENABLED' }));
      const out = await s3.send(cap.cmd);
      expect(out.$metadata.httpStatusCode).toBe(206);
      expect(out.ContentRange).toBe(`bytes ${start}-${end}/${SIZE}`);
      expect(out.ContentLength).toBe(end - start + 1);
      const got = await bodyBytes(out);
      expect(got.length).toBe(end - start + 1);
      expect(got.equals(bytes.subarray(start, end + 1))).toBe(true);
      // A whole-object checksum on a partial body makes the SDK fail validation.
      expect(cap.headers()['x-amz-checksum-crc32']).toBeUndefined();
      expect(out.ChecksumCRC32).toBeUndefined();
      expect(out.ETag).toBe(`"${md5Hex(bytes)}"`);
    },
  );

  it.each(['bytes=300000-', 'bytes=500000-600000'])('%s is unsatisfiable: 416 InvalidRange', async (range) => {
    const { b, key } = await fixture('range416');
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: key, Range: range })), 416, 'InvalidRange');
    const raw = await signedRequest(ep, { method: 'GET', path: objectPath(b, key), headers: { Range: range } });
    expectXmlError(raw, 416, 'InvalidRange');
  });

  it.each(['bytes=10-5', 'bytes=abc', 'items=0-5', 'bytes='])(
    'a syntactically invalid Range (%s) is ignored: 200 with the whole object',
    async (range) => {
      const { b, key, bytes } = await fixture('badrange');
      const raw = await signedRequest(ep, { method: 'GET', path: objectPath(b, key), headers: { Range: range } });
      expect(raw.status, raw.text().slice(0, 300)).toBe(200);
      expect(raw.headers['content-range']).toBeUndefined();
      expect(raw.body.equals(bytes)).toBe(true);
    },
  );

  it('HEAD with a Range answers 206 with the range length and Content-Range, and no body', async () => {
    const { b, key } = await fixture('headrange');
    const raw = await signedRequest(ep, {
      method: 'HEAD',
      path: objectPath(b, key),
      headers: { Range: 'bytes=10-19' },
    });
    expect(raw.status).toBe(206);
    expect(raw.headers['content-length']).toBe('10');
    expect(raw.headers['content-range']).toBe(`bytes 10-19/${SIZE}`);
    expect(raw.body.length).toBe(0);
  });

  it('a whole-object GET/HEAD with ChecksumMode ENABLED returns the stored CRC32', async () => {
    const { b, key, bytes, data } = await fixture('cksum');
    const out = await s3.send(new GetObjectCommand({ Bucket: b, Key: key, ChecksumMode: 'ENABLED' }));
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.ChecksumCRC32).toBe(data.crc32());
    expect((await bodyBytes(out)).equals(bytes)).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: key, ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32).toBe(data.crc32());
  });

  it('a 0-byte object reads back empty with the MD5 of nothing', async () => {
    const b = bucketName('empty');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'e', Body: Buffer.alloc(0) }));
    const out = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'e' }));
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.ContentLength).toBe(0);
    expect(out.ETag).toBe(`"${md5Hex('')}"`);
    expect((await bodyBytes(out)).length).toBe(0);
  });
});

describe('GetObject / HeadObject conditionals', () => {
  it('If-Match: matching ETag 200, other ETag 412 PreconditionFailed', async () => {
    const { b, key, bytes } = await fixture('ifmatch');
    const etag = `"${md5Hex(bytes)}"`;
    const ok = await s3.send(new GetObjectCommand({ Bucket: b, Key: key, IfMatch: etag }));
    expect(ok.$metadata.httpStatusCode).toBe(200);
    await bodyBytes(ok);
    await expectSdkError(
      s3.send(new GetObjectCommand({ Bucket: b, Key: key, IfMatch: '"0123456789abcdef0123456789abcdef"' })),
      412,
      'PreconditionFailed',
    );
    await expectSdkError(
      s3.send(new HeadObjectCommand({ Bucket: b, Key: key, IfMatch: '"0123456789abcdef0123456789abcdef"' })),
      412,
    );
  });

  it('If-None-Match: matching ETag 304 (no body), other ETag 200', async () => {
    const { b, key, bytes } = await fixture('ifnone');
    const etag = `"${md5Hex(bytes)}"`;
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: key, IfNoneMatch: etag })), 304);
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: b, Key: key, IfNoneMatch: etag })), 304);
    const raw = await signedRequest(ep, {
      method: 'GET',
      path: objectPath(b, key),
      headers: { 'If-None-Match': etag },
    });
    expect(raw.status).toBe(304);
    expect(raw.body.length).toBe(0);
    // The 304 carries the validators: a cache refreshes its copy from them.
    expect(raw.headers.etag).toBe(etag);
    expect(raw.headers['last-modified']).toMatch(/GMT$/);
    const ok = await s3.send(
      new GetObjectCommand({ Bucket: b, Key: key, IfNoneMatch: '"0123456789abcdef0123456789abcdef"' }),
    );
    expect(ok.$metadata.httpStatusCode).toBe(200);
    expect((await bodyBytes(ok)).equals(bytes)).toBe(true);
  });

  it('If-Modified-Since: at Last-Modified 304, an hour before 200', async () => {
    const { b, key } = await fixture('ims');
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: key }));
    const lm = head.LastModified!;
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: key, IfModifiedSince: lm })), 304);
    const ok = await s3.send(
      new GetObjectCommand({ Bucket: b, Key: key, IfModifiedSince: new Date(lm.getTime() - 3600_000) }),
    );
    expect(ok.$metadata.httpStatusCode).toBe(200);
    await bodyBytes(ok);
  });

  it('If-Match that holds beats a failing If-Unmodified-Since (200); If-None-Match that fails beats If-Modified-Since (304)', async () => {
    const { b, key, bytes } = await fixture('combo');
    const etag = `"${md5Hex(bytes)}"`;
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: key }));
    const lm = head.LastModified!;
    const ok = await s3.send(
      new GetObjectCommand({
        Bucket: b,
        Key: key,
        IfMatch: etag,
        IfUnmodifiedSince: new Date(lm.getTime() - 3600_000),
      }),
    );
    expect(ok.$metadata.httpStatusCode).toBe(200);
    await bodyBytes(ok);
    await expectSdkError(
      s3.send(
        new GetObjectCommand({
          Bucket: b,
          Key: key,
          IfNoneMatch: etag,
          IfModifiedSince: new Date(lm.getTime() - 3600_000),
        }),
      ),
      304,
    );
  });

  it('If-Match: * matches any existing object; If-None-Match: * is 304', async () => {
    const { b, key } = await fixture('star');
    const ok = await s3.send(new GetObjectCommand({ Bucket: b, Key: key, IfMatch: '*' }));
    expect(ok.$metadata.httpStatusCode).toBe(200);
    await bodyBytes(ok);
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: key, IfNoneMatch: '*' })), 304);
  });

  it('If-Unmodified-Since: an hour before Last-Modified 412, at Last-Modified 200', async () => {
    const { b, key } = await fixture('ius');
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: key }));
    const lm = head.LastModified!;
    await expectSdkError(
      s3.send(new GetObjectCommand({ Bucket: b, Key: key, IfUnmodifiedSince: new Date(lm.getTime() - 3600_000) })),
      412,
      'PreconditionFailed',
    );
    const ok = await s3.send(new GetObjectCommand({ Bucket: b, Key: key, IfUnmodifiedSince: lm }));
    expect(ok.$metadata.httpStatusCode).toBe(200);
    await bodyBytes(ok);
  });
});

describe('GetObject response-content-* overrides', () => {
  it('overrides Content-Type, -Disposition, -Language, -Encoding, Cache-Control and Expires in the response only', async () => {
    const { b, key, bytes } = await fixture('override');
    const expires = new Date('2030-01-02T03:04:05Z');
    const out = await s3.send(
      new GetObjectCommand({
        Bucket: b,
        Key: key,
        ResponseContentType: 'text/x-override',
        ResponseContentDisposition: 'attachment; filename="renamed.bin"',
        ResponseContentLanguage: 'de-CH',
        ResponseContentEncoding: 'identity',
        ResponseCacheControl: 'no-store',
        ResponseExpires: expires,
      }),
    );
    expect(out.ContentType).toBe('text/x-override');
    expect(out.ContentDisposition).toBe('attachment; filename="renamed.bin"');
    expect(out.ContentLanguage).toBe('de-CH');
    expect(out.ContentEncoding).toBe('identity');
    expect(out.CacheControl).toBe('no-store');
    expect(out.Expires?.getTime()).toBe(expires.getTime());
    expect((await bodyBytes(out)).equals(bytes)).toBe(true);
    // Stored headers are unchanged.
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: key }));
    expect(head.ContentType).toBe('application/x-fixture');
    expect(head.ContentDisposition).toBeUndefined();
  });
});

describe('HeadObject', () => {
  it('returns size, ETag, Last-Modified (RFC 1123), Content-Type, user metadata, Accept-Ranges and no body', async () => {
    const { b, key, bytes } = await fixture('head');
    const raw = await signedRequest(ep, { method: 'HEAD', path: objectPath(b, key) });
    expect(raw.status).toBe(200);
    expect(raw.body.length).toBe(0);
    expect(raw.headers['content-length']).toBe(String(bytes.length));
    expect(raw.headers['etag']).toBe(`"${md5Hex(bytes)}"`);
    expect(raw.headers['last-modified']).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(raw.headers['content-type']).toBe('application/x-fixture');
    expect(raw.headers['x-amz-meta-color']).toBe('blue');
    expect(raw.headers['accept-ranges']).toBe('bytes');
  });

  it('a missing key is 404 with no body; GET of it is 404 NoSuchKey with XML', async () => {
    const { b } = await fixture('head404');
    expectHeadError(await signedRequest(ep, { method: 'HEAD', path: objectPath(b, 'nope') }), 404);
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'nope' })), 404);
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'nope' })), 404, 'NoSuchKey');
    expectXmlError(await signedRequest(ep, { method: 'GET', path: objectPath(b, 'nope') }), 404, 'NoSuchKey');
  });

  it('GET in a missing bucket is 404 NoSuchBucket', async () => {
    await expectSdkError(
      s3.send(new GetObjectCommand({ Bucket: bucketName('nobucket'), Key: 'k' })),
      404,
      'NoSuchBucket',
    );
  });

  it('HeadObject with PartNumber=1 on a single-part object reports the whole object', async () => {
    const { b, key, bytes } = await fixture('headpart');
    const out = await s3.send(new HeadObjectCommand({ Bucket: b, Key: key, PartNumber: 1 }));
    expect(out.ContentLength).toBe(bytes.length);
  });
});

describe('read during overwrite', () => {
  it('a GET in progress on a single-part object completes with the old bytes when the object is overwritten meanwhile', async () => {
    const b = bucketName('readover');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const data = new SeededData('readover', 4 * 1024 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: data.bytes() }));
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    const it = (got.Body as Readable)[Symbol.asyncIterator]();
    const h = createHash('md5');
    let n = 0;
    while (n < 256 * 1024) {
      const r = (await it.next()) as IteratorResult<Buffer>;
      if (r.done) break;
      h.update(r.value);
      n += r.value.length;
    }
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.from('new') }));
    for (;;) {
      const r = (await it.next()) as IteratorResult<Buffer>;
      if (r.done) break;
      h.update(r.value);
      n += r.value.length;
    }
    expect(n).toBe(data.size);
    expect(h.digest('hex')).toBe(data.md5());
  });
});

describe('tamper detection', () => {
  it('a byte flipped in the middle of a 1 MiB object blob makes GET fail, never deliver a complete wrong body', async () => {
    const b = bucketName('tamper');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const before = new Set(await blobFiles(gw.dataDir));
    const data = new SeededData('tamper', 1024 * 1024);
    const bytes = data.bytes();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 't', Body: bytes }));
    const created = (await blobFiles(gw.dataDir)).filter((p) => !before.has(p));
    expect(created.length, 'exactly one new blob for the object').toBe(1);
    const fh = await open(created[0], 'r+');
    try {
      const { size } = await fh.stat();
      const pos = Math.floor(size / 2);
      const one = Buffer.alloc(1);
      await fh.read(one, 0, 1, pos);
      one[0] ^= 0x01;
      await fh.write(one, 0, 1, pos);
      await fh.sync();
    } finally {
      await fh.close();
    }

    const res = await signedRequest(ep, { method: 'GET', path: objectPath(b, 't') });
    const declared = Number(res.headers['content-length'] ?? NaN);
    const completeLooking =
      res.status === 200 && res.complete && res.body.length === bytes.length && declared === bytes.length;
    expect(
      completeLooking,
      `GET of a tampered blob delivered status ${res.status}, ${res.body.length} bytes, complete=${res.complete}`,
    ).toBe(false);
    // The first segments authenticate, so the 200 and its headers (the full
    // Content-Length) went out before the bad segment: the connection must die
    // short of Content-Length.
    expect(res.status).toBe(200);
    expect(declared).toBe(bytes.length);
    expect(res.complete).toBe(false);
    expect(res.body.length).toBeLessThan(bytes.length);
    // Whatever arrived before the failure is authentic plaintext.
    expect(res.body.equals(bytes.subarray(0, res.body.length))).toBe(true);
    // The SDK surfaces it as the connection reset while reading the body (the call itself resolved with the 200).
    const out = await s3.send(new GetObjectCommand({ Bucket: b, Key: 't' }));
    expect(out.$metadata.httpStatusCode).toBe(200);
    await expect(bodyBytes(out)).rejects.toMatchObject({ code: 'ECONNRESET', message: 'aborted' });
    // A range entirely inside an untouched segment still reads correctly.
    const first = await s3.send(new GetObjectCommand({ Bucket: b, Key: 't', Range: 'bytes=0-65535' }));
    expect((await bodyBytes(first)).equals(bytes.subarray(0, 65536))).toBe(true);
  });
});
