/**
 * Self-test of the raw request helper against the worked examples in the AWS
 * S3 SigV4 documentation ("Example: PUT Object" in sig-v4-header-based-auth and
 * "Example: PUT Object" in sigv4-streaming), so a streaming-test failure points
 * at the server, not at the hand-built chunk signatures. No server involved.
 */
import { describe, expect, it } from 'vitest';
import {
  buildStreamingRequest,
  chunkedBody,
  chunkedLength,
  signHeaders,
  signingKey,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  type RawEndpoint,
} from '../../helpers/rawS3.js';
import { SeededData } from '../../helpers/seeded.js';

const ep: RawEndpoint = {
  host: '127.0.0.1',
  port: 1,
  region: 'us-east-1',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const DATE = new Date('2013-05-24T00:00:00Z');

describe('rawS3 signer (AWS documentation vectors)', () => {
  it('header auth: PUT /test$file.text', () => {
    const s = signHeaders(ep, {
      method: 'PUT',
      path: '/test%24file.text',
      host: 'examplebucket.s3.amazonaws.com',
      date: DATE,
      body: 'Welcome to Amazon S3.',
      headers: { Date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-storage-class': 'REDUCED_REDUNDANCY' },
    });
    expect(s.headers['X-Amz-Content-Sha256']).toBe('44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072');
    expect(s.headers.Authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
    );
  });

  it('STREAMING-AWS4-HMAC-SHA256-PAYLOAD: seed, chunk and final signatures, Content-Length', () => {
    const data = Buffer.alloc(66560, 'a');
    const r = buildStreamingRequest(ep, {
      mode: STREAMING_SIGNED,
      path: '/examplebucket/chunkObject.txt',
      host: 's3.amazonaws.com',
      date: DATE,
      data,
      chunkSize: 65536,
      headers: { 'x-amz-storage-class': 'REDUCED_REDUNDANCY' },
    });
    expect(r.headers['Content-Length']).toBe('66824');
    expect(r.headers.Authorization).toContain(
      'SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class',
    );
    expect(r.seed).toBe('4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9');
    const body = Buffer.concat([...r.body]);
    expect(body.length).toBe(66824);
    const text = body.toString('latin1');
    expect(
      text.startsWith('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
    ).toBe(true);
    expect(text).toContain(
      '\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n',
    );
    expect(
      text.endsWith('\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
    ).toBe(true);
  });

  it('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: chunk signatures chained into the trailer signature', () => {
    const trailer = { name: 'x-amz-checksum-crc32c', value: 'sOO8/Q==' };
    const body = Buffer.concat([
      ...chunkedBody(
        { mode: STREAMING_SIGNED_TRAILER, data: Buffer.alloc(66560, 'a'), chunkSize: 65536 },
        {
          seed: '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e',
          key: signingKey(ep.secretAccessKey, '20130524', 'us-east-1'),
          amzDate: '20130524T000000Z',
          scope: '20130524/us-east-1/s3/aws4_request',
        },
        trailer,
      ),
    ]);
    expect(body.length).toBe(66946);
    expect(chunkedLength(STREAMING_SIGNED_TRAILER, 66560, 65536, trailer)).toBe(66946);
    const text = body.toString('latin1');
    expect(
      text.startsWith('10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n'),
    ).toBe(true);
    expect(text).toContain(
      '\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n',
    );
    expect(
      text.endsWith(
        '\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\nx-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n',
      ),
    ).toBe(true);
  });

  it.each([STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER] as const)(
    '%s: chunkedLength equals the bytes generated',
    (mode) => {
      for (const size of [0, 1, 65536, 65537, 200_000]) {
        const data = new SeededData(`len-${size}`, size);
        const r = buildStreamingRequest(ep, { mode, path: '/b/k', date: DATE, data, chunkSize: 65536 });
        const n = [...r.body].reduce((a, b) => a + b.length, 0);
        expect(n).toBe(Number(r.headers['Content-Length']));
        const trailer = mode === STREAMING_SIGNED ? undefined : { name: 'x-amz-checksum-crc32', value: data.crc32() };
        expect(chunkedLength(mode, size, 65536, trailer)).toBe(n);
      }
    },
  );

  it.each([STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER] as const)(
    '%s with omitTrailer: Content-Length equals the bytes generated',
    (mode) => {
      for (const size of [0, 70_000]) {
        const r = buildStreamingRequest(ep, {
          mode,
          path: '/b/k',
          date: DATE,
          data: new SeededData(`omit-${size}`, size),
          chunkSize: 65536,
          omitTrailer: true,
        });
        const body = Buffer.concat([...r.body]);
        expect(body.length).toBe(Number(r.headers['Content-Length']));
        expect(body.toString('latin1')).toMatch(/0(;chunk-signature=[0-9a-f]{64})?\r\n\r\n$/);
      }
    },
  );

  it('unsigned trailer framing: size lines, zero chunk, trailer, blank line', () => {
    const r = buildStreamingRequest(ep, {
      mode: STREAMING_UNSIGNED_TRAILER,
      path: '/b/k',
      date: DATE,
      data: Buffer.from('hello world'),
      chunkSize: 65536,
    });
    expect(Buffer.concat([...r.body]).toString()).toBe(
      'b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n',
    );
    expect(r.headers['X-Amz-Trailer']).toBe('x-amz-checksum-crc32');
    expect(r.headers['X-Amz-Content-Sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
  });
});
