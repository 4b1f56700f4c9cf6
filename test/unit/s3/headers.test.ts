import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import type { BucketRecord, ObjectRecord, SealedMeta } from '../../../src/meta/records.js';
import { S3Error, type S3ErrorCode } from '../../../src/s3/errors.js';
import {
  MAX_USER_META_BYTES,
  checksumHeaders,
  header,
  objectHeaders,
  responseOverrides,
  standardHeaders,
  taggingHeader,
  uploadExpectations,
  userMetadata,
  writeConditions,
} from '../../../src/s3/headers.js';
import { UploadHasher } from '../../../src/services/uploadHasher.js';

const CRN_A = 'crn:v1:bluemix:public:kms:us-south:a/acct:inst:key:aaaa';

function bucket(customerManaged: boolean, rootKeyCrn = CRN_A): BucketRecord {
  return {
    name: 'b',
    uid: '0'.repeat(32),
    owner: 'acct',
    createdAt: 0,
    region: 'us-east-1',
    encryption: { rootKeyCrn, customerManaged, wrappedDek: 'w', keyVersion: 'v1', aad: [], dekGeneration: 1 },
  };
}

function codeOf(f: () => unknown): S3ErrorCode | 'ok' {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
}

const md5b64 = (s: string) => createHash('md5').update(s).digest('base64');
const EMPTY_MD5 = '1B2M2Y8AsgTpgAmY7PhCfg==';

