import { describe, expect, it } from 'vitest';
import {
  bucketKey,
  compareUtf8,
  decodeKey,
  isStorableName,
  isUploadId,
  objectKey,
  objectRange,
  partKey,
  partRange,
  uploadKey,
  uploadRange,
} from '../../../src/meta/keyCodec.js';
import type { KeyRange } from '../../../src/meta/keyCodec.js';
import { historyIdOf, keyVersionsRange, versionKey } from '../../../src/meta/keyCodec.js';

const uid = '0123456789abcdef0123456789abcdef';
const inRange = (r: KeyRange, k: Buffer): boolean =>
  ('gt' in r ? Buffer.compare(k, r.gt) > 0 : Buffer.compare(k, r.gte) >= 0) && Buffer.compare(k, r.lt) < 0;

describe('keyCodec', () => {
  it('orders U+FFFF before an emoji (UTF-8 bytes), unlike UTF-16 string comparison', () => {
    const ffff = '\u{FFFF}';
    const emoji = '😀';
    expect(ffff > emoji).toBe(true); // UTF-16 code units: 0xFFFF > 0xD83D
    expect(Buffer.compare(objectKey(uid, ffff), objectKey(uid, emoji))).toBeLessThan(0);
    expect(compareUtf8(ffff, emoji)).toBeLessThan(0);
    expect(compareUtf8('\u{E000}', emoji)).toBeLessThan(0);
    expect(compareUtf8('a', 'a')).toBe(0);
  });

  it('encodes the documented layout', () => {
    expect(bucketKey('photos').toString()).toBe('b/photos');
    expect(objectKey(uid, 'dir/é.txt').toString()).toBe(`o/${uid}/dir/é.txt`);
    expect(uploadKey(uid, 'k', 'up1').toString()).toBe(`u/${uid}/k\u0000up1`);
    expect(partKey('up1', 7).toString()).toBe('p/up1/00007');
    expect(partKey('up1', 10_000).toString()).toBe('p/up1/10000');
  });

  it('decodes what it encodes', () => {
    expect(decodeKey(bucketKey('b1'))).toEqual({ kind: 'bucket', name: 'b1' });
    expect(decodeKey(objectKey(uid, 'a/😀'))).toEqual({ kind: 'object', bucketUid: uid, key: 'a/😀' });
    expect(decodeKey(uploadKey(uid, 'x/y', 'U-1'))).toEqual({
      kind: 'upload',
      bucketUid: uid,
      key: 'x/y',
      uploadId: 'U-1',
    });
    expect(decodeKey(partKey('U-1', 42))).toEqual({ kind: 'part', uploadId: 'U-1', partNumber: 42 });
    expect(() => decodeKey(Buffer.from('x/whatever'))).toThrow();
  });

  it('sorts uploads by key, then uploadId, even when one key prefixes another', () => {
    const order = [
      uploadKey(uid, 'a', 'zz'),
      uploadKey(uid, 'a', 'zzz'),
      uploadKey(uid, 'a\u0001', 'a'),
      uploadKey(uid, 'a/', 'a'),
    ];
    const sorted = [...order].sort(Buffer.compare);
    expect(sorted).toEqual(order);
  });

  it('sorts parts numerically', () => {
    const keys = [1, 2, 9, 10, 99, 100, 10_000].map((n) => partKey('u', n));
    expect([...keys].sort(Buffer.compare)).toEqual(keys);
  });

  it('object ranges contain exactly the prefixed keys, including the highest code point', () => {
    const r = objectRange(uid, 'a');
    expect(inRange(r, objectKey(uid, 'a'))).toBe(true);
    expect(inRange(r, objectKey(uid, 'a\u{10FFFF}\u{10FFFF}'))).toBe(true);
    expect(inRange(r, objectKey(uid, 'b'))).toBe(false);
    expect(inRange(r, objectKey(uid, '`'))).toBe(false);
    expect(inRange(r, objectKey('f'.repeat(32), 'a'))).toBe(false);
    const after = objectRange(uid, 'a', 'a/x');
    expect(inRange(after, objectKey(uid, 'a/x'))).toBe(false);
    expect(inRange(after, objectKey(uid, 'a/x0'))).toBe(true);
    expect(inRange(after, objectKey(uid, 'a/w'))).toBe(false);
  });

  it('upload ranges follow the key-marker / upload-id-marker rules', () => {
    const keyOnly = uploadRange(uid, '', 'k');
    expect(inRange(keyOnly, uploadKey(uid, 'k', 'zzzz'))).toBe(false);
    expect(inRange(keyOnly, uploadKey(uid, 'k\u0001', 'a'))).toBe(true);
    const both = uploadRange(uid, '', 'k', 'm');
    expect(inRange(both, uploadKey(uid, 'k', 'm'))).toBe(false);
    expect(inRange(both, uploadKey(uid, 'k', 'n'))).toBe(true);
    expect(inRange(both, uploadKey(uid, 'j', 'z'))).toBe(false);
  });

  it('part ranges start after the marker', () => {
    expect(inRange(partRange('u', 9), partKey('u', 9))).toBe(false);
    expect(inRange(partRange('u', 9), partKey('u', 10))).toBe(true);
    expect(inRange(partRange('u'), partKey('u', 1))).toBe(true);
    expect(inRange(partRange('u'), partKey('u2', 1))).toBe(false);
  });

  it('treats bounds as client input: unmatchable prefixes select nothing, markers are free text', () => {
    const empty = objectRange(uid, 'a\u0000');
    expect(inRange(empty, objectKey(uid, 'a'))).toBe(false);
    expect(inRange(objectRange(uid, '\uD800'), objectKey(uid, '\uFFFD'))).toBe(false);
    expect(() => objectRange(uid, '', 'any \u0000 marker')).not.toThrow();
    expect(() => uploadRange(uid, '', 'k', 'not/an/upload/id')).not.toThrow();
    expect(isStorableName('ok/é/😀')).toBe(true);
    expect(isStorableName('')).toBe(false);
    expect(isStorableName('a\u0000')).toBe(false);
    expect(isStorableName('\uD83D')).toBe(false);
    expect(isUploadId('abc-DEF_1.2~3')).toBe(true);
    expect(isUploadId('a/b')).toBe(false);
  });

  it('rejects components that would make keys ambiguous or lossy', () => {
    expect(() => objectKey('ABCDEF0123456789ABCDEF0123456789', 'k')).toThrow(/bucketUid/);
    expect(() => objectKey(uid.slice(1), 'k')).toThrow(/bucketUid/);
    expect(() => objectKey(uid, 'a\u0000b')).toThrow(/U\+0000/);
    expect(() => objectKey(uid, '\uDC00x')).toThrow(/well-formed/);
    expect(() => objectKey(uid, '')).toThrow();
    expect(() => uploadKey(uid, 'k', 'a/b')).toThrow(/uploadId/);
    expect(() => uploadKey(uid, 'k', '')).toThrow(/uploadId/);
    expect(() => partKey('u', 0)).toThrow(RangeError);
    expect(() => partKey('u', 1.5)).toThrow(RangeError);
    expect(() => partRange('u', -1)).toThrow(RangeError);
    expect(() => bucketKey('')).toThrow();
  });

  it('version keys: one exact range per key (a longer key is not in it), decoded back', () => {
    const k = versionKey(uid, 'k', 'v2');
    expect(decodeKey(k)).toEqual({ kind: 'version', bucketUid: uid, key: 'k', historyId: 'v2' });
    expect(historyIdOf(k)).toBe('v2');
    const r = keyVersionsRange(uid, 'k');
    expect(inRange(r, k)).toBe(true);
    expect(inRange(r, versionKey(uid, 'k\u0001', 'v1'))).toBe(false);
    expect(inRange(r, versionKey(uid, 'k/x', 'v1'))).toBe(false);
    expect(inRange(keyVersionsRange(uid, 'k', 'v2'), k)).toBe(false);
    expect(inRange(keyVersionsRange(uid, 'k', 'v1'), k)).toBe(true);
    expect(() => versionKey(uid, 'k', 'a/b')).toThrow(TypeError);
  });
});
