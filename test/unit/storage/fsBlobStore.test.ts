import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../../src/storage/fsBlobStore.js';
import {
  blobStoreContract,
  chunked,
  collect,
  failingBody,
  newId,
  stallingBody,
} from '../../contract/blobStore.contract.js';

blobStoreContract('FsBlobStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'coffer-blobs-'));
  return {
    store: await FsBlobStore.open(join(dir, 'store')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('FsBlobStore', () => {
  let root: string;
  let dir: string;
  let store: FsBlobStore;
  const tmpFiles = () => readdir(join(dir, 'tmp'));

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'coffer-blobs-'));
    dir = join(root, 'store');
    store = await FsBlobStore.open(dir);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads in the chunk size its creator gives (readChunkBytes), whole or ranged', async () => {
    const sized = await FsBlobStore.open(join(root, 'sized'), { readChunkBytes: 1000, writeBufferBytes: 512 });
    const id = newId();
    const data = randomBytes(4500);
    await sized.put(id, chunked(data, 100));
    const sizes = async (r: Readable) => {
      const out: number[] = [];
      for await (const c of r as AsyncIterable<Buffer>) out.push(c.length);
      return out;
    };
    expect(await sizes(sized.get(id))).toEqual([1000, 1000, 1000, 1000, 500]);
    expect(await sizes(sized.get(id, { start: 100, end: 2099 }))).toEqual([1000, 1000]);
    expect((await collect(sized.get(id))).equals(data)).toBe(true);
    // Without options the store reads as Node does by default (64 KiB): one chunk here.
    const plain = newId();
    await store.put(plain, chunked(data, 100));
    expect(await sizes(store.get(plain))).toEqual([4500]);
  });

  it('readSmall: the whole blob at or under the limit, undefined over it, ENOENT for a missing one', async () => {
    const id = newId();
    const data = randomBytes(4500);
    await store.put(id, chunked(data, 100));
    expect((await store.readSmall(id, 4500))?.equals(data)).toBe(true);
    expect(await store.readSmall(id, 4499)).toBeUndefined();
    await expect(store.readSmall(newId(), 4500)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('put refuses a taken id (EEXIST) even though it writes the body meanwhile, and leaves no temp file', async () => {
    const id = newId();
    const first = randomBytes(100);
    await store.put(id, chunked(first, 10));
    await expect(store.put(id, chunked(randomBytes(100), 10))).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await tmpFiles()).toEqual([]);
    expect((await collect(store.get(id))).equals(first)).toBe(true);
  });

  it('creates its directories with mode 0700 and blobs with 0600, sharded by id', async () => {
    const id = 'abcdef0123456789abcdef0123456789';
    await store.put(id, Readable.from([Buffer.from('hello')]));
    const path = join(dir, 'ab', 'cd', id);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    for (const d of [dir, join(dir, 'tmp'), join(dir, 'ab'), join(dir, 'ab', 'cd')]) {
      expect((await stat(d)).mode & 0o777).toBe(0o700);
    }
    expect(await tmpFiles()).toEqual([]);
  });

  it('concurrent puts into one shard directory all land (their directory fsyncs are shared)', async () => {
    const ids = Array.from(
      { length: 12 },
      (_, i) => `abcd${i.toString(16).padStart(2, '0')}${randomBytes(13).toString('hex')}`,
    );
    const bodies = ids.map(() => randomBytes(3000));
    await Promise.all(ids.map((id, i) => store.put(id, Readable.from([bodies[i]]))));
    for (const [i, id] of ids.entries()) expect((await collect(store.get(id))).equals(bodies[i])).toBe(true);
    expect((await readdir(join(dir, 'ab', 'cd'))).sort()).toEqual([...ids].sort());
    // Nothing is kept for a directory once its writers are done.
    expect((store as unknown as { dirSyncs: Map<string, unknown> }).dirSyncs.size).toBe(0);
  });

  it('a body that errors halfway leaves no temp file and no blob', async () => {
    const id = newId();
    await expect(store.put(id, failingBody(randomBytes(300_000), new Error('boom')))).rejects.toThrow('boom');
    expect(await tmpFiles()).toEqual([]);
    expect(await store.stat(id)).toBeUndefined();
    // The shard may exist (created before writing) but must not hold the blob.
    const shard = join(dir, id.slice(0, 2), id.slice(2, 4));
    expect(await readdir(shard)).toEqual([]);
  });

  it('an aborted put leaves no temp file and destroys the body', async () => {
    const id = newId();
    const ac = new AbortController();
    const body = stallingBody(randomBytes(100_000));
    const put = store.put(id, body, ac.signal);
    // Wait until the temp file really exists, so the abort has something to clean up.
    for (let i = 0; i < 100 && (await tmpFiles()).length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect((await tmpFiles()).length).toBe(1);
    ac.abort();
    await expect(put).rejects.toMatchObject({ name: 'AbortError' });
    expect(body.destroyed).toBe(true);
    expect(await tmpFiles()).toEqual([]);
    expect(await store.stat(id)).toBeUndefined();
  });

  it('ranges at 0, at the end and single bytes across the 64 KiB read-chunk boundary', async () => {
    const id = newId();
    const data = randomBytes(65_537);
    await store.put(id, chunked(data, 7_000));
    for (const [s, e] of [
      [0, 0],
      [65_535, 65_536],
      [65_536, 65_536],
      [0, 65_536],
      [1, 1],
    ] as const) {
      expect((await collect(store.get(id, { start: s, end: e }))).equals(data.subarray(s, e + 1))).toBe(true);
    }
  });

  it('rejects ids that could become paths before touching the disk', async () => {
    for (const bad of ['../x', 'ABCDEF0123456789ABCDEF0123456789', `ab/cd/${'0'.repeat(26)}`, 'tmp']) {
      await expect(store.put(bad, Readable.from([Buffer.from('x')]))).rejects.toThrow(/invalid blob id/);
    }
    expect((await readdir(dir)).sort()).toEqual(['tmp']);
  });

  it('list() skips temp files and stray names', async () => {
    const id = newId();
    await store.put(id, Readable.from([Buffer.from('x')]));
    await writeFile(join(dir, 'tmp', `${newId()}.deadbeef`), 'partial');
    await writeFile(join(dir, id.slice(0, 2), id.slice(2, 4), 'README'), 'stray');
    // A valid-looking id in the wrong shard is not one this store wrote there.
    await writeFile(join(dir, id.slice(0, 2), id.slice(2, 4), 'ff'.repeat(16)), 'misplaced');
    const ids: string[] = [];
    for await (const x of store.list()) ids.push(x);
    expect(ids).toEqual([id]);
  });

  it('sweepTemp removes only temp files older than the threshold', async () => {
    const oldFile = join(dir, 'tmp', `${newId()}.0001`);
    const freshFile = join(dir, 'tmp', `${newId()}.0002`);
    await writeFile(oldFile, 'crash leftover');
    await writeFile(freshFile, 'in progress');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(oldFile, hourAgo, hourAgo);
    await expect(store.sweepTemp(60_000)).resolves.toBe(1);
    expect(await tmpFiles()).toEqual([freshFile.slice(freshFile.lastIndexOf('/') + 1)]);
  });

  it('a put whose temp file is swept mid-write fails instead of publishing', async () => {
    const id = newId();
    const body = new Readable({ read() {} });
    const put = store.put(id, body);
    body.push(Buffer.from('partial'));
    for (let i = 0; i < 100 && (await tmpFiles()).length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await expect(store.sweepTemp(-1_000)).resolves.toBe(1);
    body.push(null);
    // The rename finds no temp file: a file-system error, reported as a fault of this drive.
    await expect(put).rejects.toMatchObject({ name: 'DiskFaultError', errno: 'ENOENT', op: 'rename' });
    expect(await store.stat(id)).toBeUndefined();
  });

  it('reopening an existing directory keeps the blobs', async () => {
    const id = newId();
    await store.put(id, Readable.from([Buffer.from('persisted')]));
    const again = await FsBlobStore.open(dir);
    expect((await collect(again.get(id))).toString()).toBe('persisted');
  });
});
