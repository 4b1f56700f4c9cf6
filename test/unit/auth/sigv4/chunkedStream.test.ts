import { describe, expect, it } from 'vitest';
import { StaticCredentialStore } from '../../../../src/auth/credentials.js';
import { createBodyDecoder } from '../../../../src/auth/sigv4/bodyDecoder.js';
import { SigV4Error, type SigV4ErrorCode } from '../../../../src/auth/sigv4/errors.js';
import { verifySigV4, type PayloadMode } from '../../../../src/auth/sigv4/verify.js';
import { CHECKSUM_ALGORITHMS, checksumHeaderName, createChecksum } from '../../../../src/util/checksums.js';
import { authFor, bytes, frame, run, session, splitAt, type FrameOptions, type Session } from './chunkedFixtures.js';
import { opts } from './signers.js';
import { headerMap, s3Examples } from './vectors.js';

const S = session();
const crc32 = (data: Buffer): string => {
  const c = createChecksum('CRC32');
  c.update(data);
  return c.digest().toString('base64');
};

type StreamingMode = Extract<PayloadMode, `streaming-${string}`>;
const MODES: StreamingMode[] = ['streaming-signed', 'streaming-signed-trailer', 'streaming-unsigned-trailer'];

/** A framed body and a decoder for it, in the given mode (CRC32 trailer in trailer modes). */
function fixture(mode: StreamingMode, chunks: Buffer[], over: Partial<FrameOptions> & { decodedLength?: number } = {}) {
  const data = Buffer.concat(chunks);
  const signed = mode !== 'streaming-unsigned-trailer';
  const trailer = mode !== 'streaming-signed';
  const body = frame(chunks, {
    ...(signed ? { signing: S } : {}),
    ...(trailer ? { trailers: [['x-amz-checksum-crc32', crc32(data)]], signTrailers: signed } : {}),
    ...over,
  });
  const decoder = () =>
    createBodyDecoder(authFor(S, mode), {
      'x-amz-decoded-content-length': String(over.decodedLength ?? data.length),
      ...(trailer ? { 'x-amz-trailer': 'x-amz-checksum-crc32' } : {}),
    });
  return { data, body, decoder };
}

async function expectError(p: Promise<{ error?: Error; ended: boolean }>, code: SigV4ErrorCode): Promise<void> {
  const r = await p;
  expect(r.error).toBeInstanceOf(SigV4Error);
  expect((r.error as SigV4Error).code).toBe(code);
  expect(r.ended).toBe(false);
}

