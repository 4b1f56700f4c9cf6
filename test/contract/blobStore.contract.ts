import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/storage/BlobStore.js';

/** A fresh, empty store and a way to dispose of it. */
export interface BlobStoreFixture {
  store: BlobStore;
  cleanup(): Promise<void>;
}

export const newId = (): string => randomBytes(16).toString('hex');

/** Collect a stream into one Buffer. */
export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** Body that yields `data` in `chunk`-sized pieces (many writes, exercises back-pressure). */
export function chunked(data: Buffer, chunk = 16 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
    })(),
  );
}

/** Body that yields `before` bytes and then fails with `err`. */
export function failingBody(before: Buffer, err: Error): Readable {
  return Readable.from(
    (async function* () {
      yield before.subarray(0, before.length >> 1);
      await new Promise((r) => setImmediate(r));
      yield before.subarray(before.length >> 1);
      throw err;
    })(),
  );
}

/** Body that yields `first` and then waits forever (until destroyed). */
export function stallingBody(first: Buffer): Readable {
  const r = new Readable({ read() {} });
  r.push(first);
  return r;
}

async function collectIds(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const id of it) out.push(id);
  return out.sort();
}

/**
 * The BlobStore contract. Call from a *.test.ts with a factory for each
 * implementation; every behaviour the services rely on is pinned here.
 */
export function blobStoreContract(name: string, factory: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let fx: BlobStoreFixture;
    let store: BlobStore;
    beforeEach(async () => {
      fx = await factory();
      store = fx.store;
    });
    afterEach(async () => {
      await store.close?.();
      await fx.cleanup();
    });

    it('round-trips a multi-chunk body and reports its size', async () => {
      const id = newId();
      const data = randomBytes(1024 * 1024 + 3);
      await expect(store.put(id, chunked(data))).resolves.toEqual({ size: data.length });
      expect((await collect(store.get(id))).equals(data)).toBe(true);
      expect(await store.stat(id)).toEqual({ size: data.length });
    });

    it('stores an empty blob', async () => {
      const id = newId();
      await expect(store.put(id, Readable.from([]))).resolves.toEqual({ size: 0 });
      expect((await collect(store.get(id))).length).toBe(0);
      expect(await store.stat(id)).toEqual({ size: 0 });
    });

    it('serves inclusive ranges: at 0, at the end, single bytes, past the end', async () => {
      const id = newId();
      const data = randomBytes(100_000);
      await store.put(id, chunked(data));
      const range = async (start: number, end: number) => collect(store.get(id, { start, end }));
      expect((await range(0, 0)).equals(data.subarray(0, 1))).toBe(true);
      expect((await range(0, 63)).equals(data.subarray(0, 64))).toBe(true);
      expect((await range(99_999, 99_999)).equals(data.subarray(99_999))).toBe(true);
      expect((await range(65_530, 99_999)).equals(data.subarray(65_530))).toBe(true);
      expect((await range(500, 70_000)).equals(data.subarray(500, 70_001))).toBe(true);
      expect((await range(99_990, 200_000)).equals(data.subarray(99_990))).toBe(true);
      expect((await range(0, 99_999)).equals(data)).toBe(true);
    });

    it('rejects invalid ranges synchronously', async () => {
      const id = newId();
      await store.put(id, Readable.from([Buffer.from('abc')]));
      expect(() => store.get(id, { start: 2, end: 1 })).toThrow(RangeError);
      expect(() => store.get(id, { start: -1, end: 1 })).toThrow(RangeError);
    });

    it('read() returns exact bytes, shorter at the end', async () => {
      const id = newId();
      const data = randomBytes(5000);
      await store.put(id, chunked(data, 1000));
      expect((await store.read(id, 0, 64)).equals(data.subarray(0, 64))).toBe(true);
      expect((await store.read(id, 4990, 64)).equals(data.subarray(4990))).toBe(true);
      expect((await store.read(id, 5000, 10)).length).toBe(0);
      expect((await store.read(id, 10, 0)).length).toBe(0);
    });

    it('missing blobs: get errors ENOENT, read rejects ENOENT, stat is undefined, delete is fine', async () => {
      const id = newId();
      await expect(collect(store.get(id))).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(collect(store.get(id, { start: 0, end: 10 }))).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(store.read(id, 0, 64)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await store.stat(id)).toBeUndefined();
      await expect(store.delete(id)).resolves.toBeUndefined();
    });

    it('delete removes a blob and list() no longer reports it', async () => {
      const a = newId();
      const b = newId();
      await store.put(a, Readable.from([Buffer.from('a')]));
      await store.put(b, Readable.from([Buffer.from('b')]));
      expect(await collectIds(store.list())).toEqual([a, b].sort());
      await store.delete(a);
      expect(await store.stat(a)).toBeUndefined();
      expect(await collectIds(store.list())).toEqual([b]);
    });

    it('list() yields every id exactly once (many blobs, concurrent puts)', async () => {
      const ids = Array.from({ length: 40 }, newId);
      await Promise.all(ids.map((id, i) => store.put(id, Readable.from([Buffer.alloc(i, i)]))));
      expect(await collectIds(store.list())).toEqual([...ids].sort());
      for (const [i, id] of ids.entries()) expect(await store.stat(id)).toEqual({ size: i });
    });

    it('refuses to overwrite an existing id (blobs are immutable)', async () => {
      const id = newId();
      await store.put(id, Readable.from([Buffer.from('first')]));
      await expect(store.put(id, Readable.from([Buffer.from('second')]))).rejects.toMatchObject({ code: 'EEXIST' });
      expect((await collect(store.get(id))).toString()).toBe('first');
    });

    it('a body that errors halfway rejects with that error and leaves nothing', async () => {
      const id = newId();
      const boom = new Error('boom');
      await expect(store.put(id, failingBody(randomBytes(200_000), boom))).rejects.toBe(boom);
      expect(await store.stat(id)).toBeUndefined();
      expect(await collectIds(store.list())).toEqual([]);
    });

    it('an already-aborted signal rejects without writing', async () => {
      const id = newId();
      const ac = new AbortController();
      ac.abort();
      await expect(store.put(id, Readable.from([Buffer.from('x')]), ac.signal)).rejects.toMatchObject({
        name: 'AbortError',
      });
      expect(await store.stat(id)).toBeUndefined();
    });

    it('aborting mid-stream rejects and leaves nothing', async () => {
      const id = newId();
      const ac = new AbortController();
      const body = stallingBody(randomBytes(70_000));
      const put = store.put(id, body, ac.signal);
      setTimeout(() => ac.abort(), 50);
      await expect(put).rejects.toMatchObject({ name: 'AbortError' });
      expect(await store.stat(id)).toBeUndefined();
      expect(await collectIds(store.list())).toEqual([]);
    });

    it.each([
      '../x',
      'ABCDEF0123456789ABCDEF0123456789',
      'abc',
      '',
      '0123456789abcdef0123456789abcdef0',
      '../../etc/passwd',
    ])('rejects the invalid id %j everywhere', async (bad) => {
      await expect(store.put(bad, Readable.from([Buffer.from('x')]))).rejects.toThrow(/invalid blob id/);
      expect(() => store.get(bad)).toThrow(/invalid blob id/);
      await expect(store.read(bad, 0, 1)).rejects.toThrow(/invalid blob id/);
      await expect(store.stat(bad)).rejects.toThrow(/invalid blob id/);
      await expect(store.delete(bad)).rejects.toThrow(/invalid blob id/);
    });
  });
}
