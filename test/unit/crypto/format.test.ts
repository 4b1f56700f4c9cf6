import { describe, expect, it } from 'vitest';
import { CryptoIntegrityError } from '../../../src/crypto/errors.js';
import {
  ALGORITHM_AES256GCM_HKDF_SHA256,
  DEFAULT_SEGMENT_LOG2,
  FORMAT_VERSION,
  HEADER_SIZE,
  MAX_SEGMENT_LOG2,
  MIN_SEGMENT_LOG2,
  TAG_SIZE,
  encodeHeader,
  encryptedSize,
  parseHeader,
  segmentCount,
  segmentSpan,
  type StreamHeader,
} from '../../../src/crypto/format.js';
import { hex, loadVectors } from './helpers.js';

const vectors = loadVectors();
const S = 4096;

function headerOf(v: (typeof vectors.streams)[number]): StreamHeader {
  return {
    version: 1,
    algorithm: 1,
    segmentLog2: v.segmentLog2,
    salt: hex(v.salt),
    noncePrefix: hex(v.noncePrefix),
    commitment: hex(v.commitment),
  };
}

describe('format constants', () => {
  it('match docs/encryption.md', () => {
    expect([HEADER_SIZE, TAG_SIZE, DEFAULT_SEGMENT_LOG2, MIN_SEGMENT_LOG2, MAX_SEGMENT_LOG2]).toEqual([
      64, 16, 16, 12, 24,
    ]);
    expect([FORMAT_VERSION, ALGORITHM_AES256GCM_HKDF_SHA256]).toEqual([1, 1]);
  });
});

describe('encodeHeader / parseHeader', () => {
  it.each(vectors.streams.map((v) => [v.name, v] as const))('encodes the known-answer header (%s)', (_n, v) => {
    expect(encodeHeader(headerOf(v)).toString('hex')).toBe(v.header);
    expect(parseHeader(hex(v.header))).toEqual(headerOf(v));
  });

  it('returns copies, not views on the input', () => {
    const buf = hex(vectors.streams[0]!.header);
    const h = parseHeader(buf);
    buf.fill(0);
    expect(h.salt.toString('hex')).toBe(vectors.streams[0]!.salt);
  });

  const good = hex(vectors.streams[0]!.header);
  const mutate = (at: number, value: number): Buffer => {
    const b = Buffer.from(good);
    b[at] = value;
    return b;
  };
  it.each([
    ['too short', good.subarray(0, 63), /64 bytes/],
    ['too long', Buffer.concat([good, Buffer.alloc(1)]), /64 bytes/],
    ['bad magic', mutate(0, 0x58), /magic/],
    ['version 0', mutate(4, 0), /version/],
    ['version 2', mutate(4, 2), /version/],
    ['algorithm 2', mutate(5, 2), /algorithm/],
    ['segment log2 11', mutate(6, 11), /segment size/],
    ['segment log2 25', mutate(6, 25), /segment size/],
    ['reserved byte 7', mutate(7, 1), /reserved/],
    ['reserved byte 47', mutate(47, 0x80), /reserved/],
  ])('parseHeader rejects %s with CryptoIntegrityError', (_n, buf, msg) => {
    expect(() => parseHeader(buf)).toThrow(CryptoIntegrityError);
    expect(() => parseHeader(buf)).toThrow(msg);
  });

  it('accepts every allowed segment size', () => {
    for (let log2 = MIN_SEGMENT_LOG2; log2 <= MAX_SEGMENT_LOG2; log2++) {
      expect(parseHeader(mutate(6, log2)).segmentLog2).toBe(log2);
    }
  });

  it('encodeHeader rejects bad fields with RangeError (a writer bug, not tampering)', () => {
    const h = headerOf(vectors.streams[0]!);
    expect(() => encodeHeader({ ...h, salt: Buffer.alloc(31) })).toThrow(RangeError);
    expect(() => encodeHeader({ ...h, noncePrefix: Buffer.alloc(8) })).toThrow(RangeError);
    expect(() => encodeHeader({ ...h, commitment: Buffer.alloc(32) })).toThrow(RangeError);
    expect(() => encodeHeader({ ...h, segmentLog2: 25 })).toThrow(RangeError);
    expect(() => encodeHeader({ ...h, version: 2 })).toThrow(RangeError);
    expect(() => encodeHeader({ ...h, algorithm: 0 })).toThrow(RangeError);
  });
});

