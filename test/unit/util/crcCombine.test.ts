import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createChecksum, type ChecksumAlgorithm } from '../../../src/util/checksums.js';
import { combineCrc, isCrc } from '../../../src/util/crcCombine.js';

const digest = (a: ChecksumAlgorithm, ...bufs: Buffer[]) => {
  const c = createChecksum(a);
  for (const b of bufs) c.update(b);
  return c.digest();
};

const CRCS: ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME'];

describe('combineCrc', () => {
  for (const a of CRCS) {
    it(`${a}: crc(A||B) from crc(A), crc(B), |B|, for lengths around the byte and table boundaries`, () => {
      for (const [la, lb] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
        [7, 9],
        [8, 8],
        [1000, 4097],
        [5 * 1024 * 1024 + 3, 17],
      ]) {
        const A = randomBytes(la);
        const B = randomBytes(lb);
        expect(combineCrc(a, digest(a, A), digest(a, B), lb).toString('hex'), `${la}+${lb}`).toBe(
          digest(a, A, B).toString('hex'),
        );
      }
    });

    it(`${a}: folding many parts gives the whole object's CRC`, () => {
      const parts = Array.from({ length: 12 }, (_, i) => randomBytes(1 + i * 311));
      let acc = digest(a, parts[0]);
      for (const p of parts.slice(1)) acc = combineCrc(a, acc, digest(a, p), p.length);
      expect(acc.toString('base64')).toBe(digest(a, ...parts).toString('base64'));
    });
  }

  it('a known vector: CRC64NVME of "123456789" split in two', () => {
    const whole = Buffer.from('123456789');
    expect(
      combineCrc(
        'CRC64NVME',
        digest('CRC64NVME', whole.subarray(0, 4)),
        digest('CRC64NVME', whole.subarray(4)),
        5,
      ).toString('hex'),
    ).toBe('ae8b14860a799888');
  });

  it('SHA digests do not combine', () => {
    expect(isCrc('SHA256')).toBe(false);
    expect(isCrc('SHA1')).toBe(false);
    expect(CRCS.every(isCrc)).toBe(true);
    expect(() => combineCrc('SHA256', Buffer.alloc(32), Buffer.alloc(32), 1)).toThrow(TypeError);
  });

  it('a digest of the wrong width is refused', () => {
    expect(() => combineCrc('CRC64NVME', Buffer.alloc(4), Buffer.alloc(8), 1)).toThrow(RangeError);
  });
});
