import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, open, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ErasureBlobStore } from '../../../../src/storage/erasure/erasureBlobStore.js';
import { InsufficientShardsError } from '../../../../src/storage/erasure/errors.js';
import { CHECKSUM_SIZE, HEADER_SIZE } from '../../../../src/storage/erasure/shardFormat.js';
import { chunked, collect, newId } from '../../../contract/blobStore.contract.js';

/** 4 KiB blocks: a 2+2 stripe holds 8 KiB, so a 50,000-byte blob has 7 stripes. */
const BLOCK = 4096;
const SIZE = 50_000;

let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});

async function setup(drives: number, parity: number) {
  root = await mkdtemp(join(tmpdir(), 'coffer-ec-'));
  const paths = Array.from({ length: drives }, (_, i) => join(root!, `d${i}`));
  const store = await ErasureBlobStore.open({ drives: paths, parity, blockSize: BLOCK });
  const shardFile = (drive: number, id: string) => join(paths[drive], id.slice(0, 2), id.slice(2, 4), id);
  /** Byte offset in drive's shard file of the block of stripe s (full stripes only). */
  const blockAt = (s: number) => HEADER_SIZE + s * (CHECKSUM_SIZE + BLOCK) + CHECKSUM_SIZE;
  const putRandom = async (size = SIZE) => {
    const id = newId();
    const data = randomBytes(size);
    await store.put(id, chunked(data, 3000));
    return { id, data };
  };
  return { store, paths, shardFile, blockAt, putRandom };
}

async function flipBit(path: string, offset: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, offset);
    b[0] ^= 0x10;
    await fh.write(b, 0, 1, offset);
  } finally {
    await fh.close();
  }
}

const kill = {
  deleted: (p: string) => rm(p, { recursive: true, force: true }),
  emptied: async (p: string) => {
    for (const e of await readdir(p)) await rm(join(p, e), { recursive: true, force: true });
  },
  replacedByEmptyDir: async (p: string) => {
    await rm(p, { recursive: true, force: true });
    await mkdir(p);
  },
  replacedByFile: async (p: string) => {
    await rm(p, { recursive: true, force: true });
    await writeFile(p, 'not a drive');
  },
};

/** Every pair of drives of four. */
const PAIRS = [
  [0, 1],
  [0, 2],
  [0, 3],
  [1, 2],
  [1, 3],
  [2, 3],
];

