import { describe, expect, it } from 'vitest';
import {
  HEADER_FIELDS,
  NULL_VERSION,
  objectSealAad,
  streamRefDigest,
  type BoundPart,
  type BoundRecord,
  type BoundStream,
  type ObjectAddress,
} from '../../../src/crypto/index.js';

const AT: ObjectAddress = { bucketUid: 'a'.repeat(32), bucketName: 'photos', key: 'cat.jpg', version: NULL_VERSION };
const S: BoundStream = {
  dataId: '1'.repeat(32),
  salt: '2'.repeat(64),
  headerDigest: '3'.repeat(64),
  size: 100_000,
  segmentLog2: 16,
};
const part = (n: number, size: number): BoundPart => ({
  dataId: `${n}`.repeat(32),
  salt: '4'.repeat(64),
  headerDigest: `${n}`.repeat(64),
  size,
  segmentLog2: 16,
  partNumber: n,
  uploadId: 'u'.repeat(32),
  sealedEtag: `etag${n}.salt`,
});
const P = [part(1, 5 * 1024 * 1024), part(2, 1000)];
const REC: BoundRecord = {
  versionId: 'b'.repeat(32),
  size: S.size,
  lastModified: 1_700_000_000_123,
  dekGeneration: 1,
  headers: { contentType: 'image/jpeg', cacheControl: 'no-cache' },
  storageClass: 'STANDARD',
  checksumAlgorithm: 'CRC32',
  stream: S,
};

const hex = (b: Buffer) => b.toString('hex');

describe('streamRefDigest', () => {
  it('known answer: the encoding is part of the on-disk format and must not drift', () => {
    // Pinned when format 2 was introduced. A change here makes every format-2 record unreadable.
    expect(hex(streamRefDigest(S.size, S))).toBe(KAT_SINGLE);
    expect(hex(streamRefDigest(P[0].size + P[1].size, undefined, P))).toBe(KAT_MULTI);
  });

  it('changes with every field of a single stream, and with the total size', () => {
    const base = hex(streamRefDigest(S.size, S));
    const edits: Array<Partial<BoundStream>> = [
      { dataId: '9'.repeat(32) },
      { salt: '9'.repeat(64) },
      { headerDigest: '9'.repeat(64) },
      { size: S.size + 1 },
      { segmentLog2: 12 },
    ];
    for (const e of edits) expect(hex(streamRefDigest(S.size, { ...S, ...e })), JSON.stringify(e)).not.toBe(base);
    expect(hex(streamRefDigest(S.size + 1, S))).not.toBe(base);
  });

  it('changes with every field of every part, with part order, and with a part dropped or added', () => {
    const total = P[0].size + P[1].size;
    const base = hex(streamRefDigest(total, undefined, P));
    const edits: Array<Partial<BoundPart>> = [
      { partNumber: 3 },
      { uploadId: 'v'.repeat(32) },
      { sealedEtag: 'x' },
      { dataId: '9'.repeat(32) },
      { headerDigest: '9'.repeat(64) },
      { size: 1 },
    ];
    for (const i of [0, 1]) {
      for (const e of edits) {
        const list = P.map((p, j) => (j === i ? { ...p, ...e } : p));
        expect(hex(streamRefDigest(total, undefined, list)), `part ${i} ${JSON.stringify(e)}`).not.toBe(base);
      }
    }
    expect(hex(streamRefDigest(total, undefined, [P[1], P[0]]))).not.toBe(base);
    expect(hex(streamRefDigest(total, undefined, [P[0]]))).not.toBe(base);
    expect(hex(streamRefDigest(total, undefined, [...P, part(3, 0)]))).not.toBe(base);
  });

  it('a single stream and a one-part list with the same fields differ, and so does naming no stream', () => {
    const asPart: BoundPart = { ...S, partNumber: 0, uploadId: '', sealedEtag: '' };
    expect(hex(streamRefDigest(S.size, S))).not.toBe(hex(streamRefDigest(S.size, undefined, [asPart])));
    expect(hex(streamRefDigest(S.size))).not.toBe(hex(streamRefDigest(S.size, undefined, [])));
  });

  it('length prefixes: moving characters between fields changes it', () => {
    const a = { ...S, dataId: 'ab', salt: 'c' };
    const b = { ...S, dataId: 'a', salt: 'bc' };
    expect(hex(streamRefDigest(1, a))).not.toBe(hex(streamRefDigest(1, b)));
  });

  it('refuses a record naming both a stream and parts, and sizes that are not safe integers', () => {
    expect(() => streamRefDigest(1, S, P)).toThrow(RangeError);
    expect(() => streamRefDigest(-1, S)).toThrow(RangeError);
    expect(() => streamRefDigest(1.5, S)).toThrow(RangeError);
    expect(() => streamRefDigest(1, { ...S, size: '100000' as unknown as number })).toThrow(RangeError);
    expect(() => streamRefDigest(1, { ...S, segmentLog2: 256 })).toThrow(RangeError);
  });
});

