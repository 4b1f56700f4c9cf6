/**
 * aws-chunked uploads built by hand (test/helpers/rawS3.ts) in the three
 * streaming modes: STREAMING-AWS4-HMAC-SHA256-PAYLOAD, ...-PAYLOAD-TRAILER and
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER. Round trips at the framing boundaries
 * (0 bytes, exactly one chunk, chunk + 1, many chunks), and every way a body can
 * be wrong: bad chunk signature, bad trailer signature, bad trailer checksum,
 * wrong decoded length, a body cut short. A failed upload stores nothing and
 * leaves no blob.
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  objectPath,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  signedRequest,
  streamingPut,
  type RawEndpoint,
  type StreamingMode,
} from '../../helpers/rawS3.js';
import { crc32Base64, md5Hex, md5OfStream, multipartEtag, SeededData } from '../../helpers/seeded.js';
import {
  bodyBytes,
  captureHeaders,
  countBlobs,
  createBucket,
  expectAbsent as expectS3Absent,
  expectBlobCount,
  expectXmlError,
  tmpFiles,
  useGateway,
} from '../../helpers/s3Test.js';
import type { TestGateway } from '../../helpers/startGateway.js';

const CHUNK = 64 * 1024;
const MODES: StreamingMode[] = [STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER];
const SIZES: Array<[string, number]> = [
  ['0 bytes', 0],
  ['exactly one chunk', CHUNK],
  ['one chunk + 1', CHUNK + 1],
  ['many chunks', 5 * CHUNK + 1234],
];

let gw: TestGateway;
let s3: S3Client;
let ep: RawEndpoint;
useGateway((t) => ({ gw, s3, ep } = t));

const newBucket = (prefix: string) => createBucket(s3, prefix);

const expectAbsent = (b: string, key: string) => expectS3Absent(s3, b, key);

describe.each(MODES)('%s round trips', (mode) => {
  it.each(SIZES)('%s', async (_label, size) => {
    const bucket = await newBucket('stream-rt');
    const key = `rt-${size}`;
    const data = new SeededData(`${mode}-${size}`, size);
    const res = await streamingPut(ep, {
      mode,
      path: objectPath(bucket, key),
      data,
      chunkSize: CHUNK,
      headers: { 'Content-Type': 'application/x-chunked', 'x-amz-meta-mode': mode },
    });
    expect(res.status, res.text()).toBe(200);
    expect(res.headers['etag']).toBe(`"${data.md5()}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    expect(head.ContentLength).toBe(size);
    expect(head.ContentType).toBe('application/x-chunked');
    expect(head.ContentEncoding ?? '').not.toMatch(/aws-chunked/);
    expect(head.Metadata).toEqual({ mode });
    if (mode !== STREAMING_SIGNED) expect(head.ChecksumCRC32, 'the trailer checksum is stored').toBe(data.crc32());
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = await bodyBytes(got);
    expect(bytes.length).toBe(size);
    expect(md5Hex(bytes)).toBe(data.md5());
  });
});

describe('streaming framing variants', () => {
  it('many small 8 KiB chunks (signed)', async () => {
    const b = await newBucket('stream-small');
    const data = new SeededData('small-chunks', 100 * 1024 + 5);
    const res = await streamingPut(ep, { mode: STREAMING_SIGNED, path: objectPath(b, 'k'), data, chunkSize: 8192 });
    expect(res.status, res.text()).toBe(200);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    expect(md5Hex(await bodyBytes(got))).toBe(data.md5());
  });

  it('one 17 MiB chunk: no small per-chunk limit (signed, streamed, never buffered)', async () => {
    const b = await newBucket('stream-bigchunk');
    const data = new SeededData('big-chunk', 17 * 1024 * 1024);
    const res = await streamingPut(ep, {
      mode: STREAMING_SIGNED,
      path: objectPath(b, 'k'),
      data,
      chunkSize: data.size,
    });
    expect(res.status, res.text()).toBe(200);
    expect(res.headers['etag']).toBe(`"${data.md5()}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    const { md5, size } = await md5OfStream(got.Body as Readable);
    expect(size).toBe(data.size);
    expect(md5).toBe(data.md5());
  });

  it('Transfer-Encoding: chunked without Content-Length (as the JS SDK sends it), unsigned trailer', async () => {
    const b = await newBucket('stream-te');
    const data = new SeededData('te-chunked', 3 * CHUNK + 17);
    const res = await streamingPut(ep, {
      mode: STREAMING_UNSIGNED_TRAILER,
      path: objectPath(b, 'k'),
      data,
      chunkSize: CHUNK,
      transferEncodingChunked: true,
    });
    expect(res.status, res.text()).toBe(200);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    expect(md5Hex(await bodyBytes(got))).toBe(data.md5());
  });

  it('Content-Encoding "aws-chunked,gzip" stores gzip only', async () => {
    const b = await newBucket('stream-ce');
    const data = new SeededData('ce', 1000);
    const res = await streamingPut(ep, {
      mode: STREAMING_SIGNED,
      path: objectPath(b, 'k'),
      data,
      chunkSize: CHUNK,
      headers: { 'Content-Encoding': 'gzip' },
    });
    expect(res.status, res.text()).toBe(200);
    const cap = captureHeaders(new HeadObjectCommand({ Bucket: b, Key: 'k' }));
    await s3.send(cap.cmd);
    expect(cap.headers()['content-encoding']).toBe('gzip');
  });

  it('the signed-trailer mode also accepts a CRC32 trailer for a payload under one chunk', async () => {
    const b = await newBucket('stream-tiny');
    const data = Buffer.from('tiny payload');
    const res = await streamingPut(ep, {
      mode: STREAMING_SIGNED_TRAILER,
      path: objectPath(b, 'k'),
      data,
      chunkSize: CHUNK,
    });
    expect(res.status, res.text()).toBe(200);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32).toBe(crc32Base64(data));
  });

  it('UploadPart with an aws-chunked signed body; the part ETag is its MD5', async () => {
    const b = await newBucket('stream-part');
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp' }));
    const p1 = new SeededData('sp-1', 5 * 1024 * 1024);
    const p2 = new SeededData('sp-2', 999);
    const etags: string[] = [];
    for (const [n, d, mode] of [
      [1, p1, STREAMING_SIGNED],
      [2, p2, STREAMING_UNSIGNED_TRAILER],
    ] as const) {
      const res = await streamingPut(ep, {
        mode,
        path: objectPath(b, 'mp', `partNumber=${n}&uploadId=${encodeURIComponent(up.UploadId!)}`),
        data: d,
        chunkSize: CHUNK,
      });
      expect(res.status, res.text()).toBe(200);
      expect(res.headers['etag']).toBe(`"${d.md5()}"`);
      etags.push(String(res.headers['etag']));
    }
    const out = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'mp',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) },
      }),
    );
    expect(out.ETag).toBe(`"${multipartEtag([p1.md5(), p2.md5()])}"`);
  });
});

describe('streaming failures store nothing', () => {
  const data = new SeededData('fail', 4 * CHUNK + 100);

  it.each([
    ['the first chunk', 0],
    ['a middle chunk', 2],
    ['the final zero-size chunk', 5],
  ])('a bad signature on %s is 403 SignatureDoesNotMatch', async (_l, at) => {
    const b = await newBucket('stream-badsig');
    const before = await countBlobs(gw.dataDir);
    const res = await streamingPut(ep, {
      mode: STREAMING_SIGNED,
      path: objectPath(b, 'k'),
      data,
      chunkSize: CHUNK,
      badChunkSignatureAt: at,
    });
    expectXmlError(res, 403, 'SignatureDoesNotMatch');
    await expectAbsent(b, 'k');
    await expectBlobCount(gw.dataDir, before, 'blobs after a rejected chunk signature');
  });

  it('a bad chunk signature in signed-trailer mode is 403 and stores nothing', async () => {
    const b = await newBucket('stream-badsig-t');
    const before = await countBlobs(gw.dataDir);
    const res = await streamingPut(ep, {
      mode: STREAMING_SIGNED_TRAILER,
      path: objectPath(b, 'k'),
      data,
      chunkSize: CHUNK,
      badChunkSignatureAt: 1,
    });
    expectXmlError(res, 403, 'SignatureDoesNotMatch');
    await expectAbsent(b, 'k');
    await expectBlobCount(gw.dataDir, before);
  });

  it('a bad trailer signature is 403 SignatureDoesNotMatch', async () => {
    const b = await newBucket('stream-badtsig');
    const before = await countBlobs(gw.dataDir);
    const res = await streamingPut(ep, {
      mode: STREAMING_SIGNED_TRAILER,
      path: objectPath(b, 'k'),
      data,
      chunkSize: CHUNK,
      badTrailerSignature: true,
    });
    expectXmlError(res, 403, 'SignatureDoesNotMatch');
    await expectAbsent(b, 'k');
    await expectBlobCount(gw.dataDir, before);
  });

  it.each([STREAMING_UNSIGNED_TRAILER, STREAMING_SIGNED_TRAILER] as const)(
    'a wrong trailer checksum (%s) is 400 and stores nothing',
    async (mode) => {
      const b = await newBucket('stream-badcrc');
      const before = await countBlobs(gw.dataDir);
      const res = await streamingPut(ep, {
        mode,
        path: objectPath(b, 'k'),
        data,
        chunkSize: CHUNK,
        trailer: { name: 'x-amz-checksum-crc32', value: crc32Base64('something else') },
      });
      expectXmlError(res, 400);
      await expectAbsent(b, 'k');
      await expectBlobCount(gw.dataDir, before);
    },
  );

  it('an x-amz-decoded-content-length larger than the data is 400 and stores nothing', async () => {
    const b = await newBucket('stream-declong');
    const before = await countBlobs(gw.dataDir);
    const res = await streamingPut(ep, {
      mode: STREAMING_SIGNED,
      path: objectPath(b, 'k'),
      data,
      chunkSize: CHUNK,
      declaredDecodedLength: data.size + 10,
    });
    expectXmlError(res, 400);
    await expectAbsent(b, 'k');
    await expectBlobCount(gw.dataDir, before);
  });

  it('an x-amz-decoded-content-length smaller than the data is 400 and stores nothing', async () => {
    const b = await newBucket('stream-decshort');
    const before = await countBlobs(gw.dataDir);
    const res = await streamingPut(ep, {
      mode: STREAMING_UNSIGNED_TRAILER,
      path: objectPath(b, 'k'),
      data,
      chunkSize: CHUNK,
      declaredDecodedLength: data.size - 10,
    });
    expectXmlError(res, 400);
    await expectAbsent(b, 'k');
    await expectBlobCount(gw.dataDir, before);
  });

  it.each(MODES)(
    'a body cut short (socket closed mid-upload, %s) stores nothing, keeps the old object, leaves no blob or temp file',
    async (mode) => {
      const b = await newBucket('stream-cut');
      const old = Buffer.from('the previous version');
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: old }));
      const before = await countBlobs(gw.dataDir);
      const tmpBefore = (await tmpFiles(gw.dataDir)).length;
      const res = await streamingPut(ep, {
        mode,
        path: objectPath(b, 'k'),
        data,
        chunkSize: CHUNK,
        abortAfterBytes: 2 * CHUNK + 50,
      });
      expect(res.status, 'no response to an aborted upload').toBe(0);
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline && (await tmpFiles(gw.dataDir)).length > tmpBefore)
        await new Promise((r) => setTimeout(r, 50));
      const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
      expect((await bodyBytes(got)).equals(old)).toBe(true);
      await expectBlobCount(gw.dataDir, before, 'blobs after an aborted streaming upload');
      expect((await tmpFiles(gw.dataDir)).length, 'temp files after an aborted upload').toBe(tmpBefore);
    },
  );

  it('a trailer whose name differs from the declared x-amz-trailer is 400 and stores nothing', async () => {
    const b = await newBucket('stream-trname');
    const before = await countBlobs(gw.dataDir);
    const res = await streamingPut(ep, {
      mode: STREAMING_UNSIGNED_TRAILER,
      path: objectPath(b, 'k'),
      data,
      chunkSize: CHUNK,
      declaredTrailerName: 'x-amz-checksum-sha256',
    });
    expectXmlError(res, 400);
    await expectAbsent(b, 'k');
    await expectBlobCount(gw.dataDir, before);
  });

  it.each([STREAMING_UNSIGNED_TRAILER, STREAMING_SIGNED_TRAILER] as const)(
    'a declared trailer that never comes (%s) is 400 and stores nothing',
    async (mode) => {
      const b = await newBucket('stream-notrailer');
      const before = await countBlobs(gw.dataDir);
      const res = await streamingPut(ep, { mode, path: objectPath(b, 'k'), data, chunkSize: CHUNK, omitTrailer: true });
      expectXmlError(res, 400);
      await expectAbsent(b, 'k');
      await expectBlobCount(gw.dataDir, before);
    },
  );
});

describe('hostile aws-chunked framing fails fast with 4xx and stores nothing', () => {
  const headersFor = (decoded: number) => ({
    'Content-Encoding': 'aws-chunked',
    'X-Amz-Decoded-Content-Length': String(decoded),
    'X-Amz-Trailer': 'x-amz-checksum-crc32',
  });
  const ten = Buffer.from('0123456789');
  const trailerBlock = `0\r\nx-amz-checksum-crc32:${crc32Base64(ten)}\r\n\r\n`;
  const cases: Array<[string, Buffer]> = [
    ['a 5000-character size line with no CRLF', Buffer.from('a'.repeat(5000))],
    ['a size that is not hex', Buffer.from(`zz\r\n${ten.toString()}\r\n${trailerBlock}`)],
    ['a chunk shorter than its declared size', Buffer.from(`100\r\n${ten.toString()}\r\n${trailerBlock}`)],
    [
      'chunks longer than x-amz-decoded-content-length',
      Buffer.from(`a\r\n${ten.toString()}\r\na\r\n${ten.toString()}\r\n${trailerBlock}`),
    ],
    ['no final zero-size chunk', Buffer.from(`a\r\n${ten.toString()}\r\n`)],
    ['data not followed by CRLF', Buffer.from(`a\r\n${ten.toString()}XX${trailerBlock}`)],
    ['a negative size', Buffer.from(`-a\r\n${ten.toString()}\r\n${trailerBlock}`)],
  ];

  it.each(cases)('%s', async (_l, body) => {
    const b = await newBucket('stream-hostile');
    const before = await countBlobs(gw.dataDir);
    const t0 = Date.now();
    const res = await signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b, 'k'),
      body,
      payloadHash: STREAMING_UNSIGNED_TRAILER,
      headers: headersFor(10),
      timeoutMs: 15_000,
    });
    expect(Date.now() - t0, 'answered without waiting for a timeout').toBeLessThan(10_000);
    expect(res.status, res.text()).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expectXmlError(res, res.status);
    await expectAbsent(b, 'k');
    await expectBlobCount(gw.dataDir, before);
  });

  it('no x-amz-decoded-content-length in a streaming mode is a 4xx and stores nothing', async () => {
    const b = await newBucket('stream-nolen');
    const before = await countBlobs(gw.dataDir);
    const body = Buffer.from(`a\r\n${ten.toString()}\r\n${trailerBlock}`);
    const res = await signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b, 'k'),
      body,
      payloadHash: STREAMING_UNSIGNED_TRAILER,
      headers: { 'Content-Encoding': 'aws-chunked', 'X-Amz-Trailer': 'x-amz-checksum-crc32' },
    });
    expect(res.status, res.text()).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expectXmlError(res, res.status);
    await expectAbsent(b, 'k');
    await expectBlobCount(gw.dataDir, before);
  });

  it('x-amz-trailer together with an x-amz-checksum-* header is 400 and stores nothing', async () => {
    const b = await newBucket('stream-both');
    const before = await countBlobs(gw.dataDir);
    const body = Buffer.from(`a\r\n${ten.toString()}\r\n${trailerBlock}`);
    const res = await signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b, 'k'),
      body,
      payloadHash: STREAMING_UNSIGNED_TRAILER,
      headers: { ...headersFor(10), 'x-amz-checksum-crc32': crc32Base64(ten) },
    });
    expectXmlError(res, 400);
    await expectAbsent(b, 'k');
    await expectBlobCount(gw.dataDir, before);
  });

  it('the same framing done right is accepted (control)', async () => {
    const b = await newBucket('stream-hostile-ok');
    const body = Buffer.from(`a\r\n${ten.toString()}\r\n${trailerBlock}`);
    const res = await signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b, 'k'),
      body,
      payloadHash: STREAMING_UNSIGNED_TRAILER,
      headers: headersFor(10),
    });
    expect(res.status, res.text()).toBe(200);
    expect(res.headers['etag']).toBe(`"${md5Hex(ten)}"`);
  });
});

describe('clients that omit Content-Encoding: aws-chunked', () => {
  it.each(MODES)(
    '%s without Content-Encoding: accepted with the decoded bytes, or refused; never stored with its framing',
    async (mode) => {
      const b = await newBucket('stream-noce');
      const data2 = new SeededData(`noce-${mode}`, CHUNK + 99);
      const res = await streamingPut(ep, {
        mode,
        path: objectPath(b, 'k'),
        data: data2,
        chunkSize: CHUNK,
        omitContentEncoding: true,
      });
      if (res.status === 200) {
        const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
        const bytes = await bodyBytes(got);
        expect(bytes.length, 'stored size').toBe(data2.size);
        expect(md5Hex(bytes)).toBe(data2.md5());
      } else {
        expectXmlError(res, res.status);
        expect(res.status).toBeLessThan(500);
        await expectAbsent(b, 'k');
      }
    },
  );
});
