import { describe, expect, it } from 'vitest';
import { MemoryMetaStore } from '../../../src/meta/memoryMetaStore.js';
import type { ObjectRecord } from '../../../src/meta/records.js';
import { makeObject, metaStoreContract, newUid } from '../../contract/metaStore.contract.js';
import { metaStoreVersionsContract } from '../../contract/metaStoreVersions.contract.js';

metaStoreContract('MemoryMetaStore', async () => ({ store: new MemoryMetaStore(), cleanup: async () => undefined }));
metaStoreVersionsContract('MemoryMetaStore', async () => ({
  store: new MemoryMetaStore(),
  cleanup: async () => undefined,
}));

async function keys(it: AsyncIterable<ObjectRecord>): Promise<string[]> {
  const out: string[] = [];
  for await (const o of it) out.push(o.key);
  return out;
}

describe('MemoryMetaStore', () => {
  const uid = newUid();

  it('a listing in progress reads the state it started on, as a LevelDB iterator does', async () => {
    const store = new MemoryMetaStore();
    await store.batch().putObject(makeObject(uid, 'a')).putObject(makeObject(uid, 'c')).commit();
    const it = store.listObjects({ bucketUid: uid, limit: 10 })[Symbol.asyncIterator]();
    expect((await it.next()).value?.key).toBe('a');
    await store.batch().putObject(makeObject(uid, 'b')).deleteObject(uid, 'c').commit();
    expect((await it.next()).value?.key).toBe('c');
    expect((await it.next()).done).toBe(true);
    expect(await keys(store.listObjects({ bucketUid: uid, limit: 10 }))).toEqual(['a', 'b']);
  });

  it('returns copies: changing a record read back does not change the store', async () => {
    const store = new MemoryMetaStore();
    const o = makeObject(uid, 'k');
    await store.batch().putObject(o).commit();
    o.size = 1;
    const read = await store.getObject(uid, 'k');
    read!.headers.contentType = 'changed';
    expect(await store.getObject(uid, 'k')).toEqual({ ...o, size: 5 });
  });

  it('a batch that fails validation halfway commits nothing', async () => {
    const store = new MemoryMetaStore();
    const b = store.batch().putObject(makeObject(uid, 'first'));
    expect(() => b.putObject(makeObject(uid, 'bad\u0000'))).toThrow();
    expect(await store.getObject(uid, 'first')).toBeUndefined();
  });

  it('pages through a large listing with after + limit', async () => {
    const store = new MemoryMetaStore();
    const all = Array.from({ length: 1200 }, (_, i) => `k/${String(i).padStart(5, '0')}`);
    const batch = store.batch();
    for (const k of [...all].reverse()) batch.putObject(makeObject(uid, k));
    await batch.commit();
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await keys(store.listObjects({ bucketUid: uid, prefix: 'k/', after, limit: 500 }));
      seen.push(...page);
      if (page.length < 500) break;
      after = page[page.length - 1];
    }
    expect(seen).toEqual(all);
  });

  it('refuses reads and commits after close', async () => {
    const store = new MemoryMetaStore();
    const b = store.batch().putObject(makeObject(uid, 'k'));
    await store.close();
    await expect(b.commit()).rejects.toThrow(/closed/);
    await expect(store.getObject(uid, 'k')).rejects.toThrow(/closed/);
  });
});
