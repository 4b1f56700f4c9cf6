/**
 * The MetaStore contract for versioning: noncurrent versions (the history) kept
 * apart from current ones, delete markers left out of plain listings, and
 * history seen by emptiness checks and the garbage sweep. Run next to
 * metaStoreContract against each implementation.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetaStore } from '../../src/meta/MetaStore.js';
import { makeObject, newUid, type MetaStoreFixture } from './metaStore.contract.js';

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const marker = (bucketUid: string, key: string) =>
  makeObject(bucketUid, key, { deleteMarker: true, stream: undefined, size: 0, metaSalt: '', sealed: '' });

export function metaStoreVersionsContract(name: string, factory: () => Promise<MetaStoreFixture>): void {
  describe(`MetaStore versions contract: ${name}`, () => {
    let fx: MetaStoreFixture;
    let store: MetaStore;
    const uid = newUid();

    beforeEach(async () => {
      fx = await factory();
      store = fx.store;
    });
    afterEach(async () => {
      await store.close();
      await fx.cleanup();
    });

    it('history: put, get by historyId, listed per key in historyId order, deleted', async () => {
      const v1 = makeObject(uid, 'k', { version: 'b1' });
      const v2 = makeObject(uid, 'k', { version: 'a2' });
      const other = makeObject(uid, 'k2', { version: 'a0' });
      const prefixKey = makeObject(uid, 'k\u0001', { version: 'a0' });
      await store.batch().putVersion('b1', v1).putVersion('a2', v2).putVersion('a0', other).commit();
      await store.batch().putVersion('a0', prefixKey).commit();
      expect(await store.getVersion(uid, 'k', 'b1')).toEqual(v1);
      expect(await store.getVersion(uid, 'k', 'zz')).toBeUndefined();
      // Names that can never be stored are simply not found.
      expect(await store.getVersion(uid, 'k', 'a/b')).toBeUndefined();
      expect(await store.getVersion(uid, 'bad\u0000key', 'b1')).toBeUndefined();
      const listed = await all(store.listVersions({ bucketUid: uid, key: 'k', limit: 10 }));
      expect(listed).toEqual([
        { historyId: 'a2', record: v2 },
        { historyId: 'b1', record: v1 },
      ]);
      expect(await all(store.listVersions({ bucketUid: uid, key: 'k', after: 'a2', limit: 10 }))).toEqual([
        { historyId: 'b1', record: v1 },
      ]);
      expect(await all(store.listVersions({ bucketUid: uid, key: 'k', limit: 1 }))).toHaveLength(1);
      expect(await all(store.listVersions({ bucketUid: uid, key: 'k', limit: 0 }))).toEqual([]);
      // History never shows up as a current object.
      expect(await store.getObject(uid, 'k')).toBeUndefined();
      expect(await all(store.listObjects({ bucketUid: uid, limit: 10, deleteMarkers: true }))).toEqual([]);
      await store.batch().deleteVersion(uid, 'k', 'a2').deleteVersion(uid, 'k', 'never').commit();
      expect((await all(store.listVersions({ bucketUid: uid, key: 'k', limit: 10 }))).map((e) => e.historyId)).toEqual([
        'b1',
      ]);
    });

    it('a batch moves a version between current and history atomically', async () => {
      const cur = makeObject(uid, 'k', { version: 'b0' });
      await store.batch().putObject(cur).commit();
      const next = makeObject(uid, 'k', { version: 'a9' });
      await store.batch().putObject(next).putVersion('b0', cur).commit();
      expect(await store.getObject(uid, 'k')).toEqual(next);
      expect(await store.getVersion(uid, 'k', 'b0')).toEqual(cur);
      // And back: promote the newest noncurrent version.
      await store.batch().putObject(cur).deleteVersion(uid, 'k', 'b0').commit();
      expect(await store.getObject(uid, 'k')).toEqual(cur);
      expect(await all(store.listVersions({ bucketUid: uid, key: 'k', limit: 10 }))).toEqual([]);
    });

    it('delete markers: left out of plain listings (with a delimiter too), listed when asked for', async () => {
      const b = store.batch();
      for (const k of ['a', 'd/1', 'e']) b.putObject(makeObject(uid, k));
      b.putObject(marker(uid, 'b'));
      b.putObject(marker(uid, 'd/0'));
      await b.commit();
      const keys = async (q: Partial<Parameters<MetaStore['listObjects']>[0]>) =>
        (await all(store.listObjects({ bucketUid: uid, limit: 100, ...q }))).map((o) => o.key);
      expect(await keys({})).toEqual(['a', 'd/1', 'e']);
      expect(await keys({ limit: 2 })).toEqual(['a', 'd/1']);
      // A marker first under a common prefix must not hide the live key after it.
      expect(await keys({ delimiter: '/' })).toEqual(['a', 'd/1', 'e']);
      expect(await keys({ deleteMarkers: true })).toEqual(['a', 'b', 'd/0', 'd/1', 'e']);
      expect(await keys({ deleteMarkers: true, limit: 2 })).toEqual(['a', 'b']);
      expect((await store.getObject(uid, 'b'))?.deleteMarker).toBe(true);
    });

    it('bucketHasContent sees delete markers and noncurrent versions', async () => {
      const a = newUid();
      const b = newUid();
      expect(await store.bucketHasContent(a)).toBe(false);
      await store.batch().putObject(marker(a, 'k')).putVersion('a1', makeObject(b, 'k')).commit();
      expect(await store.bucketHasContent(a)).toBe(true);
      expect(await store.bucketHasContent(b)).toBe(true);
    });

    it('referencedDataIds includes every noncurrent version', async () => {
      const cur = makeObject(uid, 'k');
      const old = makeObject(uid, 'k');
      await store.batch().putObject(cur).putVersion('a1', old).putObject(marker(uid, 'm')).commit();
      const ids = await all(store.referencedDataIds());
      expect(ids).toEqual(expect.arrayContaining([cur.stream!.dataId, old.stream!.dataId]));
      expect(ids).toHaveLength(2);
    });

    it('refuses a historyId that could break the key layout', () => {
      expect(() => store.batch().putVersion('a/b', makeObject(uid, 'k'))).toThrow(TypeError);
      expect(() => store.batch().putVersion('', makeObject(uid, 'k'))).toThrow(TypeError);
      expect(() => store.batch().deleteVersion(uid, 'k', 'x\u0000')).toThrow(TypeError);
    });
  });
}
