/**
 * ListObjects (v1) and ListObjectsV2: prefix, delimiter, max-keys, Marker /
 * NextMarker, ContinuationToken, StartAfter, EncodingType=url, awkward keys
 * (spaces, '+', '%', XML specials, unicode, trailing slashes), UTF-8 byte order.
 */
import {
  CreateBucketCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { objectPath, parseXml, signedRequest, type RawEndpoint } from '../../helpers/rawS3.js';
import { md5Hex } from '../../helpers/seeded.js';
import { bucketName, expectSdkError, useGateway } from '../../helpers/s3Test.js';

let s3: S3Client;
let ep: RawEndpoint;
useGateway((t) => ({ s3, ep } = t));

/** S3 order: lexicographic by UTF-8 bytes (not JS UTF-16 order). */
const utf8Sort = (keys: string[]) =>
  [...keys].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
/** encoding-type=url decoding as botocore/rclone do it ('+' may mean space). */
const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));

const TREE = ['a', 'b/c', 'b/d/e', 'b/d/f', 'b/g', 'b/h/i', 'c', 'd/', 'd/x', 'e/f/g/h'];
const AWKWARD = [
  'space in name',
  'plus+sign',
  'percent%25and%',
  'amp&and<lt>"q\'',
  'unicode-ü-日本語',
  'emoji-😀',
  'fullwidth-！',
  'trailing/',
  'trailing/inner',
  'tab\tkey',
  'Z-upper',
  '~tilde',
];
const ORDER = ['z', 'é', '\uFF01', '😀', 'a', 'Z', '~', 'ａ'];

async function bucketWith(prefix: string, keys: string[]): Promise<string> {
  const b = bucketName(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  await Promise.all(
    keys.map((k) => s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: Buffer.from(`body of ${k}`) }))),
  );
  return b;
}

