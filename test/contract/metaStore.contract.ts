import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetaStore } from '../../src/meta/MetaStore.js';
import type { BucketRecord, ObjectRecord, PartRecord, PartRef, UploadRecord } from '../../src/meta/records.js';

/** A fresh, empty store and a way to dispose of it. */
export interface MetaStoreFixture {
  store: MetaStore;
  cleanup(): Promise<void>;
}

const hex = (n: number): string => randomBytes(n).toString('hex');
export const newUid = (): string => hex(16);

export function makeBucket(name: string, uid = newUid()): BucketRecord {
  return {
    name,
    uid,
    owner: 'acct-1',
    createdAt: 1_700_000_000_000,
    region: 'us-south',
    encryption: {
      rootKeyCrn: 'crn:v1:bluemix:public:kms:us-south:a/acct-1:inst:key:k1',
      customerManaged: false,
      wrappedDek: 'd3JhcHBlZA==',
      keyVersion: 'v1',
      aad: ['crn:bucket'],
      dekGeneration: 1,
    },
  };
}

export function makeObject(bucketUid: string, key: string, extra: Partial<ObjectRecord> = {}): ObjectRecord {
  return {
    bucketUid,
    key,
    versionId: hex(16),
    size: 5,
    lastModified: 1_700_000_000_000,
    headers: { contentType: 'text/plain' },
    metaSalt: hex(32),
    sealed: 'c2VhbGVk',
    dekGeneration: 1,
    stream: { dataId: hex(16), salt: hex(32), headerDigest: hex(32), size: 5, segmentLog2: 16 },
    ...extra,
  };
}

export function makeUpload(bucketUid: string, key: string, uploadId = hex(16)): UploadRecord {
  return { bucketUid, key, uploadId, initiated: 1_700_000_000_000, headers: {}, metaSalt: hex(32), sealed: 'c2VhbGVk' };
}

export function makePart(bucketUid: string, uploadId: string, partNumber: number): PartRecord & { bucketUid: string } {
  return {
    bucketUid,
    uploadId,
    partNumber,
    dataId: hex(16),
    salt: hex(32),
    headerDigest: hex(32),
    size: 5 * 1024 * 1024,
    segmentLog2: 16,
    sealedEtag: 'c2VhbGVk',
    lastModified: 1_700_000_000_000,
  };
}

/** The PartRef an object record keeps for a part. */
export function partRef(p: PartRecord & { bucketUid: string }): PartRef {
  const { bucketUid: _uid, lastModified: _lm, sealedChecksums: _sc, ...ref } = p;
  return ref;
}

/** Keys whose UTF-8 byte order differs from JavaScript's UTF-16 `<` order. */
export const UNICODE_KEYS_IN_BYTE_ORDER = ['a', 'a/b', 'a0', 'z', 'é', '\u{E000}', '\u{FFFF}', '😀', '😀x'];

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/**
 * The MetaStore contract. Call from a *.test.ts with a factory for each
 * implementation; listing order, marker semantics and batch atomicity are pinned here.
 */