describe('segmentCount / encryptedSize', () => {
  it.each([
    [0, 1],
    [1, 1],
    [S - 1, 1],
    [S, 1],
    [S + 1, 2],
    [3 * S, 3],
    [3 * S + 1, 4],
  ])('size %i -> %i segments at 4 KiB', (size, n) => {
    expect(segmentCount(size, 12)).toBe(n);
    expect(encryptedSize(size, 12)).toBe(HEADER_SIZE + size + n * TAG_SIZE);
  });

  it('agrees with the known-answer blobs', () => {
    for (const v of vectors.streams)
      expect(encryptedSize(v.plaintext.length / 2, v.segmentLog2)).toBe(v.blob.length / 2);
  });

  it('allows exactly 2^32 segments and no more', () => {
    expect(segmentCount(2 ** 32 * S, 12)).toBe(2 ** 32);
    expect(() => segmentCount(2 ** 32 * S + 1, 12)).toThrow(RangeError);
  });

  it('rejects negative, fractional sizes and bad segment sizes', () => {
    expect(() => segmentCount(-1, 12)).toThrow(RangeError);
    expect(() => segmentCount(1.5, 12)).toThrow(RangeError);
    expect(() => segmentCount(1, 11)).toThrow(RangeError);
    expect(() => encryptedSize(1, 25)).toThrow(RangeError);
  });
});

describe('segmentSpan', () => {
  const seg = (i: number): number => HEADER_SIZE + i * (S + TAG_SIZE);

  it('gives the one empty final segment for an empty object', () => {
    expect(segmentSpan(0, 12, 0, -1)).toEqual({
      firstSegment: 0,
      lastSegment: 0,
      cipherStart: 64,
      cipherEnd: 79,
      skip: 0,
      length: 0,
    });
  });

  it('covers a whole 3.5-segment object', () => {
    const size = 3 * S + 100;
    expect(segmentSpan(size, 12, 0, size - 1)).toEqual({
      firstSegment: 0,
      lastSegment: 3,
      cipherStart: 64,
      cipherEnd: encryptedSize(size, 12) - 1,
      skip: 0,
      length: size,
    });
  });

  it('reads only the segments a middle range touches', () => {
    expect(segmentSpan(10 * S, 12, S + 5, 2 * S + 5)).toEqual({
      firstSegment: 1,
      lastSegment: 2,
      cipherStart: seg(1),
      cipherEnd: seg(3) - 1,
      skip: 5,
      length: S + 1,
    });
  });

  it('handles ranges on segment boundaries', () => {
    expect(segmentSpan(3 * S, 12, S, 2 * S - 1)).toMatchObject({ firstSegment: 1, lastSegment: 1, skip: 0, length: S });
    expect(segmentSpan(3 * S, 12, S - 1, S)).toMatchObject({ firstSegment: 0, lastSegment: 1, skip: S - 1, length: 2 });
  });

  it('reads just the final segment for the last byte', () => {
    const size = 2 * S + 7;
    expect(segmentSpan(size, 12, size - 1, size - 1)).toEqual({
      firstSegment: 2,
      lastSegment: 2,
      cipherStart: seg(2),
      cipherEnd: seg(2) + 7 + TAG_SIZE - 1,
      skip: 6,
      length: 1,
    });
  });

  it('rejects ranges outside the object (RangeError: a caller bug)', () => {
    expect(() => segmentSpan(10, 12, 0, 10)).toThrow(RangeError);
    expect(() => segmentSpan(10, 12, 5, 4)).toThrow(RangeError);
    expect(() => segmentSpan(10, 12, -1, 3)).toThrow(RangeError);
    expect(() => segmentSpan(10, 12, 0, -1)).toThrow(RangeError);
    expect(() => segmentSpan(0, 12, 0, 0)).toThrow(RangeError);
  });
});
