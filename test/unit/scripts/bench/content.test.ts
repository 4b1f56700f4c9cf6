import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MiB, PatternContent, sha256Hex } from '../../../../scripts/bench/content.js';

async function collect(c: PatternContent): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of c.stream().stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

describe('PatternContent', () => {
  const block = randomBytes(MiB);

  it('streams exactly `length` bytes that hash to sha256() and match slice()', async () => {
    const c = new PatternContent(block, 7, 2 * MiB + 1000);
    const all = await collect(c);
    expect(all.length).toBe(2 * MiB + 1000);
    expect(sha256Hex(all)).toBe(c.sha256());
    expect(c.slice(0, all.length - 1).equals(all)).toBe(true);
    // A range across a MiB boundary.
    expect(c.slice(MiB - 10, MiB + 10).equals(all.subarray(MiB - 10, MiB + 11))).toBe(true);
  });

  it('differs between seeds and between MiBs of one object', () => {
    const a = new PatternContent(block, 1, 2 * MiB);
    const b = new PatternContent(block, 2, 2 * MiB);
    expect(a.sha256()).not.toBe(b.sha256());
    expect(a.chunk(0).equals(a.chunk(1))).toBe(false);
  });

  it('refuses slices outside the object', () => {
    const c = new PatternContent(block, 1, MiB);
    expect(() => c.slice(0, MiB)).toThrow(RangeError);
    expect(() => c.slice(5, 4)).toThrow(RangeError);
  });
});