async function hashThrough(
  expectations: ReturnType<typeof uploadExpectations>['expect'],
  body: string,
): Promise<string> {
  const h = new UploadHasher(expectations);
  try {
    await pipeline(Readable.from([Buffer.from(body)]), h, new Writable({ write: (_c, _e, cb) => cb() }));
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

describe('header()', () => {
  it('joins repeated headers with commas and passes undefined through', () => {
    expect(header({ 'x-a': ['1', '2'] }, 'x-a')).toBe('1,2');
    expect(header({ 'x-a': 'v' }, 'x-a')).toBe('v');
    expect(header({}, 'x-a')).toBeUndefined();
  });
});

describe('uploadExpectations: Content-MD5', () => {
  it('accepts a base64 MD5 and passes it on trimmed', () => {
    const { expect: e } = uploadExpectations({ 'content-md5': ` ${EMPTY_MD5} ` }, 0);
    expect(e.contentMd5).toBe(EMPTY_MD5);
    expect(e.length).toBe(0);
  });

  it('refuses what is not base64 of 16 bytes with InvalidDigest', () => {
    const bad = [
      '',
      'abc',
      'd41d8cd98f00b204e9800998ecf8427e', // hex, not base64
      Buffer.alloc(15).toString('base64'),
      Buffer.alloc(17).toString('base64'),
      '1B2M2Y8AsgTpgAmY7PhCfg==!!',
      '1B2M2Y8AsgTpgAmY7PhC-g==', // base64url alphabet
      '1B2M2Y8A sgTpgAmY7PhCfg==',
    ];
    for (const md5 of bad)
      expect(
        codeOf(() => uploadExpectations({ 'content-md5': md5 }, undefined)),
        JSON.stringify(md5),
      ).toBe('InvalidDigest');
  });

  it('an unpadded base64 MD5 is refused up front (InvalidDigest, 400), never a false BadDigest', () => {
    const unpadded = md5b64('hello').replace(/=+$/, '');
    expect(unpadded).toHaveLength(22);
    let err: unknown;
    try {
      uploadExpectations({ 'content-md5': unpadded }, 5);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(S3Error);
    expect([(err as S3Error).code, (err as S3Error).status]).toEqual(['InvalidDigest', 400]);
  });

  it('a correct Content-MD5 passes the hasher, a wrong one is BadDigest', async () => {
    expect(await hashThrough(uploadExpectations({ 'content-md5': md5b64('hello') }, 5).expect, 'hello')).toBe('ok');
    expect(await hashThrough(uploadExpectations({ 'content-md5': md5b64('hellO') }, 5).expect, 'hello')).toBe(
      'BadDigest',
    );
  });
});

describe('uploadExpectations: flexible checksums', () => {
  it('no integrity headers: nothing expected, nothing computed', () => {
    expect(uploadExpectations({}, 10)).toEqual({
      expect: { length: 10, checksums: {}, compute: [] },
      algorithm: undefined,
    });
  });

  it('one x-amz-checksum-* header is expected (trimmed) and names the algorithm', () => {
    const r = uploadExpectations({ 'x-amz-checksum-crc32': ' AAAAAA== ' }, 0);
    expect(r.algorithm).toBe('CRC32');
    expect(r.expect.checksums).toEqual({ CRC32: 'AAAAAA==' });
    expect(r.expect.compute).toEqual([]);
  });

  it('every algorithm has its header', () => {
    for (const [h, a] of [
      ['x-amz-checksum-crc32', 'CRC32'],
      ['x-amz-checksum-crc32c', 'CRC32C'],
      ['x-amz-checksum-crc64nvme', 'CRC64NVME'],
      ['x-amz-checksum-sha1', 'SHA1'],
      ['x-amz-checksum-sha256', 'SHA256'],
    ] as const) {
      expect(uploadExpectations({ [h]: 'x' }, undefined).algorithm).toBe(a);
    }
  });

  it('two checksum headers are InvalidRequest', () => {
    expect(
      codeOf(() => uploadExpectations({ 'x-amz-checksum-crc32': 'AAAAAA==', 'x-amz-checksum-sha256': 'x' }, 0)),
    ).toBe('InvalidRequest');
    expect(codeOf(() => uploadExpectations({ 'x-amz-checksum-crc32c': 'a', 'x-amz-checksum-crc64nvme': 'b' }, 0))).toBe(
      'InvalidRequest',
    );
  });

  it('Content-MD5 together with one checksum header is fine', () => {
    const r = uploadExpectations({ 'content-md5': EMPTY_MD5, 'x-amz-checksum-crc32': 'AAAAAA==' }, 0);
    expect([r.expect.contentMd5, r.algorithm]).toEqual([EMPTY_MD5, 'CRC32']);
  });

  it('x-amz-trailer names an algorithm to compute (its value is verified by the body decoder)', () => {
    const r = uploadExpectations({ 'x-amz-trailer': 'x-amz-checksum-crc32' }, 100);
    expect(r.algorithm).toBe('CRC32');
    expect(r.expect.compute).toEqual(['CRC32']);
    expect(r.expect.checksums).toEqual({});
    expect(uploadExpectations({ 'x-amz-trailer': ' X-Amz-Checksum-CRC64NVME ' }, 1).algorithm).toBe('CRC64NVME');
  });

  it('x-amz-trailer together with an x-amz-checksum-* header is InvalidRequest', () => {
    expect(
      codeOf(() =>
        uploadExpectations({ 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-checksum-crc32': 'AAAAAA==' }, 0),
      ),
    ).toBe('InvalidRequest');
    expect(
      codeOf(() => uploadExpectations({ 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-checksum-sha1': 'x' }, 0)),
    ).toBe('InvalidRequest');
  });

  it('an x-amz-trailer that is not a supported checksum is InvalidRequest', () => {
    expect(codeOf(() => uploadExpectations({ 'x-amz-trailer': 'x-amz-checksum-md5' }, 0))).toBe('InvalidRequest');
    expect(codeOf(() => uploadExpectations({ 'x-amz-trailer': 'x-amz-meta-foo' }, 0))).toBe('InvalidRequest');
  });

  it('x-amz-sdk-checksum-algorithm alone: compute that algorithm (case-insensitive)', () => {
    const r = uploadExpectations({ 'x-amz-sdk-checksum-algorithm': 'crc32c' }, 0);
    expect(r.algorithm).toBe('CRC32C');
    expect(r.expect.compute).toEqual(['CRC32C']);
  });

  it('x-amz-sdk-checksum-algorithm that agrees with the header or trailer is accepted, not computed twice', () => {
    const h = uploadExpectations({ 'x-amz-sdk-checksum-algorithm': 'CRC32', 'x-amz-checksum-crc32': 'AAAAAA==' }, 0);
    expect([h.algorithm, h.expect.compute]).toEqual(['CRC32', []]);
    const t = uploadExpectations(
      { 'x-amz-sdk-checksum-algorithm': 'sha256', 'x-amz-trailer': 'x-amz-checksum-sha256' },
      0,
    );
    expect([t.algorithm, t.expect.compute]).toEqual(['SHA256', ['SHA256']]);
  });

  it('x-amz-sdk-checksum-algorithm that disagrees with the header or trailer is InvalidRequest', () => {
    expect(
      codeOf(() =>
        uploadExpectations({ 'x-amz-sdk-checksum-algorithm': 'CRC32C', 'x-amz-checksum-crc32': 'AAAAAA==' }, 0),
      ),
    ).toBe('InvalidRequest');
    expect(
      codeOf(() =>
        uploadExpectations({ 'x-amz-sdk-checksum-algorithm': 'SHA1', 'x-amz-trailer': 'x-amz-checksum-crc32' }, 0),
      ),
    ).toBe('InvalidRequest');
  });

  it('an unknown x-amz-sdk-checksum-algorithm is InvalidRequest', () => {
    expect(codeOf(() => uploadExpectations({ 'x-amz-sdk-checksum-algorithm': 'MD5' }, 0))).toBe('InvalidRequest');
  });

  it('the declared length is passed through', () => {
    expect(uploadExpectations({}, undefined).expect.length).toBeUndefined();
    expect(uploadExpectations({}, 1234).expect.length).toBe(1234);
  });
});

describe('standardHeaders', () => {
  it('maps the stored headers', () => {
    expect(
      standardHeaders({
        'content-type': 'text/plain',
        'content-encoding': 'gzip',
        'content-disposition': 'attachment; filename="a.txt"',
        'content-language': 'de',
        'cache-control': 'no-cache',
        expires: 'Thu, 01 Dec 2044 16:00:00 GMT',
      }),
    ).toEqual({
      contentType: 'text/plain',
      contentEncoding: 'gzip',
      contentDisposition: 'attachment; filename="a.txt"',
      contentLanguage: 'de',
      cacheControl: 'no-cache',
      expires: 'Thu, 01 Dec 2044 16:00:00 GMT',
    });
  });

  it('absent headers are undefined', () => {
    expect(standardHeaders({})).toEqual({
      contentType: undefined,
      contentEncoding: undefined,
      contentDisposition: undefined,
      contentLanguage: undefined,
      cacheControl: undefined,
      expires: undefined,
    });
  });

  it('strips the transport-only aws-chunked token from Content-Encoding, in any position and case', () => {
    const ce = (v: string) => standardHeaders({ 'content-encoding': v }).contentEncoding;
    expect(ce('aws-chunked')).toBeUndefined();
    expect(ce('AWS-Chunked')).toBeUndefined();
    expect(ce('aws-chunked,gzip')).toBe('gzip');
    expect(ce('gzip, aws-chunked')).toBe('gzip');
    expect(ce('gzip,aws-chunked,br')).toBe('gzip, br');
    expect(ce(' , aws-chunked , ')).toBeUndefined();
    expect(ce('')).toBeUndefined();
  });
});

describe('userMetadata', () => {
  it('collects x-amz-meta-* without the prefix, keeping values exactly', () => {
    const h: IncomingHttpHeaders = {
      'x-amz-meta-mtime': '1700000000.123456789',
      'x-amz-meta-md5chksum': 'XUFAKrxLKna5cZ2REBfFkg==',
      'x-amz-meta-empty': '',
      'content-type': 'x',
      'x-amz-metadata-directive': 'COPY',
    };
    expect(userMetadata(h)).toEqual({
      mtime: '1700000000.123456789',
      md5chksum: 'XUFAKrxLKna5cZ2REBfFkg==',
      empty: '',
    });
  });

  it('joins repeated values with commas', () => {
    expect(userMetadata({ 'x-amz-meta-a': ['1', '2'] })).toEqual({ a: '1,2' });
  });

  it('exactly 2 KiB of names plus values is accepted; one byte more is MetadataTooLarge', () => {
    // name "k" (1 byte) + value (2047 bytes) = 2048
    expect(Object.keys(userMetadata({ 'x-amz-meta-k': 'v'.repeat(MAX_USER_META_BYTES - 1) }))).toEqual(['k']);
    let err: unknown;
    try {
      userMetadata({ 'x-amz-meta-k': 'v'.repeat(MAX_USER_META_BYTES) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(S3Error);
    expect((err as S3Error).code).toBe('MetadataTooLarge');
    expect((err as S3Error).fields).toEqual({ Size: MAX_USER_META_BYTES + 1, MaxSizeAllowed: MAX_USER_META_BYTES });
  });

  it('the limit is the sum over all entries, measured in bytes', () => {
    const h: IncomingHttpHeaders = {};
    for (let i = 0; i < 8; i++) h[`x-amz-meta-k${i}`] = 'v'.repeat(254); // 8 * (2 + 254) = 2048
    expect(Object.keys(userMetadata(h))).toHaveLength(8);
    h['x-amz-meta-z'] = '';
    expect(codeOf(() => userMetadata(h))).toBe('MetadataTooLarge');
    expect(MAX_USER_META_BYTES).toBe(2048);
  });
});

describe('userMetadata: bytes on the wire', () => {
  it('counts UTF-8 bytes as received: Node hands header values over as latin1, one char per byte', () => {
    // 1500 bytes of UTF-8 ("é" x 750) arrive as a 1500-char latin1 string; with the
    // 1-byte name that is 1501 bytes, under the 2 KiB limit.
    const wire = Buffer.from('é'.repeat(750), 'utf8').toString('latin1');
    expect(wire.length).toBe(1500);
    expect(codeOf(() => userMetadata({ 'x-amz-meta-k': wire }))).toBe('ok');
  });
});

describe('taggingHeader', () => {
  it('parses k=v&k2=v2 with URL decoding; absent header is undefined', () => {
    expect(taggingHeader({ 'x-amz-tagging': 'a=1&b=x%20y&c=' })).toEqual({ a: '1', b: 'x y', c: '' });
    expect(taggingHeader({})).toBeUndefined();
  });

  it('refuses more than 10 tags, empty or long keys, long values', () => {
    const eleven = Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&');
    expect(codeOf(() => taggingHeader({ 'x-amz-tagging': eleven }))).toBe('InvalidTag');
    expect(codeOf(() => taggingHeader({ 'x-amz-tagging': '=v' }))).toBe('InvalidTag');
    expect(codeOf(() => taggingHeader({ 'x-amz-tagging': `${'k'.repeat(129)}=v` }))).toBe('InvalidTag');
    expect(codeOf(() => taggingHeader({ 'x-amz-tagging': `k=${'v'.repeat(257)}` }))).toBe('InvalidTag');
    expect(Object.keys(taggingHeader({ 'x-amz-tagging': `${'k'.repeat(128)}=${'v'.repeat(256)}` }) ?? {})).toHaveLength(
      1,
    );
  });
});

describe('objectHeaders and checksumHeaders', () => {
  const rec: ObjectRecord = {
    bucketUid: '0'.repeat(32),
    key: 'k',
    versionId: 'v',
    size: 3,
    lastModified: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
    headers: { contentType: 'text/plain', cacheControl: 'max-age=60' },
    metaSalt: '',
    sealed: '',
    dekGeneration: 1,
  };
  const meta: SealedMeta = {
    etag: 'abc',
    checksums: { CRC32: 'AAAAAA==' },
    userMeta: { mtime: '1' },
    tags: { a: '1', b: '2' },
  };

  it('has the HEAD essentials, user metadata, tag count; checksums only when asked', () => {
    const h = objectHeaders(bucket(false), rec, meta, false);
    expect(h).toEqual({
      'last-modified': 'Tue, 02 Jan 2024 03:04:05 GMT',
      etag: '"abc"',
      'accept-ranges': 'bytes',
      'content-type': 'text/plain',
      'cache-control': 'max-age=60',
      'x-amz-server-side-encryption': 'AES256',
      'x-amz-meta-mtime': '1',
      'x-amz-tagging-count': '2',
    });
    expect(objectHeaders(bucket(false), rec, meta, true)).toMatchObject({
      'x-amz-checksum-crc32': 'AAAAAA==',
      'x-amz-checksum-type': 'FULL_OBJECT',
    });
  });

  it('defaults Content-Type to binary/octet-stream', () => {
    expect(
      objectHeaders(bucket(false), { ...rec, headers: {} }, { etag: 'e', checksums: {}, userMeta: {} }, false)[
        'content-type'
      ],
    ).toBe('binary/octet-stream');
  });

  it('composite checksums of multipart objects are COMPOSITE; unknown algorithms are skipped', () => {
    expect(checksumHeaders({ CRC32C: 'AAAAAA==-3', MD5: 'x' }, true)).toEqual({
      'x-amz-checksum-crc32c': 'AAAAAA==-3',
      'x-amz-checksum-type': 'COMPOSITE',
    });
    expect(checksumHeaders({ SHA256: 'x' }, false)).toEqual({
      'x-amz-checksum-sha256': 'x',
      'x-amz-checksum-type': 'FULL_OBJECT',
    });
    expect(checksumHeaders({}, true)).toEqual({});
  });
});

describe('responseOverrides', () => {
  it('maps every response-* parameter to its header', () => {
    const q = new URLSearchParams({
      'response-content-type': 'application/json',
      'response-content-language': 'fr',
      'response-expires': 'Thu, 01 Dec 2044 16:00:00 GMT',
      'response-cache-control': 'no-store',
      'response-content-disposition': 'attachment; filename="r.json"',
      'response-content-encoding': 'identity',
    });
    expect(responseOverrides(q)).toEqual({
      'content-type': 'application/json',
      'content-language': 'fr',
      expires: 'Thu, 01 Dec 2044 16:00:00 GMT',
      'cache-control': 'no-store',
      'content-disposition': 'attachment; filename="r.json"',
      'content-encoding': 'identity',
    });
  });

  it('ignores other parameters; an empty value is still an override', () => {
    expect(responseOverrides(new URLSearchParams('x-id=GetObject&response-content-type=&versionId=1'))).toEqual({
      'content-type': '',
    });
    expect(responseOverrides(new URLSearchParams(''))).toEqual({});
  });

  it('decodes the query values', () => {
    expect(
      responseOverrides(new URLSearchParams('response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22')),
    ).toEqual({ 'content-disposition': 'attachment; filename="a b.txt"' });
  });
});

describe('writeConditions', () => {
  const codeOf = (h: IncomingHttpHeaders) => {
    try {
      writeConditions(h);
      return 'ok';
    } catch (e) {
      return e instanceof S3Error ? `${e.code}:${String(e.fields.Header)}` : 'other';
    }
  };
  it('reads If-None-Match: * and If-Match; none gives undefined', () => {
    expect(writeConditions({})).toBeUndefined();
    expect(writeConditions({ 'if-none-match': ' * ' })).toEqual({ ifNoneMatch: '*' });
    expect(writeConditions({ 'if-match': '"abc"' })).toEqual({ ifMatch: '"abc"' });
  });
  it('If-None-Match other than *, or both headers, is NotImplemented naming the header', () => {
    expect(codeOf({ 'if-none-match': '"abc"' })).toBe('NotImplemented:If-None-Match');
    expect(codeOf({ 'if-none-match': '*', 'if-match': '"abc"' })).toBe('NotImplemented:If-Match');
  });
});
