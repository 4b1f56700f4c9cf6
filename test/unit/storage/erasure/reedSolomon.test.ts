import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KERNEL, ReedSolomon, type KernelName } from '../../../../src/storage/erasure/reedSolomon.js';

/** Every way to choose `r` of 0..n-1. */
function* subsets(n: number, r: number, from = 0, acc: number[] = []): Generator<number[]> {
  if (acc.length === r) return yield [...acc];
  for (let i = from; i < n; i++) yield* subsets(n, r, i + 1, [...acc, i]);
}

function encoded(rs: ReedSolomon, len: number, align = 0): Buffer[] {
  // `align` shifts the buffers off a 4-byte boundary to exercise the byte-wise path.
  const mk = () => Buffer.alloc(len + align).subarray(align);
  const data = Array.from({ length: rs.k }, () => {
    const b = mk();
    randomBytes(len).copy(b);
    return b;
  });
  const parity = Array.from({ length: rs.m }, mk);
  rs.encode(data, parity);
  return [...data, ...parity];
}

const KERNELS: KernelName[] = ['js', 'simd'];

describe.each(KERNELS)('ReedSolomon (%s kernel)', (kernel) => {
  it.each([
    [1, 1],
    [2, 1],
    [2, 2],
    [3, 2],
    [4, 2],
    [4, 4],
    [6, 3],
  ])('%i+%i: any k shards rebuild every other shard exactly', (k, m) => {
    const rs = new ReedSolomon(k, m, kernel);
    for (const align of [0, 1]) {
      const shards = encoded(rs, 1000, align);
      for (const keep of subsets(k + m, k)) {
        const present = shards.map((_, i) => keep.includes(i));
        const work = shards.map((s, i) => (present[i] ? Buffer.from(s) : Buffer.alloc(s.length, 0xee)));
        rs.reconstruct(work, present);
        for (let i = 0; i < k + m; i++)
          expect(work[i].equals(shards[i]), `k=${k} m=${m} keep=${keep} shard ${i}`).toBe(true);
      }
    }
  });

  it('is systematic: data shards are stored as they are, and 1+1 is a mirror', () => {
    const rs = new ReedSolomon(1, 1, kernel);
    const [d, p] = encoded(rs, 64);
    expect(p.equals(d)).toBe(true);
  });

  it('pins the code: parity of a fixed input (a change would make stored blobs unreadable)', () => {
    const rs = new ReedSolomon(2, 2, kernel);
    const data = [Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), Buffer.from([9, 10, 11, 12, 13, 14, 15, 16])];
    const parity = [Buffer.alloc(8), Buffer.alloc(8)];
    rs.encode(data, parity);
    expect(parity.map((p) => p.toString('hex'))).toMatchInlineSnapshot(`
      [
        "1112131415161738",
        "191a1b1c1d1e1f20",
      ]
    `);
  });

  it('refuses to rebuild from fewer than k shards', () => {
    const rs = new ReedSolomon(2, 2, kernel);
    const shards = encoded(rs, 16);
    expect(() => rs.reconstruct(shards, [true, false, false, false])).toThrow(/1 shards present, 2 needed/);
  });

  it('rejects impossible codes', () => {
    expect(() => new ReedSolomon(2, 1, kernel)).not.toThrow();
    expect(() => new ReedSolomon(0, 1)).toThrow(RangeError);
    expect(() => new ReedSolomon(30, 3)).toThrow(RangeError);
  });
});

describe('ReedSolomon kernels', () => {
  it('this platform has WebAssembly SIMD, so the store uses it', () => {
    expect(DEFAULT_KERNEL).toBe('simd');
  });

  it('the SIMD and the table kernels compute the same bytes at every length', () => {
    const js = new ReedSolomon(4, 3, 'js');
    const simd = new ReedSolomon(4, 3, 'simd');
    for (const len of [8, 16, 24, 1000, 4096, 65_536 + 8, 300_000]) {
      const data = Array.from({ length: 4 }, () => randomBytes(len));
      const p1 = Array.from({ length: 3 }, () => Buffer.alloc(len));
      const p2 = Array.from({ length: 3 }, () => Buffer.alloc(len, 0xff));
      js.encode(data, p1);
      simd.encode(data, p2);
      for (let i = 0; i < 3; i++) expect(p2[i].equals(p1[i]), `len ${len} parity ${i}`).toBe(true);
      const work = [...data, ...p2].map((b, i) => (i < 3 ? Buffer.alloc(len) : Buffer.from(b)));
      simd.reconstruct(work, [false, false, false, true, true, true, true]);
      for (let i = 0; i < 3; i++) expect(work[i].equals(data[i]), `len ${len} rebuilt ${i}`).toBe(true);
    }
  });
});
