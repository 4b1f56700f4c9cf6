import { describe, expect, it } from 'vitest';
import { Checksummer } from '../../../../src/storage/erasure/checksum.js';
import {
  blockBinding,
  blockLengthFor,
  decodeHeader,
  encodeHeader,
  HEADER_SIZE,
  StripeLayout,
  type ShardHeader,
} from '../../../../src/storage/erasure/shardFormat.js';

const sum = await Checksummer.create();
const H: ShardHeader = {
  k: 2,
  m: 2,
  index: 3,
  blockSize: 65536,
  size: 2 ** 40 + 5,
  id: '00112233445566778899aabbccddeeff',
};

describe('shard header', () => {
  it('round-trips every field in 64 bytes that start with the magic and version 1', () => {
    const b = encodeHeader(H, sum);
    expect(b.length).toBe(HEADER_SIZE);
    expect(b.subarray(0, 5).toString('latin1')).toBe('CFEC\x01');
    expect(decodeHeader(b, sum)).toEqual(H);
  });

  it('any flipped byte is refused', () => {
    const good = encodeHeader(H, sum);
    for (let i = 0; i < HEADER_SIZE; i++) {
      const b = Buffer.from(good);
      b[i] ^= 1;
      expect(typeof decodeHeader(b, sum), `byte ${i}`).toBe('string');
    }
  });

  it('an unknown version or codec is refused by name even with a valid checksum', () => {
    for (const [at, what] of [
      [4, 'format version'],
      [5, 'codec'],
    ] as const) {
      const b = encodeHeader(H, sum);
      b[at] = 9;
      sum.digest([b.subarray(0, 48)]).copy(b, 48);
      expect(decodeHeader(b, sum)).toBe(`unknown ${what} 9`);
    }
  });

  it('a short or foreign file is not a shard', () => {
    expect(decodeHeader(Buffer.alloc(10), sum)).toBe('header cut short');
    expect(decodeHeader(Buffer.alloc(64), sum)).toBe('not a shard file');
  });
});

describe('StripeLayout', () => {
  it('full stripes have full blocks; the last splits its bytes evenly, rounded up to 8', () => {
    const l = new StripeLayout(2, 4096, 3 * 8192 + 10);
    expect(l.stripes).toBe(4);
    expect([0, 1, 2].map((s) => l.blockLength(s))).toEqual([4096, 4096, 4096]);
    expect(l.dataLength(3)).toBe(10);
    expect(l.blockLength(3)).toBe(8);
    expect(l.blockOffset(3)).toBe(64 + 3 * (16 + 4096));
    expect(new StripeLayout(3, 8, 0).stripes).toBe(0);
    expect(blockLengthFor(8192, 2)).toBe(4096);
    expect(blockLengthFor(1, 4)).toBe(8);
  });

  it('binds block checksums to blob, stripe and shard', () => {
    const a = blockBinding(H.id, 1, 2);
    expect(a.length).toBe(24);
    expect(a.equals(blockBinding(H.id, 2, 2))).toBe(false);
    expect(a.equals(blockBinding(H.id, 1, 3))).toBe(false);
    expect(a.equals(blockBinding('f'.repeat(32), 1, 2))).toBe(false);
  });
});