describe('ErasureBlobStore: losing drives', () => {
  it('no drive holds a whole blob: each shard file is about a k-th of it', async () => {
    const { putRandom, shardFile } = await setup(4, 2);
    const { id } = await putRandom(SIZE);
    for (let d = 0; d < 4; d++) {
      const { size } = await stat(shardFile(d, id));
      expect(size).toBeLessThan(SIZE / 2 + 2000);
    }
    const tiny = await putRandom(10);
    expect((await stat(shardFile(0, tiny.id))).size).toBe(HEADER_SIZE + CHECKSUM_SIZE + 8);
  });

  it.each(Object.keys(kill))('2+2: any two drives %s, every blob reads back byte for byte', async (how) => {
    for (const pair of PAIRS) {
      const { store, paths, putRandom } = await setup(4, 2);
      const blobs = [await putRandom(), await putRandom(0), await putRandom(BLOCK * 2), await putRandom(1)];
      for (const d of pair) await kill[how as keyof typeof kill](paths[d]);
      for (const { id, data } of blobs) {
        expect((await collect(store.get(id))).equals(data), `drives ${pair} ${how}`).toBe(true);
        expect(await store.stat(id)).toEqual({ size: data.length });
      }
      await rm(root!, { recursive: true, force: true });
    }
  });

  it('2+1 and 1+1 survive one lost drive at each position', async () => {
    for (const [n, m] of [
      [3, 1],
      [2, 1],
    ]) {
      for (let d = 0; d < n; d++) {
        const { store, paths, putRandom } = await setup(n, m);
        const { id, data } = await putRandom();
        await kill.deleted(paths[d]);
        expect((await collect(store.get(id))).equals(data), `${n - m}+${m} without drive ${d}`).toBe(true);
        await rm(root!, { recursive: true, force: true });
      }
    }
  });

  it('2+2: two drives whose every shard file is overwritten with garbage still read back byte for byte', async () => {
    const { store, shardFile, putRandom } = await setup(4, 2);
    const blobs = [await putRandom(), await putRandom(100), await putRandom(0)];
    for (const { id } of blobs) {
      for (const d of [1, 3]) {
        const { size } = await stat(shardFile(d, id));
        await writeFile(shardFile(d, id), randomBytes(size));
      }
    }
    for (const { id, data } of blobs) expect((await collect(store.get(id))).equals(data)).toBe(true);
  });

  it('more than m drives gone: a precise InsufficientShardsError, never wrong bytes', async () => {
    const { store, paths, putRandom } = await setup(4, 2);
    const { id } = await putRandom();
    for (const d of [0, 2, 3]) await kill.deleted(paths[d]);
    const err = await collect(store.get(id)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientShardsError);
    expect((err as Error).message).toMatch(new RegExp(`blob ${id}: 1 of 4 shards readable, 2 needed to read it`));
    expect(err).toMatchObject({ op: 'read', found: 1, needed: 2, total: 4 });
    await expect(store.read(id, 0, 10)).rejects.toBeInstanceOf(InsufficientShardsError);
    await expect(store.stat(id)).rejects.toBeInstanceOf(InsufficientShardsError);
  });

  it('a blob no drive has is ENOENT even with drives missing', async () => {
    const { store, paths } = await setup(4, 2);
    await kill.deleted(paths[1]);
    await kill.replacedByFile(paths[2]);
    await expect(collect(store.get(newId()))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('ErasureBlobStore: bitrot', () => {
  it('a flipped bit in a data block is caught, rebuilt from parity, and queued for healing', async () => {
    const { store, shardFile, blockAt, putRandom } = await setup(4, 2);
    const { id, data } = await putRandom();
    await flipBit(shardFile(0, id), blockAt(2) + 100);
    expect((await collect(store.get(id))).equals(data)).toBe(true);
    expect(store.healQueue.drain()).toEqual([{ id, shard: 0, reason: 'stripe 2: checksum mismatch' }]);
  });

  it('corruption in m shards of one stripe is still corrected; in m+1 it is an error', async () => {
    const { store, shardFile, blockAt, putRandom } = await setup(4, 2);
    const { id, data } = await putRandom();
    await flipBit(shardFile(0, id), blockAt(1));
    await flipBit(shardFile(3, id), blockAt(1) + 7);
    expect((await collect(store.get(id))).equals(data)).toBe(true);
    await flipBit(shardFile(1, id), blockAt(1) + 4000);
    await expect(collect(store.get(id))).rejects.toThrow(
      /1 of 4 shards readable, 2 needed.*stripe 1: checksum mismatch/,
    );
    // Stripes the range does not touch still read.
    expect((await collect(store.get(id, { start: 0, end: 2 * BLOCK - 1 }))).equals(data.subarray(0, 2 * BLOCK))).toBe(
      true,
    );
  });

  it('a truncated shard, a corrupted header and a checksum flipped are each treated as missing', async () => {
    const { store, shardFile, putRandom } = await setup(4, 2);
    const { id, data } = await putRandom();
    await truncate(shardFile(0, id), HEADER_SIZE + 3 * (CHECKSUM_SIZE + BLOCK) + 10);
    await flipBit(shardFile(1, id), 20); // inside the header (blob size)
    await flipBit(shardFile(3, id), HEADER_SIZE + 5); // stripe 0's checksum, not its data
    expect((await collect(store.get(id))).equals(data)).toBe(true);
    const reasons = store.healQueue.drain().map((r) => `${r.shard}: ${r.reason}`);
    expect(reasons).toContain('1: header checksum mismatch');
    expect(reasons).toContain('0: stripe 3: shard cut short');
    expect(reasons).toContain('3: stripe 0: checksum mismatch');
  });

  it('a shard file swapped in from another blob is refused by its header', async () => {
    const { store, shardFile, putRandom } = await setup(4, 2);
    const a = await putRandom();
    const b = await putRandom();
    await copyFile(shardFile(0, b.id), shardFile(0, a.id));
    await copyFile(shardFile(1, b.id), shardFile(1, a.id));
    expect((await collect(store.get(a.id))).equals(a.data)).toBe(true);
    expect(store.healQueue.drain().map((r) => r.reason)).toEqual([`holds blob ${b.id}`, `holds blob ${b.id}`]);
  });

  it('a shard moved to another drive position is refused', async () => {
    const { store, shardFile, putRandom } = await setup(4, 2);
    const { id, data } = await putRandom();
    await copyFile(shardFile(2, id), shardFile(0, id));
    expect((await collect(store.get(id))).equals(data)).toBe(true);
    expect(store.healQueue.drain()).toEqual([{ id, shard: 0, reason: 'holds shard 2' }]);
  });
});

describe('ErasureBlobStore: ranges', () => {
  it('ranged reads across stripe boundaries are exact, with and without a data shard', async () => {
    const { store, paths, putRandom } = await setup(4, 2);
    const { id, data } = await putRandom();
    const stripe = 2 * BLOCK;
    const ranges: Array<[number, number]> = [
      [0, 0],
      [stripe - 1, stripe],
      [BLOCK - 3, BLOCK + 3],
      [stripe - 10, 3 * stripe + 10],
      [5 * stripe, 6 * stripe - 1],
      [SIZE - 5, SIZE + 100],
      [123, SIZE - 1],
      [SIZE, SIZE + 5],
    ];
    for (const phase of ['all drives', 'drive 0 gone', 'drives 0 and 1 gone']) {
      if (phase === 'drive 0 gone') await kill.deleted(paths[0]);
      if (phase === 'drives 0 and 1 gone') await kill.deleted(paths[1]);
      for (const [start, end] of ranges) {
        const got = await collect(store.get(id, { start, end }));
        expect(got.equals(data.subarray(start, end + 1)), `${phase} [${start}, ${end}]`).toBe(true);
      }
      expect((await store.read(id, stripe - 2, 4)).equals(data.subarray(stripe - 2, stripe + 2))).toBe(true);
    }
  });

  it('a range reads only the stripes it needs (a bad block elsewhere goes unnoticed)', async () => {
    const { store, shardFile, blockAt, putRandom } = await setup(4, 2);
    const { id, data } = await putRandom();
    await flipBit(shardFile(0, id), blockAt(4));
    expect(
      (await collect(store.get(id, { start: 0, end: 3 * 2 * BLOCK - 1 }))).equals(data.subarray(0, 6 * BLOCK)),
    ).toBe(true);
    expect(store.healQueue.size).toBe(0);
    await collect(store.get(id, { start: 4 * 2 * BLOCK, end: 4 * 2 * BLOCK }));
    expect(store.healQueue.drain()).toEqual([{ id, shard: 0, reason: 'stripe 4: checksum mismatch' }]);
  });
});

describe('ErasureBlobStore: quorum writes and healing', () => {
  const tmpFilesOf = async (paths: string[]) => {
    const out: string[] = [];
    for (const p of paths) out.push(...(await readdir(join(p, 'tmp')).catch(() => [])));
    return out;
  };

  it('2+2 with one drive unwritable: the put succeeds on the quorum, heal() rewrites the shard later', async () => {
    const { store, paths, putRandom } = await setup(4, 2);
    await kill.replacedByFile(paths[1]);
    const { id, data } = await putRandom();
    expect(store.healQueue.drain()).toEqual([{ id, shard: 1, reason: 'write failed: ENOTDIR' }]);
    expect((await collect(store.get(id))).equals(data)).toBe(true);

    await kill.replacedByEmptyDir(paths[1]);
    expect(await store.heal(id)).toEqual([1]);
    expect(await store.heal(id)).toEqual([]);
    // Shard 1 is real again: the blob survives losing two other drives.
    await kill.deleted(paths[0]);
    await kill.deleted(paths[2]);
    expect((await collect(store.get(id))).equals(data)).toBe(true);
    expect(await tmpFilesOf(paths)).toEqual([]);
  });

  it('heal() rewrites a shard with a corrupt block, and a later full read finds nothing to queue', async () => {
    const { store, shardFile, blockAt, putRandom } = await setup(4, 2);
    const { id, data } = await putRandom();
    await flipBit(shardFile(3, id), blockAt(0));
    await truncate(shardFile(2, id), 100);
    expect((await store.heal(id)).sort()).toEqual([2, 3]);
    expect(await store.heal(id)).toEqual([]);
    expect((await collect(store.get(id))).equals(data)).toBe(true);
    expect(store.healQueue.size).toBe(0);
  });

  it('2+2 with two drives unwritable: the put fails with the quorum named and leaves nothing', async () => {
    const { store, paths } = await setup(4, 2);
    await kill.replacedByFile(paths[0]);
    await kill.replacedByFile(paths[3]);
    const id = newId();
    const err = await store.put(id, chunked(randomBytes(SIZE))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientShardsError);
    expect((err as Error).message).toMatch(
      /2 of 4 drives accepted the write, a quorum of 3 is needed \(shard 0: ENOTDIR; shard 3: ENOTDIR\)/,
    );
    expect(await store.stat(id)).toBeUndefined();
    expect(await tmpFilesOf(paths)).toEqual([]);
    const ids: string[] = [];
    for await (const x of store.list()) ids.push(x);
    expect(ids).toEqual([]);
  });

  /** A put whose body pauses after its first stripes, so drives can fail while it is in flight. */
  async function putWithFailureMidway(store: ErasureBlobStore, fail: () => Promise<void>) {
    const id = newId();
    const data = randomBytes(SIZE);
    const body = new Readable({ read() {} });
    body.push(data.subarray(0, 20_000));
    const put = store.put(id, body);
    await new Promise((r) => setTimeout(r, 50));
    await fail();
    body.push(data.subarray(20_000));
    body.push(null);
    return { id, data, put };
  }

  it('a drive that fails in the middle of a put is dropped; the put succeeds on the others', async () => {
    const { store, paths } = await setup(4, 2);
    const { id, data, put } = await putWithFailureMidway(store, () => kill.replacedByFile(paths[2]));
    await expect(put).resolves.toEqual({ size: SIZE });
    expect(store.healQueue.drain()).toEqual([{ id, shard: 2, reason: 'write failed: ENOTDIR' }]);
    expect((await collect(store.get(id))).equals(data)).toBe(true);
    expect(await tmpFilesOf(paths)).toEqual([]);
  });

  it('two drives failing in the middle of a put make it fail, and the shards already published are removed', async () => {
    const { store, paths, shardFile } = await setup(4, 2);
    const { id, put } = await putWithFailureMidway(store, async () => {
      await kill.replacedByFile(paths[0]);
      await kill.replacedByFile(paths[3]);
    });
    await expect(put).rejects.toThrow(/2 of 4 drives accepted the write, a quorum of 3 is needed/);
    for (const d of [1, 2]) await expect(stat(shardFile(d, id))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await tmpFilesOf(paths)).toEqual([]);
    expect(await store.stat(id)).toBeUndefined();
  });

  it('2+1 needs all three drives to write (quorum k+1); 2+0 needs both', async () => {
    const a = await setup(3, 1);
    await kill.deleted(a.paths[2]);
    await expect(a.store.put(newId(), Readable.from([Buffer.from('x')]))).rejects.toThrow(
      /2 of 3 drives accepted the write, a quorum of 3/,
    );
    await rm(root!, { recursive: true, force: true });
    const b = await setup(2, 0);
    const { id, data } = await b.putRandom();
    expect((await collect(b.store.get(id))).equals(data)).toBe(true);
    await kill.deleted(b.paths[0]);
    await expect(collect(b.store.get(id))).rejects.toThrow(/1 of 2 shards readable, 2 needed/);
  });

  it('a drive deleted while running takes no new shards but the others do', async () => {
    const { store, paths, putRandom, shardFile } = await setup(4, 2);
    await kill.deleted(paths[2]);
    const { id, data } = await putRandom();
    await expect(stat(paths[2])).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(shardFile(0, id))).resolves.toBeDefined();
    expect((await collect(store.get(id))).equals(data)).toBe(true);
  });

  it('delete removes every shard and skips a drive that is gone', async () => {
    const { store, paths, shardFile, putRandom } = await setup(4, 2);
    const { id } = await putRandom();
    await kill.replacedByFile(paths[3]);
    await store.delete(id);
    for (const d of [0, 1, 2]) await expect(stat(shardFile(d, id))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await store.stat(id)).toBeUndefined();
  });
});

describe('ErasureBlobStore.open', () => {
  it('opens degraded with a drive that is a file, and refuses fewer than k usable drives', async () => {
    root = await mkdtemp(join(tmpdir(), 'coffer-ec-'));
    const paths = [0, 1, 2, 3].map((i) => join(root!, `d${i}`));
    await writeFile(paths[0], 'x');
    const store = await ErasureBlobStore.open({ drives: paths, parity: 2 });
    const id = newId();
    await store.put(id, Readable.from([Buffer.from('degraded')]));
    expect((await collect(store.get(id))).toString()).toBe('degraded');
    await writeFile(join(root!, 'f1'), 'x');
    await writeFile(join(root!, 'f2'), 'x');
    await writeFile(join(root!, 'f3'), 'x');
    const files = ['f1', 'f2', 'f3'].map((f) => join(root!, f));
    await expect(ErasureBlobStore.open({ drives: [...files, paths[1]], parity: 2 })).rejects.toThrow(
      /only 1 of 4 drives could be opened, 2 are needed/,
    );
  });

  it('rejects impossible parity and block sizes', async () => {
    await expect(ErasureBlobStore.open({ drives: ['/a', '/b'], parity: 2 })).rejects.toThrow(/parity must be 0 to 1/);
    await expect(ErasureBlobStore.open({ drives: ['/a', '/b'], parity: 1, blockSize: 100 })).rejects.toThrow(
      /multiple of 8/,
    );
    await expect(ErasureBlobStore.open({ drives: ['/a', '/a'], parity: 1 })).rejects.toThrow(/same drive/);
  });
});
