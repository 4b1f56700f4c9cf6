import { describe, expect, it } from 'vitest';
import { S3Error, type S3ErrorCode } from '../../../../src/s3/errors.js';
import {
  decodeCompleteMultipartUpload,
  decodeCreateBucketConfiguration,
  decodeDelete,
  decodeServerSideEncryptionConfiguration,
  decodeTagging,
  parseXml,
} from '../../../../src/s3/xml/decode.js';

const NS = ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

/** The S3 error code `f` throws; fails the test if it throws anything else or nothing. */
function codeOf(f: () => unknown): S3ErrorCode {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  if (err === undefined) throw new Error('expected an S3Error, nothing was thrown');
  if (!(err instanceof S3Error)) throw new Error(`expected an S3Error, got ${String(err)}`);
  return err.code;
}

/** The S3 error code, another error's name, or "accepted" (for tables of inputs). */
function outcome(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (e) {
    return e instanceof S3Error ? e.code : `${(e as Error).name}: ${(e as Error).message}`;
  }
}

const deleteDoc = (keys: string[], quiet?: string) =>
  `<Delete${NS}>${quiet !== undefined ? `<Quiet>${quiet}</Quiet>` : ''}${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}</Delete>`;

const tagDoc = (tags: Array<[string, string]>) =>
  `<Tagging${NS}><TagSet>${tags.map(([k, v]) => `<Tag><Key>${k}</Key><Value>${v}</Value></Tag>`).join('')}</TagSet></Tagging>`;

describe('parseXml: refused documents', () => {
  it('refuses a DOCTYPE, in any case, before parsing', () => {
    const xxe =
      '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&x;</Key></Object></Delete>';
    expect(codeOf(() => parseXml(xxe))).toBe('MalformedXML');
    expect(codeOf(() => parseXml('<!doctype a><a/>'))).toBe('MalformedXML');
    expect(codeOf(() => decodeDelete(xxe))).toBe('MalformedXML');
  });

  it('refuses ENTITY declarations (billion laughs)', () => {
    const lol =
      '<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Tagging><TagSet><Tag><Key>k</Key><Value>&b;</Value></Tag></TagSet></Tagging>';
    expect(codeOf(() => decodeTagging(lol))).toBe('MalformedXML');
    expect(codeOf(() => parseXml('<a><!ENTITY x "y"></a>'))).toBe('MalformedXML');
  });

  it('says why a DOCTYPE was refused', () => {
    expect(() => parseXml('<!DOCTYPE a><a/>')).toThrow(/DOCTYPE/);
  });

  it('refuses empty, whitespace-only and non-XML bodies', () => {
    for (const body of ['', '   \n', 'just text', '{"Delete":{}}'])
      expect(
        codeOf(() => parseXml(body)),
        JSON.stringify(body),
      ).toBe('MalformedXML');
  });

  it('refuses malformed XML: unclosed, mismatched, bare "&", unquoted attribute', () => {
    for (const body of ['<a><b>1</b>', '<a><b>1</a></b>', '<a>x & y</a>', '<a x=1/>', '<a></b>', '<a><b></a>']) {
      expect(
        codeOf(() => parseXml(body)),
        body,
      ).toBe('MalformedXML');
    }
  });

  it('refuses numeric character references that are not XML characters (as MalformedXML, not a crash)', () => {
    // &#x110000; is beyond Unicode: String.fromCodePoint throws a RangeError, which becomes a 500.
    // &#0; is not an XML Char (XML 1.0 production [2]).
    const refs = ['&#x110000;', '&#1114112;', '&#99999999;', '&#0;', '&#x0;', '&#xD800;'];
    expect(Object.fromEntries(refs.map((ref) => [ref, outcome(() => parseXml(`<a>${ref}</a>`))]))).toEqual(
      Object.fromEntries(refs.map((ref) => [ref, 'MalformedXML'])),
    );
  });
});