describe('ListObjectsV2', () => {
  it('lists every key in UTF-8 byte order with Size, ETag, LastModified, StorageClass and KeyCount', async () => {
    const b = await bucketWith('v2-all', ORDER);
    const out = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    const keys = (out.Contents ?? []).map((c) => c.Key);
    expect(keys).toEqual(utf8Sort(ORDER));
    // Sanity: the UTF-8 order really differs from JS string order here.
    expect(utf8Sort(ORDER)).not.toEqual([...ORDER].sort());
    expect(out.KeyCount).toBe(ORDER.length);
    expect(out.IsTruncated).toBe(false);
    expect(out.NextContinuationToken).toBeUndefined();
    for (const c of out.Contents ?? []) {
      const body = `body of ${c.Key}`;
      expect(c.Size).toBe(Buffer.byteLength(body));
      expect(c.ETag).toBe(`"${md5Hex(body)}"`);
      expect(c.LastModified).toBeInstanceOf(Date);
      expect(Math.abs(c.LastModified!.getTime() - Date.now())).toBeLessThan(60_000);
      expect(c.StorageClass).toBe('STANDARD');
    }
  });

  it('LastModified in the XML is ISO-8601 UTC with milliseconds', async () => {
    const b = await bucketWith('v2-date', ['k']);
    const raw = await signedRequest(ep, { method: 'GET', path: objectPath(b, undefined, 'list-type=2') });
    expect(raw.status).toBe(200);
    expect(raw.text()).toMatch(/<LastModified>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z<\/LastModified>/);
  });

  it('prefix + delimiter give exact Contents and CommonPrefixes', async () => {
    const b = await bucketWith('v2-delim', TREE);
    const top = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '/' }));
    expect((top.Contents ?? []).map((c) => c.Key)).toEqual(['a', 'c']);
    expect((top.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['b/', 'd/', 'e/']);
    expect(top.KeyCount).toBe(5);
    const inB = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'b/', Delimiter: '/' }));
    expect((inB.Contents ?? []).map((c) => c.Key)).toEqual(['b/c', 'b/g']);
    expect((inB.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['b/d/', 'b/h/']);
    expect(inB.Prefix).toBe('b/');
    expect(inB.Delimiter).toBe('/');
    const noDelim = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'b/d' }));
    expect((noDelim.Contents ?? []).map((c) => c.Key)).toEqual(['b/d/e', 'b/d/f']);
    expect(noDelim.CommonPrefixes ?? []).toEqual([]);
  });

  it('a key with a trailing slash is an object, and rolls up under its own prefix', async () => {
    const b = await bucketWith('v2-slash', TREE);
    const top = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '/', Prefix: 'd/' }));
    expect((top.Contents ?? []).map((c) => c.Key)).toEqual(['d/', 'd/x']);
    const all = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'd' }));
    expect((all.Contents ?? []).map((c) => c.Key)).toEqual(['d/', 'd/x']);
  });

  it('pages with MaxKeys and ContinuationToken: every key exactly once, in order', async () => {
    const b = await bucketWith('v2-page', TREE);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    for (;;) {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 3, ContinuationToken: token }));
      pages++;
      expect(out.MaxKeys).toBe(3);
      expect(out.KeyCount).toBe((out.Contents ?? []).length);
      expect(out.KeyCount).toBeLessThanOrEqual(3);
      seen.push(...(out.Contents ?? []).map((c) => c.Key ?? ''));
      if (!out.IsTruncated) {
        expect(out.NextContinuationToken).toBeUndefined();
        break;
      }
      expect(
        out.NextContinuationToken,
        'IsTruncated requires NextContinuationToken (rclone errors out otherwise)',
      ).toBeTruthy();
      token = out.NextContinuationToken;
      expect(pages).toBeLessThan(20);
    }
    expect(seen).toEqual(utf8Sort(TREE));
    expect(pages).toBe(Math.ceil(TREE.length / 3));
  });

  it('pages with a delimiter: a common prefix is counted once and never repeated across pages', async () => {
    const b = await bucketWith('v2-pagedelim', TREE);
    const entries: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 20; i++) {
      const out = await s3.send(
        new ListObjectsV2Command({ Bucket: b, Delimiter: '/', MaxKeys: 1, ContinuationToken: token }),
      );
      const page = [
        ...(out.Contents ?? []).map((c) => c.Key ?? ''),
        ...(out.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''),
      ];
      expect(page.length).toBeLessThanOrEqual(1);
      expect(out.KeyCount).toBe(page.length);
      entries.push(...page);
      if (!out.IsTruncated) break;
      token = out.NextContinuationToken;
    }
    expect(entries).toEqual(['a', 'b/', 'c', 'd/', 'e/']);
  });

  it('StartAfter lists keys strictly after it (also when it is not itself a key)', async () => {
    const b = await bucketWith('v2-after', TREE);
    const out = await s3.send(new ListObjectsV2Command({ Bucket: b, StartAfter: 'b/d/e' }));
    expect((out.Contents ?? []).map((c) => c.Key)).toEqual(['b/d/f', 'b/g', 'b/h/i', 'c', 'd/', 'd/x', 'e/f/g/h']);
    expect(out.StartAfter).toBe('b/d/e');
    const between = await s3.send(new ListObjectsV2Command({ Bucket: b, StartAfter: 'b/e' }));
    expect((between.Contents ?? []).map((c) => c.Key)[0]).toBe('b/g');
  });

  it('awkward keys round-trip verbatim without EncodingType', async () => {
    const b = await bucketWith('v2-awk', AWKWARD);
    const out = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    expect((out.Contents ?? []).map((c) => c.Key)).toEqual(utf8Sort(AWKWARD));
    const pre = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'space in' }));
    expect((pre.Contents ?? []).map((c) => c.Key)).toEqual(['space in name']);
    const plus = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'plus+' }));
    expect((plus.Contents ?? []).map((c) => c.Key)).toEqual(['plus+sign']);
    const pct = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'percent%25' }));
    expect((pct.Contents ?? []).map((c) => c.Key)).toEqual(['percent%25and%']);
  });

  it('EncodingType=url encodes keys, prefixes and the delimiter; decoding gives the originals back', async () => {
    const b = await bucketWith('v2-enc', AWKWARD);
    const out = await s3.send(new ListObjectsV2Command({ Bucket: b, EncodingType: 'url' }));
    expect(out.EncodingType).toBe('url');
    const raw = (out.Contents ?? []).map((c) => c.Key ?? '');
    for (const k of raw) {
      expect(k, 'an url-encoded key has no raw space, control or non-ASCII character').toMatch(/^[\x21-\x7e]*$/);
      expect(k).not.toMatch(/[<>&"]/);
    }
    expect(raw.map(formDecode)).toEqual(utf8Sort(AWKWARD));
    expect(raw).toContain('plus%2Bsign');
    const grouped = await s3.send(
      new ListObjectsV2Command({ Bucket: b, EncodingType: 'url', Delimiter: '/', Prefix: 'trailing/' }),
    );
    expect(formDecode(grouped.Prefix ?? '')).toBe('trailing/');
    expect((grouped.Contents ?? []).map((c) => formDecode(c.Key ?? ''))).toEqual(['trailing/', 'trailing/inner']);
    const top = await s3.send(new ListObjectsV2Command({ Bucket: b, EncodingType: 'url', Delimiter: '/' }));
    expect((top.CommonPrefixes ?? []).map((p) => formDecode(p.Prefix ?? ''))).toEqual(['trailing/']);
  });

  it('a missing bucket is 404 NoSuchBucket', async () => {
    await expectSdkError(s3.send(new ListObjectsV2Command({ Bucket: bucketName('nolist') })), 404, 'NoSuchBucket');
  });

  // AWS encodes Prefix with encoding-type=url in V2 but echoes it as sent in
  // version 1 (botocore decodes Prefix only for V2): the two must differ here.
  it('EncodingType=url: V2 encodes Prefix, version 1 echoes it as sent', async () => {
    const b = await bucketWith('enc-prefix', ['space in name']);
    const v2 = parseXml(
      (
        await signedRequest(ep, {
          method: 'GET',
          path: objectPath(b, undefined, 'list-type=2&encoding-type=url&prefix=space%20in'),
        })
      ).body,
    );
    const v1res = await signedRequest(ep, {
      method: 'GET',
      path: objectPath(b, undefined, 'encoding-type=url&prefix=space%20in'),
    });
    expect(v1res.status).toBe(200);
    const v1 = parseXml(v1res.body);
    const r2 = v2.ListBucketResult as Record<string, unknown>;
    const r1 = v1.ListBucketResult as Record<string, unknown>;
    expect(r2.Prefix).toBe('space%20in');
    expect(r1.Prefix).toBe('space in');
    expect((r1.Contents as Array<Record<string, unknown>>)[0].Key).toBe('space%20in%20name');
  });

  it('a delimiter other than "/" (multi-character too), and a prefix that contains the delimiter', async () => {
    const b = await bucketWith('v2-otherdelim', ['x|1|a', 'x|1|b', 'x|2', 'y', 'a--b--c', 'a--d']);
    const bar = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '|' }));
    expect((bar.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['x|']);
    expect((bar.Contents ?? []).map((c) => c.Key)).toEqual(['a--b--c', 'a--d', 'y']);
    const inner = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '|', Prefix: 'x|1' }));
    expect((inner.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['x|1|']);
    expect(inner.Contents ?? []).toEqual([]);
    const dash = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '--' }));
    expect((dash.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['a--']);
    const deeper = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '--', Prefix: 'a--' }));
    expect((deeper.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['a--b--']);
    expect((deeper.Contents ?? []).map((c) => c.Key)).toEqual(['a--d']);
  });

  it('with more than 1000 keys a default page holds 1000 and is truncated; MaxKeys above 1000 is capped', async () => {
    const b = bucketName('v2-1000');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const keys = Array.from({ length: 1003 }, (_, i) => `k${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map((k) => s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: Buffer.alloc(0) }))),
      );
    }
    const first = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    expect(first.KeyCount).toBe(1000);
    expect(first.IsTruncated).toBe(true);
    const capped = await s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 5000 }));
    expect(capped.KeyCount).toBe(1000);
    const rest = await s3.send(new ListObjectsV2Command({ Bucket: b, ContinuationToken: first.NextContinuationToken }));
    expect((rest.Contents ?? []).map((c) => c.Key)).toEqual(keys.slice(1000));
    expect(rest.IsTruncated).toBe(false);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: b }));
    expect((v1.Contents ?? []).length).toBe(1000);
    expect(v1.IsTruncated).toBe(true);
  });

  it('Owner appears in V2 only with FetchOwner=true', async () => {
    const b = await bucketWith('v2-owner', ['k']);
    const without = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    expect(without.Contents?.[0].Owner).toBeUndefined();
    const withOwner = await s3.send(new ListObjectsV2Command({ Bucket: b, FetchOwner: true }));
    expect(withOwner.Contents?.[0].Owner?.ID).toBeTruthy();
  });

  it('ContinuationToken takes precedence over StartAfter', async () => {
    const b = await bucketWith('v2-token-after', TREE);
    const p1 = await s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 2 }));
    const p2 = await s3.send(
      new ListObjectsV2Command({ Bucket: b, MaxKeys: 2, ContinuationToken: p1.NextContinuationToken, StartAfter: 'd' }),
    );
    expect((p2.Contents ?? []).map((c) => c.Key)).toEqual(utf8Sort(TREE).slice(2, 4));
  });
});

describe('ListObjects (v1)', () => {
  it('lists in UTF-8 byte order with Owner and ETag', async () => {
    const b = await bucketWith('v1-all', ORDER);
    const out = await s3.send(new ListObjectsCommand({ Bucket: b }));
    expect((out.Contents ?? []).map((c) => c.Key)).toEqual(utf8Sort(ORDER));
    expect(out.IsTruncated).toBe(false);
    for (const c of out.Contents ?? []) {
      expect(c.ETag).toBe(`"${md5Hex(`body of ${c.Key}`)}"`);
      expect(c.Owner?.ID).toBeTruthy();
    }
  });

  it('prefix + delimiter', async () => {
    const b = await bucketWith('v1-delim', TREE);
    const out = await s3.send(new ListObjectsCommand({ Bucket: b, Prefix: 'b/', Delimiter: '/' }));
    expect((out.Contents ?? []).map((c) => c.Key)).toEqual(['b/c', 'b/g']);
    expect((out.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['b/d/', 'b/h/']);
  });

  it('pages with a delimiter through Marker / NextMarker (NextMarker present whenever truncated)', async () => {
    const b = await bucketWith('v1-page', TREE);
    const entries: string[] = [];
    let marker: string | undefined;
    for (let i = 0; i < 20; i++) {
      const out = await s3.send(new ListObjectsCommand({ Bucket: b, Delimiter: '/', MaxKeys: 2, Marker: marker }));
      expect(out.MaxKeys).toBe(2);
      if (marker !== undefined) expect(out.Marker).toBe(marker);
      entries.push(
        ...(out.Contents ?? []).map((c) => c.Key ?? ''),
        ...(out.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''),
      );
      if (!out.IsTruncated) break;
      expect(
        out.NextMarker,
        'NextMarker is required when a delimiter is given and the result is truncated',
      ).toBeTruthy();
      marker = out.NextMarker;
    }
    expect(entries).toEqual(['a', 'b/', 'c', 'd/', 'e/']);
  });

  it('pages without a delimiter, falling back to the last key as s3cmd does', async () => {
    const b = await bucketWith('v1-page2', TREE);
    const keys: string[] = [];
    let marker: string | undefined;
    for (let i = 0; i < 20; i++) {
      const out = await s3.send(new ListObjectsCommand({ Bucket: b, MaxKeys: 4, Marker: marker }));
      const page = (out.Contents ?? []).map((c) => c.Key ?? '');
      keys.push(...page);
      if (!out.IsTruncated) break;
      marker = out.NextMarker ?? page[page.length - 1];
    }
    expect(keys).toEqual(utf8Sort(TREE));
  });

  it('EncodingType=url on v1 encodes keys and NextMarker', async () => {
    const b = await bucketWith('v1-enc', AWKWARD);
    const keys: string[] = [];
    let marker: string | undefined;
    for (let i = 0; i < 30; i++) {
      const out = await s3.send(new ListObjectsCommand({ Bucket: b, EncodingType: 'url', MaxKeys: 5, Marker: marker }));
      expect(out.EncodingType).toBe('url');
      const page = (out.Contents ?? []).map((c) => c.Key ?? '');
      for (const k of page) expect(k).toMatch(/^[\x21-\x7e]*$/);
      keys.push(...page.map(formDecode));
      if (!out.IsTruncated) break;
      // Markers go back decoded, as clients send them.
      marker = formDecode(out.NextMarker ?? page[page.length - 1]);
    }
    expect(keys).toEqual(utf8Sort(AWKWARD));
  });

  it('raw v1 XML carries Name, Prefix, Marker, MaxKeys, IsTruncated', async () => {
    const b = await bucketWith('v1-raw', ['x']);
    const raw = await signedRequest(ep, { method: 'GET', path: objectPath(b, undefined, 'prefix=&max-keys=10') });
    expect(raw.status).toBe(200);
    const doc = parseXml(raw.body).ListBucketResult as Record<string, unknown>;
    expect(doc.Name).toBe(b);
    expect(doc.MaxKeys).toBe('10');
    expect(doc.IsTruncated).toBe('false');
    expect(doc).toHaveProperty('Marker');
  });
});
