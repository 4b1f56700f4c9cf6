import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LevelMetaStore } from '../../../src/meta/levelMetaStore.js';
import type { BucketRecord, ObjectRecord } from '../../../src/meta/records.js';
import type { BucketService } from '../../../src/services/bucketService.js';
import { ListService, type ListInput, type ListOutput } from '../../../src/services/listService.js';
import { sealMeta } from '../../../src/services/sealedMeta.js';

const DEK = Buffer.alloc(32, 0x42);

/** What ListService needs of a BucketService: dek(). */
class FakeBuckets {
  calls = 0;
  constructor(private readonly key: Buffer | Error) {}
  async dek(_b: BucketRecord, _requestId?: string): Promise<Buffer> {
    this.calls++;
    if (this.key instanceof Error) throw this.key;
    return Buffer.from(this.key);
  }
  asService(): BucketService {
    return this as unknown as BucketService;
  }
}

function bucketRecord(uid: string): BucketRecord {
  return {
    name: 'b',
    uid,
    owner: 'acct',
    createdAt: 0,
    region: 'us-east-1',
    encryption: {
      rootKeyCrn: 'crn:k',
      customerManaged: false,
      wrappedDek: 'w',
      keyVersion: 'v1',
      aad: [],
      dekGeneration: 1,
    },
  };
}

/** The ETag the fixture seals for a key: recognisable, and different per key. */
const etagOf = (key: string) => Buffer.from(key, 'utf8').toString('hex').slice(0, 32).padEnd(32, '0');

function objectRecord(bucketUid: string, key: string, i: number): ObjectRecord {
  const versionId = randomBytes(16).toString('hex');
  const sealed = sealMeta(DEK, { bucketUid, key, versionId }, { etag: etagOf(key), checksums: {}, userMeta: {} });
  return {
    bucketUid,
    key,
    versionId,
    size: i,
    lastModified: 1_700_000_000_000 + i,
    headers: {},
    metaSalt: sealed.metaSalt,
    sealed: sealed.sealed,
    dekGeneration: 1,
    stream: { dataId: randomBytes(16).toString('hex'), salt: '00', headerDigest: '00', size: i, segmentLog2: 16 },
  };
}