describe('aws-chunked: the AWS documented example', () => {
  const ex = s3Examples();
  const st = ex.streaming;
  const chunks = st.chunks.filter((c) => c.size > 0).map((c) => Buffer.alloc(c.size, c.byte));
  const seedReq = ex.requests.find((r) => r.name.startsWith('Streaming PUT'));

  it('verifies the seed request, then every documented chunk signature', async () => {
    if (!seedReq) throw new Error('fixture missing');
    const headers = headerMap(seedReq.headers);
    const store = new StaticCredentialStore([
      { ...ex.credentials, principal: { accountId: 'a', accessKeyId: ex.credentials.accessKeyId, displayName: 'd' } },
    ]);
    const auth = await verifySigV4(
      { method: 'PUT', rawPath: seedReq.rawPath, rawQuery: '', headers },
      store,
      opts({ region: 'us-east-1', now: new Date(ex.now) }),
    );
    expect(auth.signature).toBe(st.seedSignature);
    const body = Buffer.concat([
      ...st.chunks.flatMap((c, i) => [
        Buffer.from(`${c.size.toString(16)};chunk-signature=${c.signature}\r\n`),
        ...(i < 2 ? [chunks[i], Buffer.from('\r\n')] : []),
      ]),
      Buffer.from('\r\n'),
    ]);
    expect(body.length).toBe(Number(headers['content-length']));
    const d = createBodyDecoder(auth, headers);
    expect(d.expectedLength).toBe(66560);
    const r = await run(d.stream, splitAt(body, 7, 65_600, 65_601));
    expect(r.error).toBeUndefined();
    expect(r.output.equals(Buffer.alloc(66560, 'a'))).toBe(true);
    expect(d.result()).toEqual({ trailers: {}, decodedLength: 66560 });
  });

  it('verifies the aws-crt trailer signature chained from the final chunk', async () => {
    const s: Session = {
      ...session('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'us-east-1', '20130524T000000Z'),
      seed: st.seedSignature,
    };
    const trailerLines = st.trailers.map(([n, v]) => `${n}:${v}\r\n`).join('');
    const body = Buffer.concat([
      ...st.chunks.flatMap((c, i) => [
        Buffer.from(`${c.size.toString(16)};chunk-signature=${c.signature}\r\n`),
        ...(i < 2 ? [chunks[i], Buffer.from('\r\n')] : []),
      ]),
      Buffer.from(`${trailerLines}x-amz-trailer-signature:${st.trailerSignature}\r\n\r\n`),
    ]);
    const d = createBodyDecoder(authFor(s, 'streaming-signed-trailer'), {
      'x-amz-decoded-content-length': '66560',
      'x-amz-trailer': 'first,second,third',
    });
    const r = await run(d.stream, [body]);
    expect(r.error).toBeUndefined();
    expect(d.result().trailers).toEqual({ first: '1st', second: '2nd', third: '3rd' });
  });
});

describe.each(MODES)('aws-chunked %s', (mode) => {
  it.each([
    ['0-byte body', []],
    ['exactly one chunk', [bytes(64)]],
    ['chunk + 1', [bytes(64), bytes(1, 2)]],
    ['many chunks', Array.from({ length: 40 }, (_v, i) => bytes(1 + ((i * 37) % 300), i + 1))],
  ] as Array<[string, Buffer[]]>)('%s', async (_n, chunks) => {
    const f = fixture(mode, chunks);
    const d = f.decoder();
    const r = await run(d.stream, [f.body]);
    expect(r.error).toBeUndefined();
    expect(r.output.equals(f.data)).toBe(true);
    expect(d.result().decodedLength).toBe(f.data.length);
    if (mode !== 'streaming-signed') expect(d.result().trailers).toEqual({ 'x-amz-checksum-crc32': crc32(f.data) });
  });

  it('decodes the same whatever the input split (every byte position, and byte by byte)', async () => {
    const f = fixture(mode, [bytes(5, 3), bytes(17, 4)]);
    for (let cut = 0; cut <= f.body.length; cut++) {
      const r = await run(f.decoder().stream, splitAt(f.body, cut));
      expect(r.error, `cut at ${cut}`).toBeUndefined();
      expect(r.output.equals(f.data), `cut at ${cut}`).toBe(true);
    }
    const single = await run(
      f.decoder().stream,
      [...f.body].map((b) => Buffer.from([b])),
    );
    expect(single.output.equals(f.data)).toBe(true);
  });

  it('passes a large chunk through as it arrives, without waiting for its end', async () => {
    const big = bytes(4 << 20, 9);
    const f = fixture(mode, [big]);
    const d = f.decoder();
    let seen = 0;
    d.stream.on('data', (c: Buffer) => {
      seen += c.length;
    });
    const half = f.body.indexOf(0x0a) + 1 + (1 << 20);
    d.stream.write(f.body.subarray(0, half));
    await new Promise((r) => setImmediate(r));
    expect(seen).toBeGreaterThanOrEqual(1 << 20);
    const done = new Promise<void>((resolve, reject) => {
      d.stream.on('end', resolve);
      d.stream.on('error', reject);
    });
    d.stream.end(f.body.subarray(half));
    await done;
    expect(seen).toBe(big.length);
  });

  it.each([
    ['ends mid-chunk', (b: Buffer) => b.subarray(0, 20)],
    ['ends inside the CRLF after data', (b: Buffer) => b.subarray(0, b.indexOf('\r\n', b.indexOf(0x0a) + 1 + 8) + 1)],
    ['ends before the zero chunk', (b: Buffer) => b.subarray(0, b.lastIndexOf(Buffer.from('\r\n0')) + 2)],
    ['ends inside the zero-chunk size line', (b: Buffer) => b.subarray(0, b.lastIndexOf(Buffer.from('\r\n0')) + 3)],
  ])('truncated body (%s) -> IncompleteBody', async (_n, cut) => {
    const f = fixture(mode, [bytes(8), bytes(8, 5)]);
    await expectError(run(f.decoder().stream, [cut(f.body)]), 'IncompleteBody');
  });

  it('a body longer than x-amz-decoded-content-length -> IncompleteBody', async () => {
    const f = fixture(mode, [bytes(8), bytes(8, 5)], { decodedLength: 15 });
    await expectError(run(f.decoder().stream, [f.body]), 'IncompleteBody');
  });

  it('a body shorter than x-amz-decoded-content-length -> IncompleteBody', async () => {
    const f = fixture(mode, [bytes(8)], { decodedLength: 9 });
    await expectError(run(f.decoder().stream, [f.body]), 'IncompleteBody');
  });

  it('bytes after the end of the body -> an error', async () => {
    const f = fixture(mode, [bytes(8)]);
    const r = await run(f.decoder().stream, [f.body, Buffer.from('x')]);
    expect(r.error).toBeInstanceOf(SigV4Error);
  });

  it.each([['zz'], ['-1'], ['0x10'], [' '], ['1'.repeat(17)], ['fffffffffffffff0']])(
    'garbage size "%s" -> InvalidChunkSizeError',
    async (size) => {
      const f = fixture(mode, []);
      await expectError(
        run(f.decoder().stream, [Buffer.from(`${size};chunk-signature=${'0'.repeat(64)}\r\n`)]),
        'InvalidChunkSizeError',
      );
    },
  );

  it('an endless chunk-header line -> InvalidChunkSizeError, not a hang', async () => {
    const f = fixture(mode, []);
    await expectError(run(f.decoder().stream, [Buffer.alloc(5000, '1')]), 'InvalidChunkSizeError');
  });
});

describe('aws-chunked signatures', () => {
  it.each([0, 1, 2])('a bad signature on chunk %i -> SignatureDoesNotMatch', async (i) => {
    const f = fixture('streaming-signed', [bytes(10), bytes(10, 2)], { badChunkSignature: i });
    await expectError(run(f.decoder().stream, [f.body]), 'SignatureDoesNotMatch');
  });

  it('changed chunk data -> SignatureDoesNotMatch', async () => {
    const f = fixture('streaming-signed', [bytes(10)]);
    const body = Buffer.from(f.body);
    body[body.indexOf(0x0a) + 3] ^= 1;
    await expectError(run(f.decoder().stream, [body]), 'SignatureDoesNotMatch');
  });

  it('a signed chunk without chunk-signature -> SignatureDoesNotMatch', async () => {
    const f = fixture('streaming-unsigned-trailer', [bytes(10)]);
    const d = createBodyDecoder(authFor(S, 'streaming-signed'), { 'x-amz-decoded-content-length': '10' });
    await expectError(run(d.stream, [f.body]), 'SignatureDoesNotMatch');
  });

  it('a bad trailer signature -> SignatureDoesNotMatch', async () => {
    const f = fixture('streaming-signed-trailer', [bytes(10)]);
    const body = Buffer.from(
      f.body
        .toString('latin1')
        .replace(/x-amz-trailer-signature:(.)/, (_m, c: string) => `x-amz-trailer-signature:${c === 'a' ? 'b' : 'a'}`),
      'latin1',
    );
    await expectError(run(f.decoder().stream, [body]), 'SignatureDoesNotMatch');
  });

  it('a changed trailer value under a valid-looking signature -> SignatureDoesNotMatch', async () => {
    const f = fixture('streaming-signed-trailer', [bytes(10)]);
    const body = Buffer.from(f.body.toString('latin1').replace(crc32(bytes(10)), 'AAAAAA=='), 'latin1');
    await expectError(run(f.decoder().stream, [body]), 'SignatureDoesNotMatch');
  });

  it('a signed trailer without x-amz-trailer-signature -> MalformedTrailerError', async () => {
    const f = fixture('streaming-signed-trailer', [bytes(10)], { signTrailers: false });
    await expectError(run(f.decoder().stream, [f.body]), 'MalformedTrailerError');
  });
});

describe('aws-chunked trailers', () => {
  it.each([
    ['CRLF endings and final CRLF', {}],
    ['no final CRLF', { noFinalCrlf: true }],
    ['bare LF endings', { trailerEol: '\n' }],
    ['an extra LF after the value (seen from some clients)', { trailerEol: '\n\r\n' }],
  ] as Array<[string, Partial<FrameOptions>]>)('accepts %s', async (_n, over) => {
    for (const mode of ['streaming-signed-trailer', 'streaming-unsigned-trailer'] as const) {
      const f = fixture(mode, [bytes(33)], over);
      const d = f.decoder();
      const r = await run(d.stream, [f.body]);
      expect(r.error, mode).toBeUndefined();
      expect(d.result().trailers['x-amz-checksum-crc32']).toBe(crc32(f.data));
    }
  });

  it('a trailer checksum that does not match the data -> XAmzContentChecksumMismatch', async () => {
    for (const mode of ['streaming-signed-trailer', 'streaming-unsigned-trailer'] as const) {
      const f = fixture(mode, [bytes(10)], { trailers: [['x-amz-checksum-crc32', crc32(bytes(11))]] });
      const r = await run(f.decoder().stream, [f.body]);
      expect((r.error as SigV4Error).code).toBe('XAmzContentChecksumMismatch');
      expect(r.ended).toBe(false);
    }
  });

  it.each([...CHECKSUM_ALGORITHMS])('verifies a %s trailer', async (a) => {
    const data = bytes(1000, 7);
    const sum = createChecksum(a);
    sum.update(data);
    const name = checksumHeaderName(a);
    const body = frame([data.subarray(0, 600), data.subarray(600)], {
      trailers: [[name, sum.digest().toString('base64')]],
    });
    const d = createBodyDecoder(authFor(S, 'streaming-unsigned-trailer'), {
      'x-amz-decoded-content-length': '1000',
      'x-amz-trailer': name.toUpperCase(),
    });
    expect((await run(d.stream, [body])).error).toBeUndefined();
    const wrong = frame([data], { trailers: [[name, createChecksum(a).digest().toString('base64')]] });
    const d2 = createBodyDecoder(authFor(S, 'streaming-unsigned-trailer'), {
      'x-amz-decoded-content-length': '1000',
      'x-amz-trailer': name,
    });
    await expectError(run(d2.stream, [wrong]), 'XAmzContentChecksumMismatch');
  });

  it('an announced trailer that never comes -> MalformedTrailerError', async () => {
    const f = fixture('streaming-unsigned-trailer', [bytes(10)], { trailers: [] });
    await expectError(run(f.decoder().stream, [f.body]), 'MalformedTrailerError');
  });

  it('a trailer that was not announced -> MalformedTrailerError', async () => {
    const f = fixture('streaming-unsigned-trailer', [bytes(10)], {
      trailers: [
        ['x-amz-checksum-crc32', crc32(bytes(10))],
        ['x-amz-checksum-sha1', 'AAAA'],
      ],
    });
    await expectError(run(f.decoder().stream, [f.body]), 'MalformedTrailerError');
  });

  it('a trailer line without ":" -> MalformedTrailerError', async () => {
    const f = fixture('streaming-unsigned-trailer', [bytes(10)], { trailers: [] });
    const body = Buffer.concat([f.body.subarray(0, f.body.length - 2), Buffer.from('garbage\r\n\r\n')]);
    await expectError(run(f.decoder().stream, [body]), 'MalformedTrailerError');
  });

  it('an unsigned stream with x-amz-trailer-signature -> MalformedTrailerError', async () => {
    const f = fixture('streaming-unsigned-trailer', [bytes(10)]);
    const body = Buffer.concat([
      f.body.subarray(0, f.body.length - 2),
      Buffer.from(`x-amz-trailer-signature:${'0'.repeat(64)}\r\n\r\n`),
    ]);
    await expectError(run(f.decoder().stream, [body]), 'MalformedTrailerError');
  });
});