describe('parseXml: entity decoding', () => {
  it('decodes the five predefined entities', () => {
    expect(parseXml('<a>&lt;&gt;&amp;&quot;&apos;</a>')).toEqual({ a: `<>&"'` });
  });

  it('decodes decimal and hexadecimal character references, including astral ones', () => {
    expect(parseXml('<a>&#65;&#x42;&#x63;&#233;&#x1F600;&#128512;</a>')).toEqual({ a: 'ABcé😀😀' });
  });

  it('decodes exactly once: &amp;lt; is the text "&lt;"', () => {
    expect(parseXml('<a>&amp;lt;</a>')).toEqual({ a: '&lt;' });
    expect(parseXml('<a>&amp;amp;</a>')).toEqual({ a: '&amp;' });
    expect(parseXml('<a>&amp;#65;</a>')).toEqual({ a: '&#65;' });
  });

  it('does not entity-decode CDATA content', () => {
    expect(parseXml('<a><![CDATA[x&amp;y<z>]]></a>')).toEqual({ a: 'x&amp;y<z>' });
  });

  it('decodes inside nested elements and arrays', () => {
    const d = decodeDelete(deleteDoc(['a&amp;b', 'c&lt;d', '&#x2F;e']));
    expect(d.objects.map((o) => o.key)).toEqual(['a&b', 'c<d', '/e']);
  });

  it('ignores namespaces, prefixes and attributes', () => {
    expect(parseXml('<s3:a xmlns:s3="urn:x" s3:attr="1"><s3:b>v</s3:b></s3:a>')).toEqual({ a: { b: 'v' } });
  });

  it('keeps values as strings (no number or boolean coercion)', () => {
    expect(parseXml('<a><n>007</n><t>true</t><e>1e3</e></a>')).toEqual({ a: { n: '007', t: 'true', e: '1e3' } });
  });
});

describe('decodeCreateBucketConfiguration', () => {
  it('an empty or whitespace body means no configuration', () => {
    expect(decodeCreateBucketConfiguration('')).toEqual({});
    expect(decodeCreateBucketConfiguration(' \r\n\t')).toEqual({});
  });

  it('reads LocationConstraint, with or without namespace and XML declaration', () => {
    expect(
      decodeCreateBucketConfiguration(
        `<CreateBucketConfiguration${NS}><LocationConstraint>eu-de</LocationConstraint></CreateBucketConfiguration>`,
      ),
    ).toEqual({ locationConstraint: 'eu-de' });
    expect(
      decodeCreateBucketConfiguration(
        '<?xml version="1.0" encoding="UTF-8"?>\n<CreateBucketConfiguration><LocationConstraint>us-south</LocationConstraint></CreateBucketConfiguration>',
      ),
    ).toEqual({ locationConstraint: 'us-south' });
  });

  it('an empty element or empty LocationConstraint means no constraint', () => {
    expect(decodeCreateBucketConfiguration('<CreateBucketConfiguration/>').locationConstraint).toBeUndefined();
    expect(
      decodeCreateBucketConfiguration('<CreateBucketConfiguration><LocationConstraint/></CreateBucketConfiguration>')
        .locationConstraint,
    ).toBeUndefined();
    expect(
      decodeCreateBucketConfiguration(
        '<CreateBucketConfiguration><LocationConstraint></LocationConstraint></CreateBucketConfiguration>',
      ).locationConstraint,
    ).toBeUndefined();
  });

  it('refuses another root element and malformed XML', () => {
    expect(
      codeOf(() =>
        decodeCreateBucketConfiguration('<Configuration><LocationConstraint>x</LocationConstraint></Configuration>'),
      ),
    ).toBe('MalformedXML');
    expect(codeOf(() => decodeCreateBucketConfiguration('<CreateBucketConfiguration>'))).toBe('MalformedXML');
  });

  it('refuses a LocationConstraint with element content', () => {
    expect(
      codeOf(() =>
        decodeCreateBucketConfiguration(
          '<CreateBucketConfiguration><LocationConstraint><x/></LocationConstraint></CreateBucketConfiguration>',
        ),
      ),
    ).toBe('MalformedXML');
  });
});