describe('ListService.list (LevelMetaStore, sealed ETags)', () => {
  let dir: string;
  let meta: LevelMetaStore;
  let bucket: BucketRecord;
  let buckets: FakeBuckets;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coffer-list-'));
    meta = await LevelMetaStore.open(join(dir, 'meta'));
    bucket = bucketRecord(randomBytes(16).toString('hex'));
    buckets = new FakeBuckets(DEK);
  });
  afterEach(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function put(keys: string[]): Promise<void> {
    const b = meta.batch();
    keys.forEach((k, i) => b.putObject(objectRecord(bucket.uid, k, i)));
    await b.commit();
  }

  function list(over: Partial<ListInput> = {}): Promise<ListOutput> {
    return new ListService({ meta, buckets: buckets.asService() }).list({
      bucket,
      prefix: '',
      delimiter: '',
      after: '',
      maxKeys: 1000,
      ...over,
    });
  }

  /** Keys and prefixes in the order a client sees them (objects and prefixes interleaved by key). */
  const names = (o: ListOutput) =>
    [...o.objects.map((x) => x.key), ...o.commonPrefixes].sort((a, b) =>
      Buffer.compare(Buffer.from(a), Buffer.from(b)),
    );

  /** Follow `last` page by page, as NextMarker / continuation tokens do. */
  async function pages(over: Partial<ListInput>): Promise<{ pages: string[][]; truncated: boolean[] }> {
    const out: string[][] = [];
    const truncated: boolean[] = [];
    let after = over.after ?? '';
    for (let i = 0; i < 100; i++) {
      const page = await list({ ...over, after });
      out.push(names(page));
      truncated.push(page.isTruncated);
      if (!page.isTruncated) break;
      expect(page.last).toBeDefined();
      after = page.last!;
    }
    return { pages: out, truncated };
  }

  it('lists objects in key order with size, lastModified, storage class and the sealed ETag', async () => {
    await put(['b', 'a', 'c']);
    const out = await list();
    expect(out.objects.map((o) => o.key)).toEqual(['a', 'b', 'c']);
    expect(out.objects[0]).toEqual({
      key: 'a',
      size: 1,
      lastModified: 1_700_000_000_001,
      etag: etagOf('a'),
      storageClass: 'STANDARD',
    });
    expect(out).toMatchObject({ commonPrefixes: [], isTruncated: false, last: 'c' });
  });

  it('an empty bucket', async () => {
    expect(await list()).toEqual({ objects: [], commonPrefixes: [], isTruncated: false });
  });

  it('keeps a stored storage class', async () => {
    const rec = { ...objectRecord(bucket.uid, 'cold', 1), storageClass: 'GLACIER' };
    await meta.batch().putObject(rec).commit();
    expect((await list()).objects[0].storageClass).toBe('GLACIER');
  });

  it('prefix filters', async () => {
    await put(['a/1', 'a/2', 'ab', 'b/1']);
    expect(names(await list({ prefix: 'a/' }))).toEqual(['a/1', 'a/2']);
    expect(names(await list({ prefix: 'a' }))).toEqual(['a/1', 'a/2', 'ab']);
    expect(names(await list({ prefix: 'zzz' }))).toEqual([]);
  });

  it('delimiter rolls keys up into common prefixes, each once', async () => {
    await put(['a/1', 'a/2', 'a/b/3', 'b', 'c/1', 'd/e/f']);
    const out = await list({ delimiter: '/' });
    expect(out.objects.map((o) => o.key)).toEqual(['b']);
    expect(out.commonPrefixes).toEqual(['a/', 'c/', 'd/']);
  });

  it('prefix + delimiter: roll-up starts after the prefix', async () => {
    await put([
      'photos/2023/a.jpg',
      'photos/2023/b.jpg',
      'photos/2024/c.jpg',
      'photos/index.html',
      'photos/',
      'photosx',
    ]);
    const out = await list({ prefix: 'photos/', delimiter: '/' });
    expect(out.objects.map((o) => o.key)).toEqual(['photos/', 'photos/index.html']);
    expect(out.commonPrefixes).toEqual(['photos/2023/', 'photos/2024/']);
  });

  it('a key ending in the delimiter rolls up into its own prefix', async () => {
    await put(['dir/', 'dir/file', 'file']);
    const out = await list({ delimiter: '/' });
    expect(out.objects.map((o) => o.key)).toEqual(['file']);
    expect(out.commonPrefixes).toEqual(['dir/']);
  });

  it('multi-character delimiters', async () => {
    await put(['a--b--c', 'a--d', 'e']);
    const out = await list({ delimiter: '--' });
    expect([out.objects.map((o) => o.key), out.commonPrefixes]).toEqual([['e'], ['a--']]);
  });

  it('maxKeys counts objects and common prefixes together', async () => {
    await put(['a/1', 'a/2', 'b', 'c/1', 'd']);
    const out = await list({ delimiter: '/', maxKeys: 3 });
    expect(out.objects.map((o) => o.key)).toEqual(['b']);
    expect(out.commonPrefixes).toEqual(['a/', 'c/']);
    expect(out.isTruncated).toBe(true);
    expect(out.last).toBe('c/');
  });

  it('isTruncated is false when exactly maxKeys entries exist', async () => {
    await put(['a', 'b', 'c']);
    expect(await list({ maxKeys: 3 })).toMatchObject({ isTruncated: false, last: 'c' });
    expect(await list({ maxKeys: 2 })).toMatchObject({ isTruncated: true, last: 'b' });
  });

  it('isTruncated is false when the only entries left belong to the last common prefix', async () => {
    await put(['a', 'p/1', 'p/2', 'p/3']);
    expect(await list({ delimiter: '/', maxKeys: 2 })).toMatchObject({
      commonPrefixes: ['p/'],
      isTruncated: false,
      last: 'p/',
    });
  });

  it('maxKeys 0 returns nothing and does not ask for the key', async () => {
    await put(['a']);
    expect(await list({ maxKeys: 0 })).toEqual({ objects: [], commonPrefixes: [], isTruncated: false });
    expect(buckets.calls).toBe(0);
  });

  it('after is exclusive (marker / start-after)', async () => {
    await put(['a', 'b', 'c']);
    expect(names(await list({ after: 'a' }))).toEqual(['b', 'c']);
    expect(names(await list({ after: 'aa' }))).toEqual(['b', 'c']);
    expect(names(await list({ after: 'c' }))).toEqual([]);
  });

  it('paging by last visits every key exactly once', async () => {
    const keys = Array.from({ length: 23 }, (_, i) => `k${String(i).padStart(3, '0')}`);
    await put(keys);
    const r = await pages({ maxKeys: 5 });
    expect(r.pages.flat()).toEqual(keys);
    expect(r.pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
    expect(r.truncated).toEqual([true, true, true, true, false]);
  });

  it('resuming after a common prefix does not repeat it or list its keys', async () => {
    await put(['a/1', 'a/2', 'a/3', 'b/1', 'b/2', 'c', 'd/1']);
    const r = await pages({ delimiter: '/', maxKeys: 1 });
    expect(r.pages).toEqual([['a/'], ['b/'], ['c'], ['d/']]);
    expect(r.truncated).toEqual([true, true, true, false]);
  });

  it('resuming after a common prefix under a prefix', async () => {
    await put(['x/a/1', 'x/a/2', 'x/b/1', 'x/c', 'x/d/1/2']);
    const r = await pages({ prefix: 'x/', delimiter: '/', maxKeys: 2 });
    expect(r.pages).toEqual([
      ['x/a/', 'x/b/'],
      ['x/c', 'x/d/'],
    ]);
  });

  it('resuming after a folder-marker object equal to the prefix lists the folder content', async () => {
    // "dir/" is an object (what consoles create for folders) and also the prefix being listed.
    await put(['dir/', 'dir/a', 'dir/b', 'dir/sub/c']);
    const first = await list({ prefix: 'dir/', delimiter: '/', maxKeys: 1 });
    expect(first).toMatchObject({ isTruncated: true, last: 'dir/' });
    expect(first.objects.map((o) => o.key)).toEqual(['dir/']);
    const r = await pages({ prefix: 'dir/', delimiter: '/', maxKeys: 1 });
    expect(r.pages).toEqual([['dir/'], ['dir/a'], ['dir/b'], ['dir/sub/']]);
  });

  it('start-after equal to the prefix skips nothing but that key', async () => {
    await put(['dir/', 'dir/a', 'dir/sub/c']);
    expect(names(await list({ prefix: 'dir/', delimiter: '/', after: 'dir/' }))).toEqual(['dir/a', 'dir/sub/']);
  });

  it('without a delimiter, an after ending in "/" is an ordinary key', async () => {
    await put(['a/', 'a/1', 'a/2']);
    expect(names(await list({ after: 'a/' }))).toEqual(['a/1', 'a/2']);
  });

  it('an after inside a prefix group that is not itself a prefix resumes at the next key', async () => {
    await put(['a/1', 'a/2', 'b']);
    expect(names(await list({ after: 'a/1' }))).toEqual(['a/2', 'b']);
  });

  it('orders keys by UTF-8 bytes, not UTF-16 code units', async () => {
    // U+E000 (EE 80 80) < U+FFFF (EF BF BF) < U+1F600 (F0 9F 98 80) in UTF-8,
    // but '😀' (surrogates D83D...) < '\uE000' in UTF-16.
    const inByteOrder = ['A', 'Z', 'a', 'z', 'é', '\u{E000}', '\u{FFFF}', '😀', '😀x'];
    await put([...inByteOrder].reverse());
    expect((await list()).objects.map((o) => o.key)).toEqual(inByteOrder);
    const r = await pages({ maxKeys: 2 });
    expect(r.pages.flat()).toEqual(inByteOrder);
  });

  it('common prefixes are in UTF-8 byte order too', async () => {
    await put(['😀/1', '\u{E000}/1', 'é/1', 'z/1']);
    expect((await list({ delimiter: '/' })).commonPrefixes).toEqual(['z/', 'é/', '\u{E000}/', '😀/']);
  });

  it('lists with ETags undefined when dek() throws (crypto-shredded or disabled key)', async () => {
    await put(['a', 'b/1', 'c']);
    buckets = new FakeBuckets(new Error('KEY_DELETED_ERR'));
    const out = await list({ delimiter: '/' });
    expect(out.objects.map((o) => [o.key, o.etag, o.size])).toEqual([
      ['a', undefined, 0],
      ['c', undefined, 2],
    ]);
    expect(out.commonPrefixes).toEqual(['b/']);
  });

  it('a record whose seal does not open with the DEK lists with ETag undefined', async () => {
    await put(['a']);
    buckets = new FakeBuckets(Buffer.alloc(32, 0x43));
    expect((await list()).objects).toEqual([expect.objectContaining({ key: 'a', etag: undefined })]);
    // A sealed blob moved onto another key does not open either.
    const good = objectRecord(bucket.uid, 'src', 1);
    await meta
      .batch()
      .putObject({
        ...objectRecord(bucket.uid, 'dst', 2),
        sealed: good.sealed,
        metaSalt: good.metaSalt,
        versionId: good.versionId,
      })
      .commit();
    buckets = new FakeBuckets(DEK);
    const out = await list();
    expect(out.objects.find((o) => o.key === 'dst')?.etag).toBeUndefined();
    expect(out.objects.find((o) => o.key === 'a')?.etag).toBe(etagOf('a'));
  });

  it('asks for the DEK once per listing', async () => {
    await put(['a', 'b', 'c']);
    await list();
    expect(buckets.calls).toBe(1);
  });

  it('does not list another bucket', async () => {
    await put(['mine']);
    const other = randomBytes(16).toString('hex');
    await meta
      .batch()
      .putObject(objectRecord(other, 'theirs', 1))
      .commit();
    expect(names(await list())).toEqual(['mine']);
  });
});
