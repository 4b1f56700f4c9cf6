import { describe, expect, it } from 'vitest';
import type { BucketRecord, ObjectRecord, PartRef, SealedMeta } from '../../../src/meta/records.js';
import { DomainError } from '../../../src/services/errors.js';
import {
  addressOf,
  openJson,
  openMeta,
  openObject,
  sealJson,
  sealMeta,
  sealObject,
  type SealIdentity,
  type UnsealedRecord,
} from '../../../src/services/sealedMeta.js';

const DEK = Buffer.alloc(32, 0x11);
const ID: SealIdentity = { bucketUid: 'a'.repeat(32), key: 'photos/cat.jpg', versionId: 'b'.repeat(32) };
const META: SealedMeta = {
  etag: 'd41d8cd98f00b204e9800998ecf8427e',
  checksums: { CRC32: 'AAAAAA==' },
  userMeta: { mtime: '1700000000.5', 's3cmd-attrs': 'uid:0/gid:0', 'unicode-é': '😀' },
  tags: { env: 'prod' },
};

function openError(f: () => unknown): DomainError {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('opened');
}

describe('sealMeta / openMeta', () => {
  it('round-trips the metadata', () => {
    const s = sealMeta(DEK, ID, META);
    expect(openMeta(DEK, ID, s.metaSalt, s.sealed)).toEqual(META);
  });

  it('salt is 32 random bytes in hex, sealed is base64; sealing twice differs', () => {
    const a = sealMeta(DEK, ID, META);
    const b = sealMeta(DEK, ID, META);
    expect(a.metaSalt).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(a.sealed, 'base64').toString('base64')).toBe(a.sealed);
    expect(a.metaSalt).not.toBe(b.metaSalt);
    expect(a.sealed).not.toBe(b.sealed);
  });

  it('uses a given salt', () => {
    const salt = Buffer.alloc(32, 9);
    const s = sealMeta(DEK, ID, META, salt);
    expect(s.metaSalt).toBe(salt.toString('hex'));
    expect(openMeta(DEK, ID, s.metaSalt, s.sealed)).toEqual(META);
  });

  it('does not keep the plaintext visible in the sealed blob', () => {
    const s = sealMeta(DEK, ID, META);
    const raw = Buffer.from(s.sealed, 'base64');
    expect(raw.includes(Buffer.from(META.etag))).toBe(false);
    expect(raw.includes(Buffer.from('s3cmd-attrs'))).toBe(false);
  });

  it('does not change the DEK it is given', () => {
    const dek = Buffer.from(DEK);
    const s = sealMeta(dek, ID, META);
    openMeta(dek, ID, s.metaSalt, s.sealed);
    expect(dek.equals(DEK)).toBe(true);
  });

  it('sealJson / openJson round-trip any JSON value', () => {
    for (const v of [{ a: [1, 2, { b: null }] }, 'text', 42, true, null, []]) {
      const s = sealJson(DEK, ID, v);
      expect(openJson(DEK, ID, s.metaSalt, s.sealed)).toEqual(v);
    }
  });
});

