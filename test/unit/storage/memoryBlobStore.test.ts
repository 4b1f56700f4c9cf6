import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../../src/storage/memoryBlobStore.js';
import { blobStoreContract, collect, newId } from '../../contract/blobStore.contract.js';

blobStoreContract('MemoryBlobStore', async () => ({ store: new MemoryBlobStore(), cleanup: async () => undefined }));

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

  it('refuses every operation after close', async () => {
    const store = new MemoryBlobStore();
    await store.close();
    await expect(store.stat(newId())).rejects.toThrow(/closed/);
  });
});
