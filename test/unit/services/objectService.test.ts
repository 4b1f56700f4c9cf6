import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BucketRecord } from '../../../src/meta/records.js';
import { chunked, collect, openMemoryServices, type MemoryServices } from './memoryServices.js';

const md5hex = (s: string | Buffer) => createHash('md5').update(s).digest('hex');

describe('ObjectService (memory stores, local key provider)', () => {
  let s: MemoryServices;
  let b: BucketRecord;
  const read = (
    key: string,
    extra: {
      range?: string;
      ifMatch?: string;
      ifNoneMatch?: string;
      ifModifiedSince?: string;
      ifUnmodifiedSince?: string;
    } = {},
    withBody = true,
  ) => {
    const { range, ...conditions } = extra;
    return s.objects.read({ bucket: b, key, range, conditions }, withBody);
  };
  beforeEach(async () => {
    s = await openMemoryServices();
    b = await s.bucket('data');
  });
  afterEach(async () => {
    await s.close();
  });

  it('put then get returns the bytes, the MD5 ETag and the user metadata', async () => {
    const data = randomBytes(300_000);
    const w = await s.objects.put({
      bucket: b,
      key: 'dir/obj.bin',
      body: chunked(data),
      headers: { contentType: 'application/x-test' },
      userMeta: { color: 'blue' },
      expect: {},
    });
    expect(w.etag).toBe(md5hex(data));
    expect(w.size).toBe(data.length);
    const r = await read('dir/obj.bin');
    expect((await collect(r.body)).equals(data)).toBe(true);
    expect(r.meta).toMatchObject({ etag: w.etag, userMeta: { color: 'blue' } });
    expect(r.record).toMatchObject({
      size: data.length,
      versionId: w.versionId,
      headers: { contentType: 'application/x-test' },
    });
  });

  it('stores only ciphertext: the blob differs from the plaintext and is larger', async () => {
    const text = 'attack at dawn '.repeat(100);
    await s.put(b, 'secret', text);
    const rec = await s.meta.getObject(b.uid, 'secret');
    const blob = await collect(s.blobs.get(rec!.stream!.dataId));
    expect(blob.length).toBeGreaterThan(text.length);
    expect(blob.includes(Buffer.from('attack at dawn'))).toBe(false);
    expect(JSON.stringify(rec)).not.toContain(md5hex(text));
  });

  it('head returns the metadata without a body and leaves no lease behind', async () => {
    const w = await s.put(b, 'h', 'hello');
    const r = await read('h', {}, false);
    expect(r.body).toBeUndefined();
    expect(r.meta.etag).toBe(w.etag);
    expect(r.record.size).toBe(5);
    // An overwrite can delete the old blob at once: nobody holds it.
    await s.put(b, 'h', 'again');
    expect(s.blobs.size).toBe(1);
  });

  it('get of a missing key is NoSuchKey; an empty object reads back empty', async () => {
    await expect(read('absent')).rejects.toMatchObject({ code: 'NoSuchKey' });
    await s.put(b, 'empty', '');
    const r = await read('empty');
    expect((await collect(r.body)).length).toBe(0);
    expect(r.meta.etag).toBe(md5hex(''));
  });

  it('ranges: first bytes, suffix, open-ended, across segments, unsatisfiable', async () => {
    const data = randomBytes(200_000);
    await s.objects.put({ bucket: b, key: 'r', body: chunked(data, 7_777), headers: {}, userMeta: {}, expect: {} });
    const body = async (range: string) => {
      const r = await read('r', { range });
      return { bytes: await collect(r.body), range: r.range };
    };
    expect(await body('bytes=0-9')).toEqual({ bytes: data.subarray(0, 10), range: { start: 0, end: 9 } });
    expect((await body('bytes=-100')).bytes.equals(data.subarray(-100))).toBe(true);
    expect((await body('bytes=65530-')).bytes.equals(data.subarray(65_530))).toBe(true);
    expect((await body('bytes=65000-140000')).bytes.equals(data.subarray(65_000, 140_001))).toBe(true);
    await expect(read('r', { range: 'bytes=200000-' })).rejects.toMatchObject({ code: 'InvalidRange' });
  });

  it('conditional reads: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since', async () => {
    const w = await s.put(b, 'c', 'conditional');
    const quoted = `"${w.etag}"`;
    const past = new Date(w.lastModified - 3_600_000).toUTCString();
    const future = new Date(w.lastModified + 3_600_000).toUTCString();
    // Passing conditions are checked on HEAD (a GET's unread body would hold its blob), failing ones on GET.
    const head = (c: Parameters<typeof read>[1]) => read('c', c, false);
    await expect(head({ ifMatch: quoted })).resolves.toBeDefined();
    await expect(read('c', { ifMatch: '"0000"' })).rejects.toMatchObject({ code: 'PreconditionFailed' });
    await expect(read('c', { ifNoneMatch: quoted })).rejects.toMatchObject({ code: 'NotModified' });
    await expect(read('c', { ifNoneMatch: `W/${quoted}` })).rejects.toMatchObject({ code: 'NotModified' });
    await expect(head({ ifNoneMatch: '"0000"' })).resolves.toBeDefined();
    await expect(read('c', { ifModifiedSince: future })).rejects.toMatchObject({ code: 'NotModified' });
    await expect(head({ ifModifiedSince: past })).resolves.toBeDefined();
    await expect(read('c', { ifUnmodifiedSince: past })).rejects.toMatchObject({ code: 'PreconditionFailed' });
    await expect(head({ ifUnmodifiedSince: future })).resolves.toBeDefined();
    // If-Match wins over a failing If-Unmodified-Since.
    await expect(head({ ifMatch: quoted, ifUnmodifiedSince: past })).resolves.toBeDefined();
    // A failed condition releases the blobs it held: the overwrite deletes the old blob.
    await s.put(b, 'c', 'replaced');
    expect(s.blobs.size).toBe(1);
  });

  it('overwrite replaces the object and deletes the old blob', async () => {
    const first = await s.put(b, 'o', 'first version');
    const oldBlob = (await s.meta.getObject(b.uid, 'o'))!.stream!.dataId;
    const second = await s.put(b, 'o', 'second');
    expect(second.versionId).not.toBe(first.versionId);
    expect((await collect((await read('o')).body)).toString()).toBe('second');
    expect(await s.blobs.stat(oldBlob)).toBeUndefined();
    expect(s.blobs.size).toBe(1);
  });

  it('an overwrite while a GET streams defers deleting the blob the GET reads', async () => {
    const data = randomBytes(500_000);
    await s.objects.put({ bucket: b, key: 'busy', body: chunked(data), headers: {}, userMeta: {}, expect: {} });
    const r = await read('busy');
    await s.put(b, 'busy', 'new');
    expect(s.blobs.size).toBe(2);
    expect((await collect(r.body)).equals(data)).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(s.blobs.size).toBe(1);
  });

  it('delete removes record and blob; deleting a missing key is fine', async () => {
    await s.put(b, 'd', 'doomed');
    await s.objects.delete(b, 'd');
    await expect(read('d')).rejects.toMatchObject({ code: 'NoSuchKey' });
    expect(s.blobs.size).toBe(0);
    await expect(s.objects.delete(b, 'never')).resolves.toBeUndefined();
  });

  it('a body that fails its Content-MD5 leaves no record and no blob', async () => {
    const wrongMd5 = createHash('md5').update('other').digest('base64');
    await expect(s.put(b, 'bad', 'payload', { expect: { contentMd5: wrongMd5 } })).rejects.toMatchObject({
      code: 'BadDigest',
    });
    expect(await s.meta.getObject(b.uid, 'bad')).toBeUndefined();
    expect(s.blobs.size).toBe(0);
  });

  it('rejects a key over 1024 bytes', async () => {
    await expect(s.put(b, 'k'.repeat(1025), 'x')).rejects.toMatchObject({ code: 'KeyTooLongError' });
  });

  it('list: keys in UTF-8 byte order with ETags, prefix, delimiter and max-keys', async () => {
    const keys = ['a/1', 'a/2', 'b', '\u{FFFF}', '😀'];
    const etags = new Map<string, string>();
    for (const k of [...keys].reverse()) etags.set(k, (await s.put(b, k, `body of ${k}`)).etag);
    const all = await s.lists.list({
      bucket: b,
      prefix: '',
      delimiter: '',
      after: '',
      maxKeys: 1000,
    });
    expect(all.objects.map((o) => o.key)).toEqual(keys);
    expect(all.objects.map((o) => o.etag)).toEqual(keys.map((k) => etags.get(k)));
    const rolled = await s.lists.list({
      bucket: b,
      prefix: '',
      delimiter: '/',
      after: '',
      maxKeys: 1000,
    });
    expect(rolled.commonPrefixes).toEqual(['a/']);
    expect(rolled.objects.map((o) => o.key)).toEqual(['b', '\u{FFFF}', '😀']);
    const page = await s.lists.list({
      bucket: b,
      prefix: 'a/',
      delimiter: '',
      after: '',
      maxKeys: 1,
    });
    expect(page).toMatchObject({ isTruncated: true, last: 'a/1' });
  });
});