describe('sealed metadata is bound to its record', () => {
  const s = sealMeta(DEK, ID, META);

  it('moving the blob to another key fails with IntegrityError', () => {
    const e = openError(() => openMeta(DEK, { ...ID, key: 'photos/dog.jpg' }, s.metaSalt, s.sealed));
    expect(e.code).toBe('IntegrityError');
    expect(e.detail).toEqual({ key: 'photos/dog.jpg' });
  });

  it('moving it to another version of the same key fails', () => {
    expect(openError(() => openMeta(DEK, { ...ID, versionId: 'c'.repeat(32) }, s.metaSalt, s.sealed)).code).toBe(
      'IntegrityError',
    );
  });

  it('moving it to another bucket fails', () => {
    expect(openError(() => openMeta(DEK, { ...ID, bucketUid: 'c'.repeat(32) }, s.metaSalt, s.sealed)).code).toBe(
      'IntegrityError',
    );
  });

  it('length-prefixed identity: shifting characters between fields does not collide', () => {
    const a: SealIdentity = { bucketUid: 'ab', key: 'c', versionId: 'd' };
    const b: SealIdentity = { bucketUid: 'a', key: 'bc', versionId: 'd' };
    const c: SealIdentity = { bucketUid: 'ab', key: 'cd', versionId: '' };
    const sa = sealMeta(DEK, a, META);
    expect(openError(() => openMeta(DEK, b, sa.metaSalt, sa.sealed)).code).toBe('IntegrityError');
    expect(openError(() => openMeta(DEK, c, sa.metaSalt, sa.sealed)).code).toBe('IntegrityError');
  });

  it('another DEK, another salt, or a flipped bit fails', () => {
    expect(openError(() => openMeta(Buffer.alloc(32, 0x12), ID, s.metaSalt, s.sealed)).code).toBe('IntegrityError');
    expect(openError(() => openMeta(DEK, ID, '00'.repeat(32), s.sealed)).code).toBe('IntegrityError');
    const raw = Buffer.from(s.sealed, 'base64');
    for (const i of [0, 12, raw.length - 1]) {
      const t = Buffer.from(raw);
      t[i] ^= 1;
      expect(openError(() => openMeta(DEK, ID, s.metaSalt, t.toString('base64'))).code, `byte ${i}`).toBe(
        'IntegrityError',
      );
    }
  });

  it('a truncated or empty blob fails with IntegrityError, not a crash', () => {
    const raw = Buffer.from(s.sealed, 'base64');
    expect(openError(() => openMeta(DEK, ID, s.metaSalt, raw.subarray(0, 20).toString('base64'))).code).toBe(
      'IntegrityError',
    );
    expect(openError(() => openMeta(DEK, ID, s.metaSalt, '')).code).toBe('IntegrityError');
  });

  it('a tampered metaSalt (wrong length, not hex) fails with IntegrityError too, not a RangeError', () => {
    const salts = ['', 'zz', '00', s.metaSalt.slice(0, 62)];
    const got = Object.fromEntries(
      salts.map((salt) => {
        try {
          openMeta(DEK, ID, salt, s.sealed);
          return [salt, 'opened'];
        } catch (e) {
          return [salt, e instanceof DomainError ? e.code : (e as Error).name];
        }
      }),
    );
    expect(got).toEqual(Object.fromEntries(salts.map((salt) => [salt, 'IntegrityError'])));
  });

  it('the error message names no secret material', () => {
    const e = openError(() => openMeta(DEK, { ...ID, key: 'x' }, s.metaSalt, s.sealed));
    expect(e.message).not.toContain(s.metaSalt);
    expect(e.message).not.toContain(DEK.toString('hex'));
  });
});