describe('objectSealAad', () => {
  const base = hex(objectSealAad(AT, REC));

  it('starts with its label, never with a zero byte (so it cannot equal a format-1 AAD)', () => {
    const aad = objectSealAad(AT, REC);
    expect(aad.subarray(0, 21).toString('utf8')).toBe('coffer/v2/object-seal');
    expect(aad[0]).not.toBe(0);
  });

  it('changes with every part of the looked-up address', () => {
    for (const e of [
      { bucketUid: 'c'.repeat(32) },
      { bucketName: 'photos2' },
      { key: 'dog.jpg' },
      { version: '' },
      { version: 'v1' },
    ]) {
      expect(hex(objectSealAad({ ...AT, ...e }, REC)), JSON.stringify(e)).not.toBe(base);
    }
  });

  it('changes with every bound record field', () => {
    const edits: Array<Partial<BoundRecord>> = [
      { versionId: 'c'.repeat(32) },
      { size: REC.size - 1 },
      { lastModified: REC.lastModified + 1 },
      { dekGeneration: 2 },
      { storageClass: 'GLACIER' },
      { storageClass: undefined },
      { checksumAlgorithm: 'SHA256' },
      { checksumAlgorithm: undefined },
      { stream: { ...S, dataId: '9'.repeat(32) } },
      { stream: undefined, parts: P },
    ];
    for (const e of edits) expect(hex(objectSealAad(AT, { ...REC, ...e })), JSON.stringify(e)).not.toBe(base);
  });

  it('changes with every standard header, set, cleared or set to ""', () => {
    for (const f of HEADER_FIELDS) {
      expect(hex(objectSealAad(AT, { ...REC, headers: { ...REC.headers, [f]: 'x' } })), f).not.toBe(base);
      expect(hex(objectSealAad(AT, { ...REC, headers: { ...REC.headers, [f]: '' } })), `${f} empty`).not.toBe(base);
    }
    expect(hex(objectSealAad(AT, { ...REC, headers: { contentType: 'image/jpeg' } }))).not.toBe(base);
  });

  it('an absent field reads the same whether undefined or null (a store may give back either)', () => {
    const a = objectSealAad(AT, { ...REC, storageClass: undefined, headers: {} });
    const b = objectSealAad(AT, { ...REC, storageClass: null, headers: { contentType: null } });
    expect(hex(a)).toBe(hex(b));
  });

  it('length prefixes: shifting characters between bucket name and key changes it', () => {
    expect(hex(objectSealAad({ ...AT, bucketName: 'ab', key: 'c' }, REC))).not.toBe(
      hex(objectSealAad({ ...AT, bucketName: 'a', key: 'bc' }, REC)),
    );
  });
});

// Computed from the encoding in crypto/index.ts by an independent implementation, not by this code.
const KAT_SINGLE = 'bf06ded0102a6f0649b21cfe9e5b602426f32ea0182230c9d81200b936dd1f32';
const KAT_MULTI = '0b7c90f4f487ccfb4ed314114e84ee74941c0510fa50710acc600ae3e86740df';
