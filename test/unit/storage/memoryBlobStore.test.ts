import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../../src/storage/memoryBlobStore.js';
import { blobStoreContract, collect, newId } from '../../contract/blobStore.contract.js';

blobStoreContract('MemoryBlobStore', async () => ({ store: new MemoryBlobStore(), cleanup: async () => undefined }));
// Chunks that do not divide the segment size, as FsBlobStore's configurable read chunk may not.
blobStoreContract('MemoryBlobStore, 1000-byte read chunks', async () => ({
  store: new MemoryBlobStore({ readChunkBytes: 1000 }),
  cleanup: async () => undefined,
}));

describe('MemoryBlobStore', () => {
  it('hands out copies: changing a chunk read back does not change the blob', async () => {
    const store = new MemoryBlobStore();
    const id = newId();
    const input = Buffer.from('hello world');
    await store.put(id, Readable.from([input]));
    input.fill(0);
    const first = await collect(store.get(id));
    first.fill(0x78);
    (await store.read(id, 0, 5)).fill(0x78);
    expect((await collect(store.get(id))).toString()).toBe('hello world');
  });

  it('a put that loses a race for its id rejects EEXIST and keeps the first blob', async () => {
    const store = new MemoryBlobStore();
    const id = newId();
    const slow = new Readable({ read() {} });
    const first = store.put(id, slow);
    await store.put(id, Readable.from([Buffer.from('fast')]));
    slow.push(Buffer.from('slow'));
    slow.push(null);
    await expect(first).rejects.toMatchObject({ code: 'EEXIST' });
    expect((await collect(store.get(id))).toString()).toBe('fast');
    expect(store.size).toBe(1);
  });

  it('get streams in chunks of readChunkBytes, and refuses a chunk size below 1', async () => {
    const store = new MemoryBlobStore({ readChunkBytes: 3 });
    const id = newId();
    await store.put(id, Readable.from([Buffer.from('abcdefgh')]));
    const chunks: string[] = [];
    for await (const c of store.get(id, { start: 1, end: 6 })) chunks.push(String(c));
    expect(chunks).toEqual(['bcd', 'efg']);
    expect(() => new MemoryBlobStore({ readChunkBytes: 0 })).toThrow(RangeError);
  });

  it('refuses every operation after close', async () => {
    const store = new MemoryBlobStore();
    await store.close();
    await expect(store.stat(newId())).rejects.toThrow(/closed/);
  });
});
