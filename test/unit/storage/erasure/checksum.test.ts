import { describe, expect, it } from 'vitest';
import { Checksummer } from '../../../../src/storage/erasure/checksum.js';

describe('Checksummer', () => {
  it('is XXH3-128 (part of the shard format: the digest must never change)', async () => {
    const sum = await Checksummer.create();
    // The same value as the reference XXH3_128bits (checked against a second, native implementation).
    expect(sum.digest([Buffer.from('hello coffer bitrot')]).toString('hex')).toBe('d78bcbb3a33f76128b93da2eeb07b8da');
  });

  it('digests the concatenation of its parts, and one instance serves call after call', async () => {
    const sum = await Checksummer.create();
    const whole = sum.digest([Buffer.from('abcdef')]);
    expect(sum.digest([Buffer.from('ab'), Buffer.from('cdef')]).equals(whole)).toBe(true);
    expect(sum.digest([Buffer.from('abcdeg')]).equals(whole)).toBe(false);
    expect(sum.digest([]).length).toBe(16);
  });
});