describe('decodeDelete', () => {
  it('one object (not an array in the XML) still yields a list', () => {
    expect(decodeDelete(deleteDoc(['only']))).toEqual({
      quiet: false,
      objects: [{ key: 'only', versionId: undefined }],
    });
  });

  it('keeps order and VersionId', () => {
    const xml = `<Delete><Object><Key>b</Key><VersionId>v1</VersionId></Object><Object><Key>a</Key></Object></Delete>`;
    expect(decodeDelete(xml).objects).toEqual([
      { key: 'b', versionId: 'v1' },
      { key: 'a', versionId: undefined },
    ]);
  });

  it('Quiet is true only for "true", case-insensitive', () => {
    expect(decodeDelete(deleteDoc(['k'], 'true')).quiet).toBe(true);
    expect(decodeDelete(deleteDoc(['k'], 'TRUE')).quiet).toBe(true);
    expect(decodeDelete(deleteDoc(['k'], 'false')).quiet).toBe(false);
    expect(decodeDelete(deleteDoc(['k'], '1')).quiet).toBe(false);
    expect(decodeDelete(deleteDoc(['k'])).quiet).toBe(false);
  });

  it('0 objects is MalformedXML', () => {
    expect(codeOf(() => decodeDelete('<Delete/>'))).toBe('MalformedXML');
    expect(codeOf(() => decodeDelete('<Delete><Quiet>true</Quiet></Delete>'))).toBe('MalformedXML');
  });

  it('1000 objects are accepted, 1001 are MalformedXML', () => {
    const keys = Array.from({ length: 1001 }, (_, i) => `k${i}`);
    expect(decodeDelete(deleteDoc(keys.slice(0, 1000))).objects).toHaveLength(1000);
    let err: unknown;
    try {
      decodeDelete(deleteDoc(keys));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(S3Error);
    expect((err as S3Error).code).toBe('MalformedXML');
    expect((err as S3Error).message).toMatch(/1000/);
  });

  it('an Object without Key, or with two Keys, is MalformedXML', () => {
    expect(codeOf(() => decodeDelete('<Delete><Object><VersionId>v</VersionId></Object></Delete>'))).toBe(
      'MalformedXML',
    );
    expect(codeOf(() => decodeDelete('<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>'))).toBe(
      'MalformedXML',
    );
  });

  it('refuses another root element', () => {
    expect(codeOf(() => decodeDelete('<Remove><Object><Key>a</Key></Object></Remove>'))).toBe('MalformedXML');
  });

  it('keys are taken verbatim: digits stay strings, entities decoded, unicode kept', () => {
    expect(
      decodeDelete(deleteDoc(['0123', 'true', 'a&amp;b&lt;c&gt;', 'dir/', 'é😀'])).objects.map((o) => o.key),
    ).toEqual(['0123', 'true', 'a&b<c>', 'dir/', 'é😀']);
  });

  it('keeps leading and trailing spaces in keys (they are part of the object name)', () => {
    expect(decodeDelete(deleteDoc([' lead', 'trail ', '  both  '])).objects.map((o) => o.key)).toEqual([
      ' lead',
      'trail ',
      '  both  ',
    ]);
  });
});

describe('decodeCompleteMultipartUpload', () => {
  const doc = (parts: string) => `<CompleteMultipartUpload${NS}>${parts}</CompleteMultipartUpload>`;

  it('reads parts in document order with numeric part numbers', () => {
    const xml = doc(
      '<Part><PartNumber>1</PartNumber><ETag>"aaa"</ETag></Part><Part><ETag>bbb</ETag><PartNumber>2</PartNumber></Part>',
    );
    expect(decodeCompleteMultipartUpload(xml)).toEqual([
      { partNumber: 1, etag: '"aaa"', checksums: {} },
      { partNumber: 2, etag: 'bbb', checksums: {} },
    ]);
  });

  it('one part is a list; &quot;-escaped ETags are decoded', () => {
    expect(
      decodeCompleteMultipartUpload(doc('<Part><PartNumber>7</PartNumber><ETag>&quot;abc&quot;</ETag></Part>')),
    ).toEqual([{ partNumber: 7, etag: '"abc"', checksums: {} }]);
  });

  it('reads the per-part checksum elements of every algorithm (the service verifies them)', () => {
    expect(
      decodeCompleteMultipartUpload(
        doc('<Part><ChecksumCRC32>AAAAAA==</ChecksumCRC32><PartNumber>1</PartNumber><ETag>e</ETag></Part>'),
      ),
    ).toEqual([{ partNumber: 1, etag: 'e', checksums: { CRC32: 'AAAAAA==' } }]);
    const all =
      '<ChecksumCRC32C>a</ChecksumCRC32C><ChecksumCRC64NVME>b</ChecksumCRC64NVME><ChecksumSHA1>c</ChecksumSHA1><ChecksumSHA256> d </ChecksumSHA256><ChecksumMD5>x</ChecksumMD5>';
    expect(
      decodeCompleteMultipartUpload(doc(`<Part><PartNumber>1</PartNumber><ETag>e</ETag>${all}</Part>`))[0].checksums,
    ).toEqual({ CRC32C: 'a', CRC64NVME: 'b', SHA1: 'c', SHA256: 'd' });
  });

  it('keeps the order it was given (the service checks ascending order)', () => {
    expect(
      decodeCompleteMultipartUpload(
        doc(
          '<Part><PartNumber>2</PartNumber><ETag>b</ETag></Part><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part>',
        ),
      ).map((p) => p.partNumber),
    ).toEqual([2, 1]);
  });

  it('no parts decodes to an empty list (the service answers MalformedXML)', () => {
    expect(decodeCompleteMultipartUpload(doc(''))).toEqual([]);
    expect(decodeCompleteMultipartUpload('<CompleteMultipartUpload/>')).toEqual([]);
  });

  it('missing or non-integer PartNumber, or missing ETag, is MalformedXML', () => {
    for (const part of [
      '<Part><ETag>e</ETag></Part>',
      '<Part><PartNumber>x</PartNumber><ETag>e</ETag></Part>',
      '<Part><PartNumber>1.5</PartNumber><ETag>e</ETag></Part>',
      '<Part><PartNumber>1</PartNumber></Part>',
    ]) {
      expect(
        codeOf(() => decodeCompleteMultipartUpload(doc(part))),
        part,
      ).toBe('MalformedXML');
    }
  });

  it('refuses another root element and malformed XML', () => {
    expect(
      codeOf(() =>
        decodeCompleteMultipartUpload('<Complete><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></Complete>'),
      ),
    ).toBe('MalformedXML');
    expect(codeOf(() => decodeCompleteMultipartUpload('<CompleteMultipartUpload><Part>'))).toBe('MalformedXML');
  });
});

describe('decodeTagging', () => {
  it('reads tags; Value may be empty or absent', () => {
    expect(
      decodeTagging(
        tagDoc([
          ['env', 'prod'],
          ['team', 'a&amp;b'],
          ['empty', ''],
        ]),
      ),
    ).toEqual({ env: 'prod', team: 'a&b', empty: '' });
    expect(decodeTagging('<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>')).toEqual({ k: '' });
  });

  it('an empty TagSet is no tags', () => {
    expect(decodeTagging('<Tagging><TagSet/></Tagging>')).toEqual({});
    expect(decodeTagging('<Tagging><TagSet></TagSet></Tagging>')).toEqual({});
  });

  it('key of 128 and value of 256 characters are accepted; 129 / 257 are InvalidTag', () => {
    const k128 = 'k'.repeat(128);
    const v256 = 'v'.repeat(256);
    expect(decodeTagging(tagDoc([[k128, v256]]))).toEqual({ [k128]: v256 });
    expect(codeOf(() => decodeTagging(tagDoc([['k'.repeat(129), 'v']])))).toBe('InvalidTag');
    expect(codeOf(() => decodeTagging(tagDoc([['k', 'v'.repeat(257)]])))).toBe('InvalidTag');
  });

  it('limits count Unicode characters, not UTF-16 code units', () => {
    const k = '😀'.repeat(128);
    const v = '😀'.repeat(256);
    expect(decodeTagging(tagDoc([[k, v]]))).toEqual({ [k]: v });
  });

  it('10 tags are accepted, 11 are InvalidTag', () => {
    const tags = Array.from({ length: 11 }, (_, i): [string, string] => [`k${i}`, `v${i}`]);
    expect(Object.keys(decodeTagging(tagDoc(tags.slice(0, 10))))).toHaveLength(10);
    expect(codeOf(() => decodeTagging(tagDoc(tags)))).toBe('InvalidTag');
  });

  it('an empty or missing key, or a duplicate key, is InvalidTag', () => {
    expect(codeOf(() => decodeTagging(tagDoc([['', 'v']])))).toBe('InvalidTag');
    expect(codeOf(() => decodeTagging('<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>'))).toBe(
      'InvalidTag',
    );
    expect(
      codeOf(() =>
        decodeTagging(
          tagDoc([
            ['k', '1'],
            ['k', '2'],
          ]),
        ),
      ),
    ).toBe('InvalidTag');
  });

  it('keys named like Object.prototype members are ordinary keys', () => {
    expect(
      decodeTagging(
        tagDoc([
          ['constructor', 'a'],
          ['toString', 'b'],
          ['hasOwnProperty', 'c'],
        ]),
      ),
    ).toEqual({ constructor: 'a', toString: 'b', hasOwnProperty: 'c' });
  });

  it('refuses another root element', () => {
    expect(codeOf(() => decodeTagging('<Tags><TagSet/></Tags>'))).toBe('MalformedXML');
  });
});

describe('decodeServerSideEncryptionConfiguration', () => {
  it('reads the first rule', () => {
    const xml = `<ServerSideEncryptionConfiguration${NS}><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>crn:v1:k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`;
    expect(decodeServerSideEncryptionConfiguration(xml)).toEqual({ algorithm: 'aws:kms', kmsKeyId: 'crn:v1:k' });
  });

  it('KMSMasterKeyID is optional; SSEAlgorithm is required', () => {
    expect(
      decodeServerSideEncryptionConfiguration(
        '<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>',
      ),
    ).toEqual({ algorithm: 'AES256', kmsKeyId: undefined });
    expect(
      codeOf(() =>
        decodeServerSideEncryptionConfiguration(
          '<ServerSideEncryptionConfiguration><Rule/></ServerSideEncryptionConfiguration>',
        ),
      ),
    ).toBe('MalformedXML');
    expect(codeOf(() => decodeServerSideEncryptionConfiguration('<ServerSideEncryptionConfiguration/>'))).toBe(
      'MalformedXML',
    );
  });
});
