import { describe, expect, it } from 'vitest';
import { segmentSpan, type SegmentSpan } from '../../../src/crypto/format.js';
import { createDecryptor } from '../../../src/crypto/streamDecryptor.js';
import { createEncryptor, type StreamBinding } from '../../../src/crypto/streamEncryptor.js';
import { chunked, hex, loadVectors, prng, randomChunks, run } from './helpers.js';

const vectors = loadVectors();
const dek = hex(vectors.dek);
const binding: StreamBinding = { bucketUid: 'b-range', dataId: 'd-range' };

interface Written {
  blob: Buffer;
  headerDigest: Buffer;
}

async function write(pt: Buffer, segmentLog2: number): Promise<Written> {
  const enc = createEncryptor({ dek, binding, segmentLog2 });
  const blob = await run(enc.stream, [pt]);
  return { blob, headerDigest: enc.headerDigest };
}

/** Decrypt plaintext [start, end] by feeding exactly the span's ciphertext, cut into `chunks`. */
function readRange(
  w: Written,
  plainSize: number,
  span: SegmentSpan,
  chunker: (b: Buffer) => Buffer[],
): Promise<Buffer> {
  const dec = createDecryptor({
    dek,
    binding,
    header: w.blob.subarray(0, 64),
    expectedHeaderDigest: w.headerDigest,
    plainSize,
    span,
  });
  return run(dec, chunker(w.blob.subarray(span.cipherStart, span.cipherEnd + 1)));
}

describe('createDecryptor: known answers (Python vectors)', () => {
  it.each(vectors.streams.map((v) => [v.name, v] as const))('decrypts %s', async (_n, v) => {
    const blob = hex(v.blob);
    const size = v.plaintext.length / 2;
    const span = segmentSpan(size, v.segmentLog2, 0, size - 1);
    expect(span.cipherEnd).toBe(blob.length - 1);
    const dec = createDecryptor({
      dek,
      binding: { bucketUid: v.bucketUid, dataId: v.dataId, uploadId: v.uploadId, partNumber: v.partNumber },
      header: blob.subarray(0, 64),
      expectedHeaderDigest: hex(v.headerDigest),
      plainSize: size,
      span,
    });
    expect((await run(dec, chunked(blob.subarray(span.cipherStart), [333]))).toString('hex')).toBe(v.plaintext);
  });
});

describe('createDecryptor: range decryption', () => {
  const rnd = prng(20240601);
  const S = 4096;
  const sizes = [0, 1, S - 1, S, S + 1, 2 * S, 3 * S, ...Array.from({ length: 20 }, () => rnd.int(6 * S))];

  function rangesFor(size: number): [number, number][] {
    if (size === 0) return [[0, -1]];
    const r: [number, number][] = [
      [0, size - 1],
      [size - 1, size - 1], // last byte
      [0, 0],
      [Math.max(0, size - 500), size - 1], // suffix-like ("bytes=-500")
      [Math.max(0, size - 1 - S), size - 1],
    ];
    for (let b = S; b < size; b += S) {
      r.push([b, size - 1], [b - 1, b], [b, Math.min(size - 1, b + S - 1)], [b - S, b - 1]); // on and across boundaries
    }
    for (let i = 0; i < 20; i++) {
      const a = rnd.int(size);
      r.push([a, a + rnd.int(size - a)]);
    }
    return r;
  }

  it.each(sizes)('gives exactly plaintext.slice(start, end + 1) for every range (size %i)', async (size) => {
    const pt = rnd.bytes(size);
    const w = await write(pt, 12);
    for (const [start, end] of rangesFor(size)) {
      const span = segmentSpan(size, 12, start, end);
      const out = await readRange(w, size, span, (b) => randomChunks(b, rnd, 3 * S));
      expect(out.equals(pt.subarray(start, end + 1)), `range ${start}-${end} of ${size}`).toBe(true);
    }
  });

  it('gives the same output for 1-byte, straddling and single-chunk input', async () => {
    const size = 3 * S + 10;
    const pt = rnd.bytes(size);
    const w = await write(pt, 12);
    const span = segmentSpan(size, 12, 100, size - 2);
    const expected = pt.subarray(100, size - 1);
    for (const chunker of [
      (b: Buffer) => chunked(b, [1]),
      (b: Buffer) => chunked(b, [S + 15, 2]),
      (b: Buffer) => [b],
    ]) {
      expect((await readRange(w, size, span, chunker)).equals(expected)).toBe(true);
    }
  });

  it('works at the default 64 KiB segment size', async () => {
    const size = 3 * 65536 + 1;
    const pt = rnd.bytes(size);
    const w = await write(pt, 16);
    for (const [a, b] of [
      [0, size - 1],
      [65535, 65536],
      [size - 1, size - 1],
    ] as const) {
      expect((await readRange(w, size, segmentSpan(size, 16, a, b), (x) => [x])).equals(pt.subarray(a, b + 1))).toBe(
        true,
      );
    }
  });

  it('needs only the span: damage to other segments does not affect a range read', async () => {
    const size = 4 * S;
    const pt = rnd.bytes(size);
    const w = await write(pt, 12);
    w.blob[64 + 5] ^= 0xff; // inside segment 0
    const span = segmentSpan(size, 12, 2 * S, 3 * S - 1);
    expect((await readRange(w, size, span, (b) => [b])).equals(pt.subarray(2 * S, 3 * S))).toBe(true);
  });

  it('rejects a span that does not fit the header or the size (RangeError)', async () => {
    const size = 3 * S;
    const w = await write(rnd.bytes(size), 12);
    const base = {
      dek,
      binding,
      header: w.blob.subarray(0, 64),
      expectedHeaderDigest: w.headerDigest,
      plainSize: size,
    };
    expect(() => createDecryptor({ ...base, span: segmentSpan(size, 13, 0, size - 1) })).toThrow(RangeError);
    expect(() => createDecryptor({ ...base, span: { ...segmentSpan(size, 12, 0, 9), length: S + 1 } })).toThrow(
      RangeError,
    );
    expect(() => createDecryptor({ ...base, span: { ...segmentSpan(size, 12, 0, 9), cipherStart: 0 } })).toThrow(
      RangeError,
    );
    expect(() => createDecryptor({ ...base, plainSize: size - 1, span: segmentSpan(size, 12, 0, size - 1) })).toThrow(
      RangeError,
    );
  });
});