export function metaStoreContract(name: string, factory: () => Promise<MetaStoreFixture>): void {
  describe(`MetaStore contract: ${name}`, () => {
    let fx: MetaStoreFixture;
    let store: MetaStore;
    const uid = newUid();
    const keysOf = async (q: Parameters<MetaStore['listObjects']>[0]) =>
      (await all(store.listObjects(q))).map((o) => o.key);
    const putObjects = async (bucketUid: string, keys: string[]) => {
      const b = store.batch();
      for (const k of keys) b.putObject(makeObject(bucketUid, k));
      await b.commit();
    };

    beforeEach(async () => {
      fx = await factory();
      store = fx.store;
    });
    afterEach(async () => {
      await store.close();
      await fx.cleanup();
    });

    it('buckets: put, get, list in name order, delete', async () => {
      const b1 = makeBucket('zeta');
      const b2 = { ...makeBucket('alpha'), tagging: { env: 'test' } };
      await store.batch().putBucket(b1).putBucket(b2).commit();
      expect(await store.getBucket('alpha')).toEqual(b2);
      expect(await store.getBucket('missing')).toBeUndefined();
      expect((await store.listBuckets()).map((b) => b.name)).toEqual(['alpha', 'zeta']);
      await store.batch().deleteBucket('alpha').deleteBucket('never-existed').commit();
      expect(await store.listBuckets()).toEqual([b1]);
    });

    it('objects: records round-trip exactly, put replaces, delete removes', async () => {
      const parts = [1, 2].map((n) => partRef(makePart(uid, 'up1', n)));
      const multipart = makeObject(uid, 'mp', {
        stream: undefined,
        parts,
        storageClass: 'STANDARD',
        checksumAlgorithm: 'CRC32',
      });
      const single = makeObject(uid, 'one');
      await store.batch().putObject(single).putObject(multipart).commit();
      expect(await store.getObject(uid, 'one')).toEqual(single);
      expect(await store.getObject(uid, 'mp')).toEqual(multipart);
      const replaced = makeObject(uid, 'one', { size: 99 });
      await store.batch().putObject(replaced).commit();
      expect(await store.getObject(uid, 'one')).toEqual(replaced);
      await store.batch().deleteObject(uid, 'one').deleteObject(uid, 'absent').commit();
      expect(await store.getObject(uid, 'one')).toBeUndefined();
      expect(await store.getObject(newUid(), 'mp')).toBeUndefined();
    });

    it('listObjects: UTF-8 byte order, not UTF-16 order', async () => {
      await putObjects(uid, [...UNICODE_KEYS_IN_BYTE_ORDER].reverse());
      expect(await keysOf({ bucketUid: uid, limit: 1000 })).toEqual(UNICODE_KEYS_IN_BYTE_ORDER);
      // The same keys sorted as JS strings put the emoji before U+E000 and U+FFFF.
      expect([...UNICODE_KEYS_IN_BYTE_ORDER].sort()).not.toEqual(UNICODE_KEYS_IN_BYTE_ORDER);
    });

    it('listObjects: prefix, after (strict) and limit', async () => {
      await putObjects(uid, UNICODE_KEYS_IN_BYTE_ORDER);
      expect(await keysOf({ bucketUid: uid, prefix: 'a', limit: 100 })).toEqual(['a', 'a/b', 'a0']);
      expect(await keysOf({ bucketUid: uid, prefix: 'a', after: 'a', limit: 100 })).toEqual(['a/b', 'a0']);
      expect(await keysOf({ bucketUid: uid, prefix: 'a', after: '', limit: 100 })).toEqual(['a', 'a/b', 'a0']);
      expect(await keysOf({ bucketUid: uid, prefix: 'a0', after: 'a', limit: 100 })).toEqual(['a0']);
      expect(await keysOf({ bucketUid: uid, prefix: '😀', limit: 100 })).toEqual(['😀', '😀x']);
      expect(await keysOf({ bucketUid: uid, after: '\u{E000}', limit: 2 })).toEqual(['\u{FFFF}', '😀']);
      expect(await keysOf({ bucketUid: uid, after: '\u{FFFF}', limit: 100 })).toEqual(['😀', '😀x']);
      expect(await keysOf({ bucketUid: uid, after: 'zz', limit: 100 })).toEqual([
        'é',
        '\u{E000}',
        '\u{FFFF}',
        '😀',
        '😀x',
      ]);
      expect(await keysOf({ bucketUid: uid, after: '😀x', limit: 100 })).toEqual([]);
      expect(await keysOf({ bucketUid: uid, prefix: 'a', after: 'b', limit: 100 })).toEqual([]);
      expect(await keysOf({ bucketUid: uid, prefix: 'nope', limit: 100 })).toEqual([]);
      expect(await keysOf({ bucketUid: uid, limit: 0 })).toEqual([]);
      expect(await keysOf({ bucketUid: uid, limit: 3 })).toEqual(['a', 'a/b', 'a0']);
      // Large limits mean "no limit", not a value wrapped to 32 bits (LevelDB's native limit is an int32).
      for (const limit of [2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]) {
        expect(await keysOf({ bucketUid: uid, limit })).toEqual(UNICODE_KEYS_IN_BYTE_ORDER);
      }
    });

    it('listObjects: the delimiter hint only ever leaves out keys of a common prefix already returned', async () => {
      const keys = ['a', 'a/1', 'a/2', 'a/b/1', 'a0', 'b/', 'b/x', 'c', 'd//e', 'd//f', 'é/1', 'é/2', '😀/1', '😀/2'];
      await putObjects(uid, keys);
      // What the list service makes of a listing: each key, or the common prefix it rolls up into, once.
      const rollup = (ks: string[], prefix: string, d: string) => {
        const out: string[] = [];
        for (const k of ks) {
          const at = k.indexOf(d, prefix.length);
          const entry = at >= 0 ? k.slice(0, at + d.length) : k;
          if (out[out.length - 1] !== entry) out.push(entry);
        }
        return out;
      };
      const cases: Array<[string, string, string | undefined]> = [
        ['', '/', undefined],
        ['a/', '/', undefined],
        ['', '/', 'a/'],
        ['', '/', 'a/1'],
        ['', '//', undefined],
        ['a', '/', undefined],
        ['', 'é', undefined],
      ];
      for (const [prefix, delimiter, after] of cases) {
        const q = { bucketUid: uid, prefix, ...(after === undefined ? {} : { after }), limit: 1000 };
        const hinted = await keysOf({ ...q, delimiter });
        const full = await keysOf(q);
        expect(rollup(hinted, prefix, delimiter)).toEqual(rollup(full, prefix, delimiter));
        // Keys that roll up into no common prefix are all there, and nothing is invented or reordered.
        const plain = (ks: string[]) => ks.filter((k) => k.indexOf(delimiter, prefix.length) < 0);
        expect(plain(hinted)).toEqual(plain(full));
        expect(full.filter((k) => hinted.includes(k))).toEqual(hinted);
      }
    });

    it('listObjects: buckets are isolated, and stopping early is harmless', async () => {
      const other = newUid();
      await putObjects(uid, ['k1', 'k2', 'k3']);
      await putObjects(other, ['k0', 'k4']);
      expect(await keysOf({ bucketUid: other, limit: 100 })).toEqual(['k0', 'k4']);
      for await (const o of store.listObjects({ bucketUid: uid, limit: 100 })) {
        expect(o.key).toBe('k1');
        break;
      }
      expect(await keysOf({ bucketUid: uid, limit: 100 })).toEqual(['k1', 'k2', 'k3']);
    });

    it('uploads: get, list in (key, uploadId) order, markers, prefix, limit, delete', async () => {
      const u = (key: string, id: string) => makeUpload(uid, key, id);
      const uploads = [u('a', 'u2'), u('a', 'u1'), u('a/b', 'u0'), u('a0', 'u9'), u('b', 'u5'), u('😀', 'u3')];
      const batch = store.batch();
      for (const up of uploads) batch.putUpload(up);
      await batch.commit();
      const list = async (q: Omit<Parameters<MetaStore['listUploads']>[0], 'bucketUid' | 'limit'>, limit = 100) =>
        (await all(store.listUploads({ bucketUid: uid, limit, ...q }))).map((x) => `${x.key}#${x.uploadId}`);
      expect(await store.getUpload(uid, 'a', 'u1')).toEqual(uploads[1]);
      expect(await store.getUpload(uid, 'a', 'nope')).toBeUndefined();
      expect(await list({})).toEqual(['a#u1', 'a#u2', 'a/b#u0', 'a0#u9', 'b#u5', '😀#u3']);
      expect(await list({ afterKey: 'a' })).toEqual(['a/b#u0', 'a0#u9', 'b#u5', '😀#u3']);
      expect(await list({ afterKey: 'a', afterUploadId: 'u1' })).toEqual(['a#u2', 'a/b#u0', 'a0#u9', 'b#u5', '😀#u3']);
      expect(await list({ prefix: 'a', afterKey: 'a/b' })).toEqual(['a0#u9']);
      expect(await list({ afterUploadId: 'u1' })).toEqual(await list({}));
      expect(await list({}, 2)).toEqual(['a#u1', 'a#u2']);
      await store.batch().deleteUpload(uid, 'a', 'u1').commit();
      expect(await list({ prefix: 'a' }, 1)).toEqual(['a#u2']);
      expect(await all(store.listUploads({ bucketUid: newUid(), limit: 10 }))).toEqual([]);
    });

    it('parts: numeric order, after, limit, get, delete, isolation between uploads', async () => {
      const batch = store.batch();
      for (const n of [10, 2, 10_000, 1]) batch.putPart(makePart(uid, 'upA', n));
      batch.putPart(makePart(uid, 'upB', 3));
      await batch.commit();
      const nums = async (after?: number, limit?: number) =>
        (await store.listParts('upA', after, limit)).map((p) => p.partNumber);
      expect(await nums()).toEqual([1, 2, 10, 10_000]);
      expect(await nums(2)).toEqual([10, 10_000]);
      expect(await nums(0, 2)).toEqual([1, 2]);
      expect(await nums(0, 2 ** 32 + 1)).toEqual([1, 2, 10, 10_000]);
      expect(await nums(10_000)).toEqual([]);
      expect(await nums(123_456)).toEqual([]);
      expect((await store.getPart('upA', 10))?.partNumber).toBe(10);
      expect(await store.getPart('upA', 3)).toBeUndefined();
      const p3 = makePart(uid, 'upB', 3);
      await store.batch().putPart(p3).deletePart('upA', 2).commit();
      expect(await store.getPart('upB', 3)).toMatchObject({ ...p3, bucketUid: uid });
      expect(await nums()).toEqual([1, 10, 10_000]);
      expect(() => store.batch().putPart(makePart(uid, 'upA', 0))).toThrow();
      expect(() => store.batch().putPart(makePart(uid, 'upA', 10_001))).toThrow();
    });

    it('bucketHasContent: objects or uploads of that bucket only', async () => {
      const other = newUid();
      expect(await store.bucketHasContent(uid)).toBe(false);
      await putObjects(other, ['x']);
      expect(await store.bucketHasContent(uid)).toBe(false);
      await store
        .batch()
        .putUpload(makeUpload(uid, 'k', 'up1'))
        .commit();
      expect(await store.bucketHasContent(uid)).toBe(true);
      await store.batch().deleteUpload(uid, 'k', 'up1').putObject(makeObject(uid, 'o')).commit();
      expect(await store.bucketHasContent(uid)).toBe(true);
      await store.batch().deleteObject(uid, 'o').commit();
      expect(await store.bucketHasContent(uid)).toBe(false);
    });

    it('referencedDataIds: single streams, completed parts and pending parts', async () => {
      const single = makeObject(uid, 'single');
      const parts = [partRef(makePart(uid, 'done', 1)), partRef(makePart(uid, 'done', 2))];
      const multi = makeObject(uid, 'multi', { stream: undefined, parts });
      const pending = makePart(newUid(), 'pending', 7);
      await store.batch().putObject(single).putObject(multi).putPart(pending).commit();
      const ids = new Set(await all(store.referencedDataIds()));
      const expected = [single.stream?.dataId, ...parts.map((p) => p.dataId), pending.dataId];
      expect([...ids].sort()).toEqual(expected.sort());
    });

    it('batches: nothing is visible before commit, and a batch commits once', async () => {
      const b = store.batch().putObject(makeObject(uid, 'k')).putBucket(makeBucket('bkt'));
      expect(await store.getObject(uid, 'k')).toBeUndefined();
      expect(await store.getBucket('bkt')).toBeUndefined();
      await b.commit();
      expect(await store.getObject(uid, 'k')).toBeDefined();
      await expect(b.commit()).rejects.toThrow();
      expect(() => b.deleteObject(uid, 'k')).toThrow();
      await expect(store.batch().commit()).resolves.toBeUndefined();
    });

    it('batches: later operations on the same key win', async () => {
      const o = makeObject(uid, 'k');
      await store.batch().putObject(o).deleteObject(uid, 'k').commit();
      expect(await store.getObject(uid, 'k')).toBeUndefined();
      await store.batch().deleteObject(uid, 'k').putObject(o).commit();
      expect(await store.getObject(uid, 'k')).toEqual(o);
    });

    it('rejects keys that cannot be stored faithfully', async () => {
      expect(() => store.batch().putObject(makeObject(uid, 'bad\u0000key'))).toThrow();
      expect(() => store.batch().putObject(makeObject(uid, 'lone\uD800'))).toThrow();
      expect(() => store.batch().putObject(makeObject('not-a-uid', 'k'))).toThrow();
      expect(() => store.batch().putUpload(makeUpload(uid, 'k', 'a/b'))).toThrow();
      expect(() => store.batch().putObject(makeObject(uid, ''))).toThrow();
    });

    it('reads of names that could never be stored are "not found", not errors', async () => {
      await putObjects(uid, ['a', 'b']);
      await store
        .batch()
        .putUpload(makeUpload(uid, 'a', 'up1'))
        .commit();
      expect(await store.getBucket('')).toBeUndefined();
      expect(await store.getObject(uid, 'a\u0000b')).toBeUndefined();
      expect(await store.getObject(uid, '\uD800')).toBeUndefined();
      expect(await store.getUpload(uid, 'a', '../up1')).toBeUndefined();
      expect(await store.getPart('not/ours', 1)).toBeUndefined();
      expect(await store.getPart('up1', 0)).toBeUndefined();
      expect(await store.getPart('up1', 10_001)).toBeUndefined();
      expect(await store.listParts('%zz/..')).toEqual([]);
      // Prefixes and markers are client input: any string is a valid bound.
      expect(await keysOf({ bucketUid: uid, prefix: 'a\u0000', limit: 10 })).toEqual([]);
      expect(await keysOf({ bucketUid: uid, prefix: '\uDFFF', limit: 10 })).toEqual([]);
      expect(await keysOf({ bucketUid: uid, after: 'a\u0000', limit: 10 })).toEqual(['b']);
      const ups = await all(store.listUploads({ bucketUid: uid, afterKey: '', afterUploadId: 'not/an id', limit: 10 }));
      expect(ups.map((u) => u.uploadId)).toEqual(['up1']);
      await expect(store.getObject('Not-A-Uid', 'a')).rejects.toThrow(/bucketUid/);
    });
  });
}
