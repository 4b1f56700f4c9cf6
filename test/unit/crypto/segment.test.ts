import { describe, expect, it } from 'vitest';
import { ByteQueue, segmentNonce, streamAad } from '../../../src/crypto/segment.js';
import { hex, loadVectors } from './helpers.js';

const vectors = loadVectors();

describe('segmentNonce', () => {
  const prefix = hex('01020304050607');
  it('is prefix ‖ uint32-BE index ‖ last flag', () => {
    expect(segmentNonce(prefix, 0, false).toString('hex')).toBe('010203040506070000000000');
    expect(segmentNonce(prefix, 0x01020304, true).toString('hex')).toBe('010203040506070102030401');
    expect(segmentNonce(prefix, 0xffffffff, true).toString('hex')).toBe('01020304050607ffffffff01');
  });
  it('refuses an index past uint32 instead of wrapping', () => {
    expect(() => segmentNonce(prefix, 2 ** 32, false)).toThrow(RangeError);
  });
});

describe('streamAad', () => {
  it.each(vectors.streams.map((v) => [v.name, v] as const))('matches the Python vectors (%s)', (_n, v) => {
    const binding = { bucketUid: v.bucketUid, dataId: v.dataId, uploadId: v.uploadId, partNumber: v.partNumber };
    expect(streamAad(hex(v.header), binding).toString('hex')).toBe(v.aad);
  });
  it('treats an absent uploadId/partNumber as "" / 0', () => {
    const h = Buffer.alloc(64);
    const a = streamAad(h, { bucketUid: 'b', dataId: 'd' });
    expect(streamAad(h, { bucketUid: 'b', dataId: 'd', uploadId: '', partNumber: 0 }).equals(a)).toBe(true);
    expect(streamAad(h, { bucketUid: 'b', dataId: 'd', partNumber: 1 }).equals(a)).toBe(false);
  });
  it('rejects a partNumber that is not a uint32', () => {
    expect(() => streamAad(Buffer.alloc(64), { bucketUid: 'b', dataId: 'd', partNumber: -1 })).toThrow(RangeError);
    expect(() => streamAad(Buffer.alloc(64), { bucketUid: 'b', dataId: 'd', partNumber: 1.5 })).toThrow(RangeError);
  });
});

describe('ByteQueue', () => {
  it('hands out exact runs across chunk boundaries, in order', () => {
    const q = new ByteQueue();
    q.push(Buffer.from('abc'));
    q.push(Buffer.alloc(0));
    q.push(Buffer.from('defgh'));
    expect(q.length).toBe(8);
    expect(Buffer.concat(q.take(2)).toString()).toBe('ab');
    expect(Buffer.concat(q.take(4)).toString()).toBe('cdef');
    expect(q.length).toBe(2);
    expect(() => q.take(3)).toThrow(RangeError);
    expect(Buffer.concat(q.take(2)).toString()).toBe('gh');
    expect(q.take(0)).toEqual([]);
  });
  it('stays correct over many 1-byte chunks', () => {
    const q = new ByteQueue();
    const src = Buffer.from(Array.from({ length: 5000 }, (_, i) => i & 0xff));
    for (let i = 0; i < src.length; i++) q.push(src.subarray(i, i + 1));
    const out: Buffer[] = [];
    while (q.length >= 1234) out.push(...q.take(1234));
    out.push(...q.take(q.length));
    expect(Buffer.concat(out).equals(src)).toBe(true);
  });
});

describe('ByteQueue retention', () => {
  it('drops its reference to every chunk it has fully consumed (a stream must not pin what it already sealed)', () => {
    const q = new ByteQueue();
    const segment = 64 * 1024;
    // Steady state of the encryptor with 64 KiB input chunks: one chunk always held back.
    q.push(Buffer.alloc(segment));
    for (let i = 0; i < 2000; i++) {
      q.push(Buffer.alloc(segment));
      q.take(segment);
    }
    expect(q.length).toBe(segment);
    expect(q.retainedChunks).toBeLessThanOrEqual(2);
  });
});