describe('object records (seal format 2) are bound to their address and stream reference', () => {
  const bucket = { name: 'photos', uid: 'a'.repeat(32) } as BucketRecord;
  const at = addressOf(bucket, 'cat.jpg');
  const stream = {
    dataId: '1'.repeat(32),
    salt: '2'.repeat(64),
    headerDigest: '3'.repeat(64),
    size: 300_000,
    segmentLog2: 16,
  };
  const clear: UnsealedRecord = {
    bucketUid: bucket.uid,
    key: 'cat.jpg',
    versionId: 'b'.repeat(32),
    size: 300_000,
    lastModified: 1_700_000_000_000,
    headers: { contentType: 'image/jpeg' },
    dekGeneration: 1,
    stream,
  };
  const rec = sealObject(DEK, at, clear, META);
  const part = (n: number, dataId: string): PartRef => ({
    ...stream,
    dataId,
    size: 1000,
    partNumber: n,
    uploadId: 'u'.repeat(32),
    sealedEtag: `e${n}`,
  });
  const mp = sealObject(
    DEK,
    at,
    { ...clear, stream: undefined, size: 2000, parts: [part(1, '4'.repeat(32)), part(2, '5'.repeat(32))] },
    META,
  );
  const other = sealObject(
    DEK,
    addressOf(bucket, 'dog.jpg'),
    {
      ...clear,
      key: 'dog.jpg',
      versionId: 'c'.repeat(32),
      stream: { ...stream, dataId: '9'.repeat(32), salt: '7'.repeat(64), headerDigest: '8'.repeat(64) },
    },
    META,
  );

  const code = (f: () => unknown) => {
    try {
      f();
      return 'opened';
    } catch (e) {
      return e instanceof DomainError ? e.code : (e as Error).name;
    }
  };

  it('round-trips, marks the record sealFormat 2, and looks up version "null"', () => {
    expect(rec.sealFormat).toBe(2);
    expect(at.version).toBe('null');
    expect(openObject(DEK, at, rec)).toEqual(META);
    expect(openObject(DEK, at, mp)).toEqual(META);
  });

  it('a record read under another key, bucket name, bucket uid or version fails (record swap)', () => {
    expect(code(() => openObject(DEK, addressOf(bucket, 'dog.jpg'), rec))).toBe('IntegrityError');
    expect(code(() => openObject(DEK, { ...at, bucketName: 'photos2' }, rec))).toBe('IntegrityError');
    expect(code(() => openObject(DEK, { ...at, bucketUid: 'c'.repeat(32) }, rec))).toBe('IntegrityError');
    expect(code(() => openObject(DEK, { ...at, version: 'v2' }, rec))).toBe('IntegrityError');
    // rec.key is not what is checked: editing it to match the lookup does not help.
    expect(code(() => openObject(DEK, addressOf(bucket, 'dog.jpg'), { ...rec, key: 'dog.jpg' }))).toBe(
      'IntegrityError',
    );
  });

  it("another record's stream, or any one stream field, fails (stream-field swap)", () => {
    expect(code(() => openObject(DEK, at, { ...rec, stream: other.stream }))).toBe('IntegrityError');
    for (const f of ['dataId', 'salt', 'headerDigest'] as const) {
      expect(
        code(() => openObject(DEK, at, { ...rec, stream: { ...stream, [f]: other.stream![f] } })),
        f,
      ).toBe('IntegrityError');
    }
    expect(code(() => openObject(DEK, at, { ...rec, stream: { ...stream, size: 299_999 } }))).toBe('IntegrityError');
    expect(code(() => openObject(DEK, at, { ...rec, size: 299_999 }))).toBe('IntegrityError');
  });

  it("another record's sealed/metaSalt fails (sealed-field swap), alone or with its versionId", () => {
    expect(code(() => openObject(DEK, at, { ...rec, sealed: other.sealed, metaSalt: other.metaSalt }))).toBe(
      'IntegrityError',
    );
    expect(
      code(() =>
        openObject(DEK, at, { ...rec, sealed: other.sealed, metaSalt: other.metaSalt, versionId: other.versionId }),
      ),
    ).toBe('IntegrityError');
  });

  it('a part list reordered, cut, or with a part from elsewhere fails', () => {
    const parts = mp.parts!;
    expect(code(() => openObject(DEK, at, { ...mp, parts: [parts[1], parts[0]] }))).toBe('IntegrityError');
    expect(code(() => openObject(DEK, at, { ...mp, parts: [parts[0]] }))).toBe('IntegrityError');
    expect(
      code(() => openObject(DEK, at, { ...mp, parts: [parts[0], { ...parts[1], uploadId: 'x'.repeat(32) }] })),
    ).toBe('IntegrityError');
    expect(code(() => openObject(DEK, at, { ...mp, parts: [parts[0], { ...parts[1], dataId: '9'.repeat(32) }] }))).toBe(
      'IntegrityError',
    );
    expect(code(() => openObject(DEK, at, { ...mp, parts: undefined, stream }))).toBe('IntegrityError');
    expect(code(() => openObject(DEK, at, { ...mp, stream }))).toBe('IntegrityError');
  });

  it('edited clear headers, lastModified or storage class fail', () => {
    expect(code(() => openObject(DEK, at, { ...rec, headers: { contentType: 'text/html' } }))).toBe('IntegrityError');
    expect(code(() => openObject(DEK, at, { ...rec, lastModified: rec.lastModified + 1 }))).toBe('IntegrityError');
    expect(code(() => openObject(DEK, at, { ...rec, storageClass: 'GLACIER' }))).toBe('IntegrityError');
  });

  it('format downgrade or an unknown format fails; malformed fields are IntegrityError, not a crash', () => {
    const { sealFormat: _f, ...downgraded } = rec;
    expect(code(() => openObject(DEK, at, downgraded as ObjectRecord))).toBe('IntegrityError');
    expect(code(() => openObject(DEK, at, { ...rec, sealFormat: 3 }))).toBe('IntegrityError');
    expect(code(() => openObject(DEK, at, { ...rec, headers: undefined as unknown as ObjectRecord['headers'] }))).toBe(
      'IntegrityError',
    );
    expect(code(() => openObject(DEK, at, { ...rec, size: 'x' as unknown as number }))).toBe('IntegrityError');
    expect(code(() => openObject(DEK, at, { ...rec, metaSalt: 'zz' }))).toBe('IntegrityError');
  });

  it('a format-1 record (no sealFormat, written before) still opens, under the looked-up key only', () => {
    const s = sealMeta(DEK, { bucketUid: bucket.uid, key: 'cat.jpg', versionId: clear.versionId }, META);
    const v1: ObjectRecord = { ...clear, metaSalt: s.metaSalt, sealed: s.sealed };
    expect(openObject(DEK, at, v1)).toEqual(META);
    expect(code(() => openObject(DEK, addressOf(bucket, 'dog.jpg'), v1))).toBe('IntegrityError');
    expect(code(() => openObject(DEK, addressOf(bucket, 'dog.jpg'), { ...v1, key: 'dog.jpg' }))).toBe('IntegrityError');
  });
});
