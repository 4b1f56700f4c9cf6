import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ParallelMd5, SLICE } from '../../../src/util/parallelMd5.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** Feed `data` in `chunk`-byte pieces, honouring back-pressure as UploadHasher does. */
async function hash(data: Buffer, chunk: number): Promise<string> {
  const h = new ParallelMd5();
  for (let off = 0; off < data.length; off += chunk) await h.update(data.subarray(off, off + chunk));
  return (await h.digest()).toString('hex');
}

describe('ParallelMd5', () => {
  it('equals MD5 for empty, sub-slice, exact-slice and multi-slice streams, in any chunking', async () => {
    for (const size of [0, 1, 1000, SLICE - 1, SLICE, SLICE + 1, 3 * SLICE + 12345]) {
      const data = randomBytes(size);
      for (const chunk of [7, 64 * 1024, 5 * SLICE]) expect(await hash(data, chunk), `size ${size} chunk ${chunk}`).toBe(md5(data));
    }
  });

  it('keeps concurrent streams apart on the shared worker', async () => {
    const datas = Array.from({ length: 5 }, (_, i) => randomBytes(2 * SLICE + i * 1000));
    const got = await Promise.all(datas.map((d, i) => hash(d, 10_000 + i * 3333)));
    expect(got).toEqual(datas.map(md5));
  });

  it('does not let the caller reuse its chunk buffer to corrupt the hash', async () => {
    const data = randomBytes(2 * SLICE);
    const h = new ParallelMd5();
    const buf = Buffer.alloc(64 * 1024);
    for (let off = 0; off < data.length; off += buf.length) {
      data.copy(buf, 0, off, off + buf.length);
      await h.update(buf);
      buf.fill(0xaa); // the caller scribbles over its buffer as soon as update returns
    }
    expect((await h.digest()).toString('hex')).toBe(md5(data));
  });

  it('refuses updates and a second digest after digest', async () => {
    const h = new ParallelMd5();
    await h.digest();
    expect(() => h.update(Buffer.from('x'))).toThrow(/already digested/);
    await expect(h.digest()).rejects.toThrow(/already digested/);
  });

  it('a discarded stream leaves the worker usable', async () => {
    const h = new ParallelMd5();
    await h.update(randomBytes(2 * SLICE));
    h.discard();
    const data = randomBytes(SLICE + 5);
    expect(await hash(data, 100_000)).toBe(md5(data));
  });
});
