import { describe, expect, it } from 'vitest';
import { deriveDataKey, deriveMetaKey, keyCommitment, lp } from '../../../src/crypto/kdf.js';
import { hex, loadVectors } from './helpers.js';

const vectors = loadVectors();
const dek = hex(vectors.dek);

describe('lp', () => {
  it('prefixes the 4-byte big-endian byte length', () => {
    expect(lp('').toString('hex')).toBe('00000000');
    expect(lp('abc').toString('hex')).toBe('00000003616263');
    expect(lp(Buffer.alloc(300, 1)).subarray(0, 4).toString('hex')).toBe('0000012c');
  });

  it('counts UTF-8 bytes, not UTF-16 code units', () => {
    expect(lp('é€').toString('hex')).toBe('00000005c3a9e282ac');
  });
});

describe('deriveDataKey / keyCommitment', () => {
  it.each(vectors.streams.map((v) => [v.name, v] as const))('match the Python vectors (%s)', (_n, v) => {
    const k = deriveDataKey(dek, hex(v.salt), v.bucketUid, v.dataId);
    expect(k.toString('hex')).toBe(v.kData);
    expect(keyCommitment(k).toString('hex')).toBe(v.commitment);
  });

  it('depends on every input, and lp keeps the ids apart', () => {
    const salt = Buffer.alloc(32, 7);
    const base = deriveDataKey(dek, salt, 'ab', 'c').toString('hex');
    expect(deriveDataKey(dek, salt, 'a', 'bc').toString('hex')).not.toBe(base);
    expect(deriveDataKey(dek, Buffer.alloc(32, 8), 'ab', 'c').toString('hex')).not.toBe(base);
    expect(deriveDataKey(Buffer.alloc(32, 1), salt, 'ab', 'c').toString('hex')).not.toBe(base);
    expect(deriveMetaKey(dek, salt, 'ab', 'c').toString('hex')).not.toBe(base); // domain separation data/meta
  });

  it('rejects a DEK or salt of the wrong size', () => {
    expect(() => deriveDataKey(Buffer.alloc(16), Buffer.alloc(32), 'b', 'd')).toThrow(RangeError);
    expect(() => deriveDataKey(dek, Buffer.alloc(16), 'b', 'd')).toThrow(RangeError);
    expect(() => keyCommitment(Buffer.alloc(16))).toThrow(RangeError);
  });
});

describe('deriveMetaKey', () => {
  it.each(vectors.meta.map((m) => [m.versionId, m] as const))('matches the Python vectors (%s)', (_n, m) => {
    expect(deriveMetaKey(dek, hex(m.metaSalt), m.bucketUid, m.versionId).toString('hex')).toBe(m.kMeta);
  });
});
